"""`invoke buildkit.*`: the stack's BuildKit service as a builder the team shares."""

from __future__ import annotations

from invoke.context import Context

from tasks.contract import present, task
from tasks.errors import Failure, UsageError
from tasks.outcome import Outcome


@task(
    name="certs",
    iterable=["host"],
    help={
        "days": "how long the certificates are valid",
        "host": "another name or IP address the server is reached by (repeatable)",
        "json": "print JSON",
    },
)
def buildkit_certs(c: Context, days: int = 365, host: list[str] | None = None,
                   json: bool = False) -> None:  # fmt: skip
    """Make the mutual-TLS certificates of the BuildKit service (compose profile `buildkit`).

    The service listens on TCP only with them: a private CA, the server's certificate (for
    localhost, 127.0.0.1, the service's name, hostname and static addresses in the compose
    file, and each --host) and a client certificate, in
    .devcontainer/containers/buildx/certs/ (gitignored). Prints how to use the service as a
    remote builder. Existing certificates are never replaced.
    """
    from tasks.model.stack import load_stack
    from tasks.report import REPO_ROOT
    from tasks.workflows.buildkitcerts import CertError, make_certs, server_names

    if days < 1:
        raise UsageError(f"--days {days}: give a number of days, 1 or more")
    try:
        names = server_names(load_stack(REPO_ROOT).compose)
        folder = make_certs(REPO_ROOT / ".devcontainer", days, tuple(host or ()), names)
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    except CertError as error:
        raise Failure(str(error)) from None
    client = folder / "client"
    create = (
        "docker buildx create --name mcp-buildkit --driver remote "
        f"--driver-opt cacert={client}/ca.pem,cert={client}/cert.pem,key={client}/key.pem "
        "tcp://HOST:1234"
    )
    data = {"folder": str(folder), "client": str(client), "create": create, "days": days}
    views = [
        f"certificates in {folder} (valid {days} days)",
        "start the service: invoke stack.up --profile buildkit",
        f"use it as a builder (HOST: this machine's name or address): {create}",
    ]
    present(Outcome(data, views), json)
