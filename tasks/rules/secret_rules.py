"""Secrets: no values committed, none baked into image layers. Values are never printed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.model.dockerfile import parse_env_instruction
from tasks.model.masks import is_secret_name
from tasks.model.stack import Stack
from tasks.rules.base import Hit, Severity, rule
from tasks.rules.context import server_runs

_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$|^\$\{(?:localEnv|env|input):[^}]+\}$")
_DEFAULT = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(?P<default>[^}]+)\}")
_FIX = (
    "keep the value out of the repo: compose secrets / ${VAR} from the shell or the gitignored .env"
)


def _is_literal_secret(value: str | None) -> bool:
    """A non-empty value that is not a reference or a path to a secret file."""
    if not value:
        return False
    if _REFERENCE.match(value) or value.startswith("/run/secrets/"):
        return False
    match = _DEFAULT.search(value)
    return bool(match) or "${" not in value


@rule("SEC001", "secret value committed", Severity.ERROR)
def committed_values(stack: Stack) -> Iterator[Hit]:
    """Passwords, tokens and keys never have values (or defaults) in committed files."""
    for env_file in {stack.env.path: stack.env, **stack.env_files}.values():
        for entry in env_file.entries:
            if is_secret_name(entry.key) and _is_literal_secret(entry.value):
                yield Hit(env_file.path, entry.line, f"{entry.key} has a value", _FIX)
    raw_services: dict[str, Any] = stack.compose.doc.data.get("services") or {}
    for name, spec in raw_services.items():
        env = (spec or {}).get("environment") or {}
        items = env.items() if isinstance(env, dict) else (str(e).partition("=")[::2] for e in env)
        for key, value in items:
            if is_secret_name(str(key)) and _is_literal_secret(
                None if value is None else str(value)
            ):
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", name, "environment", key)
                    or stack.compose.line("services", name, "environment"),
                    f"service {name}: {key} has a literal value or default",
                    _FIX,
                )
    for dockerfile in stack.dockerfiles.values():
        for ins in dockerfile.instructions():
            pairs = (
                parse_env_instruction(ins.value)
                if ins.keyword == "ENV"
                else dict([ins.value.partition("=")[::2]])
                if ins.keyword == "ARG"
                else {}
            )
            for key, value in pairs.items():
                if is_secret_name(key.strip()) and _is_literal_secret(value.strip().strip('"')):
                    yield Hit(
                        dockerfile.path,
                        ins.line,
                        f"{ins.keyword} {key.strip()} bakes a secret into the image",
                        "pass it at run time, or as a BuildKit secret while building",
                    )
    for manifest in stack.manifests.values():
        for key in manifest.env:
            if is_secret_name(key):
                yield Hit(
                    manifest.path,
                    manifest.doc.line_of("env", key),
                    f"{key} is in env:, where values are committed",
                    "list it under secrets: (passed by reference)",
                )
    for run in server_runs(stack):
        if run.kind == "manifest":
            continue
        for key, value in run.env.items():
            if is_secret_name(key) and _is_literal_secret(value):
                yield Hit(
                    run.path,
                    run.line,
                    f"server {run.name}: {key} has a literal value",
                    "use ${input:...} in .vscode/mcp.json or ${localEnv:VAR}",
                )


_TOKENS = re.compile(
    r"ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|AKIA[0-9A-Z]{16}|"
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|xox[bpas]-[A-Za-z0-9-]{10,}"
)
_TEXT_SUFFIXES = {
    ".yml",
    ".yaml",
    ".json",
    ".env",
    ".md",
    ".toml",
    ".conf",
    ".cnf",
    ".sh",
    ".ps1",
    ".example",
    "",
}


def _text_files(stack: Stack) -> Iterator[Path]:
    for path in sorted(stack.folder.rglob("*")):
        parts = set(path.relative_to(stack.folder).parts)
        if path.is_file() and path.suffix in _TEXT_SUFFIXES and ".git" not in parts:
            yield path
    for client in stack.clients:
        yield client.path


@rule("SEC002", "credential pattern in a file", Severity.ERROR)
def token_patterns(stack: Stack) -> Iterator[Hit]:
    """GitHub tokens, AWS keys, Slack tokens and private keys are recognised by shape."""
    for path in _text_files(stack):
        if path.name == ".env":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if _TOKENS.search(line):
                yield Hit(
                    path,
                    number,
                    "a credential is written in this file",
                    "remove it, revoke it, and pass it by reference",
                )


_SECRET_FILES = re.compile(
    r"\.(pem|crt|key|p12|pfx)$|(^|/)(id_rsa|id_ed25519|\.env|\.netrc|\.npmrc)$"
)


@rule("SEC003", "certificate, key or env file copied into an image layer", Severity.ERROR)
def copied_secrets(stack: Stack) -> Iterator[Hit]:
    """CA bundles and credentials go in as BuildKit secrets (`--mount=type=secret`)."""
    for dockerfile in stack.dockerfiles.values():
        for ins in dockerfile.instructions():
            if ins.keyword not in ("COPY", "ADD"):
                continue
            sources = ins.value.split()[:-1]
            if any(_SECRET_FILES.search(source) for source in sources):
                yield Hit(
                    dockerfile.path,
                    ins.line,
                    f"{ins.keyword} puts a certificate, key or env file into a layer",
                    "RUN --mount=type=secret,id=NAME ... and pass --secret at build time",
                )
