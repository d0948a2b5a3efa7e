"""Package compatibility with the free-threaded interpreter: environments read from the stack,
wheel kinds, uv's answers, build failures, and the report's decisions (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.compat.environments import (
    LIBRARY,
    Environment,
    _fill,
    discover,
    library_environment,
    pip_installs,
    read_requirements,
)
from tasks.compat.install import Checked, build_failure
from tasks.compat.lock import (
    ABI3,
    NO_ABI,
    PURE,
    SDIST,
    Locked,
    LockError,
    read_lock,
    wheel_kind,
)
from tasks.compat.report import (
    NOT_CHECKED,
    EnvironmentReport,
    Report,
    Row,
    changes,
    environment_report,
    markdown,
    problems,
)
from tasks.compat.resolve import Resolution, explain, needs_source
from tasks.compat.servers import ServerVerdict, server_spec, verdict
from tasks.compat.servers import markdown as servers_markdown
from tasks.errors import StackError
from tasks.model.dockerfile import load_dockerfile
from tasks.model.stack import load_stack
from tasks.servers.probe import ProbeResult
from tests.clirun import REPO
from tests.ministack import MiniStack

# --- environments -------------------------------------------------------------------------


def test_pip_install_lines_of_a_run_command() -> None:
    command = (
        "if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \\\n"
        "    && python3 -m venv /opt/x \\\n"
        '    && /opt/x/bin/pip install "mcp-server-fetch==${V}" other>=1 \\\n'
        "    && /opt/x/bin/pip install --no-deps --quiet -r /tmp/r.txt pinned==1.0; "
        "python3 -m pip install --constraint c.txt tool && pip3 install --requirement=/a.txt"
        " && /opt/ft/bin/python3.13t -m pip install ft==2"
        " && pip install --requirement=/b.txt after"
    )
    found = pip_installs(command)
    assert [(i.venv, i.requirements, i.files, i.no_deps) for i in found] == [
        ("/opt/x", ("mcp-server-fetch==${V}", "other>=1"), (), False),
        ("/opt/x", ("pinned==1.0",), ("/tmp/r.txt",), True),
        ("", ("tool",), (), False),
        ("", (), ("/a.txt",), False),
        ("/opt/ft", ("ft==2",), (), False),
        ("", ("after",), ("/b.txt",), False),
    ]
    assert pip_installs("apt-get install -y pip && npm install -g x") == []


def test_an_editable_or_index_install_is_refused() -> None:
    with pytest.raises(ValueError, match="--index-url"):
        pip_installs("pip install --index-url https://mirror/simple x")
    with pytest.raises(ValueError, match="-e"):
        pip_installs("/opt/v/bin/pip install -e .")


def test_the_repository_environments_come_from_their_files() -> None:
    found = {env.name: env for env in discover(load_stack(REPO))}
    assert set(found) == {
        LIBRARY, "devcontainer", "python-experimental", "fetch", "git", "postgres-mcp",
        "mariadb-mcp", "bridge", "mcp-exporter",
    }  # fmt: skip
    library = library_environment(REPO / "pyproject.toml")
    assert found[LIBRARY] == library and "jsonschema>=4.18" in library.requirements
    assert found["devcontainer"].requirements == ("pytest", "ruff")
    assert found["devcontainer"].free_threaded and found["python-experimental"].empty
    fetch = load_dockerfile(REPO / ".devcontainer/mcp/fetch/Dockerfile")
    arg = next(i for i in fetch.final.of("ARG") if i.value.startswith("MCP_SERVER_FETCH"))
    assert found["fetch"].requirements == (f"mcp-server-fetch=={arg.value.partition('=')[2]}",)
    assert found["fetch"].command == "mcp-server-fetch" and not found["fetch"].free_threaded
    postgres = found["postgres-mcp"]
    requirements = (REPO / ".devcontainer/mcp/postgres/requirements.txt").read_text()
    assert "psycopg[binary]>=3.2.6" in requirements
    assert "psycopg[binary]>=3.2.6" in postgres.requirements
    assert postgres.no_deps[0].startswith("postgres-mcp==")
    # The image runs the venv's python on serve.py (which sets the allowed hosts, then starts
    # postgres-mcp); the relay's server is what the other images run.
    assert (postgres.command, postgres.script) == (
        "python",
        REPO / ".devcontainer/mcp/postgres/serve.py",
    )
    assert found["git"].command == "mcp-server-git" and found["git"].script is None
    assert found["bridge"].requirements[0].startswith("mcp-proxy==")
    assert found["bridge"].command == "mcp-proxy"
    assert found["mariadb-mcp"].requirements[0].startswith("mysql-mcp-server[sse]==")
    assert found["mariadb-mcp"].command == "mysql_mcp_server"


PIP_DOCKERFILE = """\
ARG BASE_IMAGE=postgres:17
FROM ${BASE_IMAGE}
ARG TOOL_VERSION=1.2.3
COPY reqs.txt /tmp/reqs.txt
RUN python3 -m venv /opt/tool && /opt/tool/bin/pip install -r /tmp/reqs.txt "tool==${TOOL_VERSION}"
"""


def _environments(mini: MiniStack, dockerfile: str, reqs: str = "a>=1\n") -> list[Environment]:
    mini.put("containers/db/Dockerfile", dockerfile)
    mini.put("containers/db/reqs.txt", reqs)
    mini.put_root(
        "pyproject.toml",
        '[project]\nname = "x"\ndependencies = ["b"]\n[project.optional-dependencies]\ndev = []\n',
    )
    return discover(load_stack(mini.root))


def test_an_image_pip_install_reads_its_args_and_copied_files(mini: MiniStack) -> None:
    found = {env.name: env for env in _environments(mini, PIP_DOCKERFILE)}
    assert found["db"].requirements == ("tool==1.2.3", "a>=1")
    into_folder = PIP_DOCKERFILE.replace("COPY reqs.txt /tmp/reqs.txt", "COPY reqs.txt /tmp/")
    found = {env.name: env for env in _environments(mini, into_folder)}
    assert found["db"].requirements == ("tool==1.2.3", "a>=1")
    assert found["db"].source.endswith("containers/db/Dockerfile (/opt/tool)")
    assert found[LIBRARY].requirements == ("b",)


@pytest.mark.parametrize(
    ("dockerfile", "problem", "line", "fix"),
    [
        (PIP_DOCKERFILE.replace("COPY reqs.txt /tmp/reqs.txt", "COPY reqs.txt /tmp/other.txt"),
         "pip install -r /tmp/reqs.txt: no COPY earlier in the stage puts it there", 5,
         "COPY the requirements file to /tmp/reqs.txt before this RUN"),
        (PIP_DOCKERFILE.replace("COPY reqs.txt /tmp/reqs.txt\n", "")
         + "COPY reqs.txt /tmp/reqs.txt\n",
         "pip install -r /tmp/reqs.txt: no COPY earlier in the stage puts it there", 4,
         "COPY the requirements file to /tmp/reqs.txt before this RUN"),
        (PIP_DOCKERFILE.replace("TOOL_VERSION=1.2.3", "OTHER=1"),
         "pip install names ${TOOL_VERSION}, which no ARG before it defines", 5,
         "declare ARG TOOL_VERSION=VERSION before the RUN"),
        (PIP_DOCKERFILE.replace("pip install", "pip install -e"),
         "pip install -e is not modelled by the compatibility check", 5,
         "install from PyPI by name and version"),
    ],
)  # fmt: skip
def test_a_pip_install_the_check_cannot_read_is_one_error(
    mini: MiniStack, dockerfile: str, problem: str, line: int, fix: str
) -> None:
    with pytest.raises(StackError) as caught:
        _environments(mini, dockerfile)
    assert caught.value.problem == problem and caught.value.fix == fix
    assert caught.value.line == line and caught.value.path.name == "Dockerfile"
    assert caught.value.key == "RUN"


def test_a_requirements_file_with_options_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("# pins\nattrs>=25  # inline\n\n--index-url https://x\n")
    with pytest.raises(StackError) as caught:
        read_requirements(path)
    assert caught.value.line == 4
    assert caught.value.problem == (
        "option line '--index-url https://x' is not supported by the compatibility check"
    )
    assert caught.value.fix == "list requirements only (one per line)"
    path.write_text("# pins\nattrs>=25  # inline # twice\n\npsycopg[binary]>=3\n")
    assert read_requirements(path) == ["attrs>=25", "psycopg[binary]>=3"]
    path.write_bytes(b"attrs\n\xfe\n")
    with pytest.raises(StackError) as caught:
        read_requirements(path)
    assert caught.value.problem == "requirements file is not UTF-8: byte 0xfe at column 1"


def test_a_malformed_expansion_in_a_pip_install_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\nRUN pip install tool\n")
    run = load_dockerfile(path).stages[0].of("RUN")[0]
    with pytest.raises(StackError) as refused:
        _fill("tool==${x y}", {}, path, run)
    assert (refused.value.problem, refused.value.line, refused.value.key) == (
        "invalid interpolation format ${x y}",
        2,
        "RUN",
    )
    assert (
        refused.value.fix
        == "write ${NAME}, ${NAME:-default} or ${NAME:?message}; a literal $ is $$"
    )
    assert _fill("tool==${V}", {"V": "2"}, path, run) == "tool==2"


def test_a_pyproject_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[project]\nname = '\xff'\n")
    with pytest.raises(StackError) as refused:
        library_environment(path)
    assert refused.value.problem == "pyproject.toml is not UTF-8: byte 0xff at column 9"
    assert refused.value.line == 2


def test_a_pyproject_without_a_dev_extra_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\ndependencies = []\n')
    with pytest.raises(StackError, match="dev extra"):
        library_environment(path)
    path.write_text("[project\n")
    with pytest.raises(StackError, match=r"pyproject\.toml"):
        library_environment(path)


# --- wheel kinds and locks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("rpds_py-2026.5.1-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         "cp313t"),
        ("pydantic_core-2.41.4-cp314-cp314t-musllinux_1_1_x86_64.whl", "cp314t"),
        ("cryptography-46.0.0-cp311-abi3-manylinux_2_34_x86_64.whl", ABI3),
        ("six-1.17.0-py2.py3-none-any.whl", PURE),
        ("ruff-0.17.6-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", NO_ABI),
        ("pyyaml-6.0.3-cp313-cp313-manylinux2014_x86_64.whl", "cp313"),
        ("pyyaml-6.0.4.tar.gz", SDIST),
        ("broken.whl", SDIST),
    ],
)  # fmt: skip
def test_wheel_kinds(filename: str, kind: str) -> None:
    assert wheel_kind(filename) == kind


LOCK = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.13"

[[packages]]
name = "PyYAML"
version = "6.0.4"
sdist = { url = "https://files.example/pyyaml-6.0.4.tar.gz" }

[[packages]]
name = "rpds_py"
version = "2026.5.1"
sdist = { url = "https://files.example/rpds_py-2026.5.1.tar.gz" }
wheels = [{ url = "https://files.example/rpds_py-2026.5.1-cp313-cp313t-manylinux_2_17_x86_64.whl" }]
"""


def test_a_lock_gives_each_package_and_the_artifact_the_interpreter_installs() -> None:
    assert read_lock(LOCK, "pylock.toml") == [
        Locked("pyyaml", "6.0.4", SDIST, "pyyaml-6.0.4.tar.gz"),
        Locked(
            "rpds-py",
            "2026.5.1",
            "cp313t",
            "rpds_py-2026.5.1-cp313-cp313t-manylinux_2_17_x86_64.whl",
        ),
    ]


def test_a_locked_package_without_a_file_or_with_a_bare_name() -> None:
    text = (
        '[[packages]]\nname = "Odd_Name"\nversion = "1"\n'
        '[[packages]]\nname = "bare"\nversion = "2"\nsdist = { url = "bare-2.tar.gz" }\n'
    )
    assert read_lock(text, "pylock.toml") == [
        Locked("bare", "2", SDIST, "bare-2.tar.gz"),
        Locked("odd-name", "1", SDIST, ""),
    ]


@pytest.mark.parametrize("text", ["[[packages]]\nversion = 1\n", "not toml [", "a = 1\n"])
def test_a_lock_uv_did_not_write_is_one_error(text: str) -> None:
    with pytest.raises(LockError, match=r"pylock\.x\.toml"):
        read_lock(text, "pylock.x.toml")


UV_NO_WHEEL = """\
  x No solution found when resolving dependencies:
  `-> Because pyyaml>=6.0 has no usable wheels and you require pyyaml>=6.0, we can conclude
      that your requirements are unsatisfiable.

      hint: Wheels are required for `PyYAML` because building from source is disabled for all
      packages (i.e., with `--no-build`)
"""


def test_uv_names_the_package_that_needs_its_sdist() -> None:
    assert needs_source(UV_NO_WHEEL) == "pyyaml"
    assert needs_source("error: Failed to fetch: `https://pypi.org/simple/x/`") is None
    assert explain(UV_NO_WHEEL).startswith("x No solution found")
    assert "hint" not in explain(UV_NO_WHEEL)
    assert explain("") == "uv pip compile failed"
    assert explain(
        "  x No solution found\n  hint: Wheels are required for a\n  cause: b needs c"
    ) == ("x No solution found b needs c")
    assert explain("error: No solution found\nhint: a hint only\n") == (
        "error: No solution found hint: a hint only"
    )


# --- sdist builds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        ("warning: spurious network error: Could not resolve host: index.crates.io\n"
         "error: failed to get `archery` as a dependency", "needs crates.io"),
        ("error: can't find Rust compiler", "needs a Rust toolchain"),
        ("src/x.c:3:10: fatal error: libxml/xpath.h: No such file or directory",
         "needs the C header libxml/xpath.h"),
        ("ERROR: could not get https://download.savannah.nongnu.org/releases/freetype/x.tar.xz;"
         " is the internet available?", "downloads from https://download.savannah.nongnu.org"),
        ("Traceback (most recent call last):\n  File x\n         RuntimeError: CFFI does not "
         "support the free-threaded build of CPython 3.13.\nhint: Build failures usually",
         "RuntimeError: CFFI does not support the free-threaded build of CPython 3.13."),
        ("something\nerror: Failed to build `x==1`\n", "error: Failed to build `x==1`"),
        ("  OSError: no compiler\nsee the error log above\n", "OSError: no compiler"),
        ("", "the build failed"),
    ],
)  # fmt: skip
def test_why_an_sdist_did_not_build(log: str, reason: str) -> None:
    assert build_failure(log).startswith(reason)


def test_an_sdists_reason_is_300_characters_at_most() -> None:
    assert build_failure("ValueError: " + "v" * 400) == ("ValueError: " + "v" * 400)[:300]
    assert build_failure("error: " + "e" * 400) == ("error: " + "e" * 400)[:300]


# --- the report ---------------------------------------------------------------------------


def _env(name: str, free_threaded: bool = True) -> Environment:
    return Environment(name, f"{name}/Dockerfile", ("x",), free_threaded)


def _resolution(name: str, free_threaded: bool = True) -> Resolution:
    packages = (
        Locked("gilprobe", "0.1", "cp313t", "gilprobe-0.1-cp313-cp313t-linux_x86_64.whl"),
        Locked("pyyaml", "6.0.4", SDIST, "pyyaml-6.0.4.tar.gz"),
        Locked("rpds-py", "2026.5.1", "cp313t", "rpds_py-2026.5.1-cp313-cp313t-x.whl"),
    )
    return Resolution(_env(name, free_threaded), packages, {"rpds-py": "2026.9.1"})


CHECKED = {
    "gilprobe": Checked(True, "", True, True, "gilprobe._speedups", ""),
    "pyyaml": Checked(True, "", True, False),
    "rpds-py": Checked(True, "", True, False),
}


def test_the_report_covers_every_resolved_package() -> None:
    report = environment_report(_resolution("library"), CHECKED)
    assert report.resolved == len(report.rows) == 3
    rows = {row.name: row for row in report.rows}
    assert rows["rpds-py"] == Row(
        "rpds-py", "2026.5.1", "cp313t", "2026.9.1", "installed", True, False
    )
    assert rows["pyyaml"].kind == SDIST
    unchecked = environment_report(_resolution("library"), None)
    assert {row.install for row in unchecked.rows} == {NOT_CHECKED}
    assert problems(Report("3.13.15t", (unchecked,))) == []


def test_a_needed_package_that_turns_the_gil_on_fails_naming_package_and_module() -> None:
    report = Report("3.13.15t", (environment_report(_resolution("library"), CHECKED),))
    assert problems(report) == [
        "library: gilprobe 0.1 re-enables the GIL (module gilprobe._speedups)"
    ]
    candidate = Report("3.13.15t", (environment_report(_resolution("fetch", False), CHECKED),))
    assert problems(candidate) == []


def test_a_needed_package_that_does_not_build_or_import_fails() -> None:
    checked = {
        **CHECKED,
        "gilprobe": Checked(False, "needs crates.io (its Rust crates)"),
        "pyyaml": Checked(True, "", False, False, "", "yaml: ImportError: x"),
    }
    unresolved = Resolution(_env("devcontainer"), error="psycopg-binary has no wheels")
    report = Report(
        "3.13.15t",
        (environment_report(_resolution("library"), checked), environment_report(unresolved, None)),
    )
    assert problems(report) == [
        "library: gilprobe 0.1 is not installed: needs crates.io (its Rust crates)",
        "library: pyyaml 6.0.4 does not import: yaml: ImportError: x",
        "devcontainer: cannot be resolved: psycopg-binary has no wheels",
    ]


def test_the_diff_names_a_package_that_started_turning_the_gil_on() -> None:
    before = {**CHECKED, "gilprobe": Checked(True, "", True, False)}
    previous = Report("3.13.15t", (environment_report(_resolution("library"), before),)).to_json()
    previous["environments"][0]["rows"].append({"name": "gone", "version": "1"})
    previous["environments"][0]["rows"][1]["version"] = "6.0.3"
    current = Report("3.13.15t", (environment_report(_resolution("library"), CHECKED),))
    assert changes(previous, current) == [
        "library: gilprobe 0.1 started re-enabling the GIL (module gilprobe._speedups)",
        "library: pyyaml 6.0.3 -> 6.0.4",
        "library: gone is gone",
    ]
    assert changes(
        current.to_json(), Report("3.13.15t", (environment_report(_resolution("library"), before),))
    ) == ["library: gilprobe 0.1 no longer re-enables the GIL"]
    assert changes(None, current) == []
    assert changes(current.to_json(), current) == []
    fresh = {"environments": [{"name": "library", "rows": []}]}
    assert changes(fresh, current) == [
        "library: gilprobe 0.1 started re-enabling the GIL (module gilprobe._speedups)",
        "library: gilprobe 0.1 is new",
        "library: pyyaml 6.0.4 is new",
        "library: rpds-py 2026.5.1 is new",
    ]


def test_an_environments_section_in_the_markdown_report() -> None:
    env = _env("library")
    package = Locked("tool", "1.0", PURE, "tool-1.0-py3-none-any.whl")
    checked = {"tool": Checked(True, "", None, False, "", "")}
    report = Report("3.14.6t", (environment_report(Resolution(env, (package,)), checked),))
    text = markdown(report)
    section = text[text.index("## library") :]
    assert section.splitlines() == [
        "## library",
        "",
        f"Declared in `{env.source}`.",
        "",
        "| package | version | newest | wheel | install | imports | GIL off | detail |",
        "|---|---|---|---|---|---|---|---|",
        "| tool | 1.0 |  | pure | installed | no module | yes |  |",
    ]
    assert "## Changes since the last run\n\n- none (or no earlier run)\n" in text


def test_the_markdown_report_has_a_summary_changes_and_a_table_per_environment() -> None:
    empty = EnvironmentReport("python-experimental", "Dockerfile", True, 0, ())
    unresolved = environment_report(Resolution(_env("postgres-mcp", False), error="no wheel"), None)
    report = Report(
        "3.13.15t",
        (environment_report(_resolution("library"), CHECKED), empty, unresolved),
        ("library: gilprobe 0.1 started re-enabling the GIL (module gilprobe._speedups)",),
    )
    text = markdown(report)
    assert text.splitlines()[:4] == [
        "# Free-threaded compatibility (3.13.15t)",
        "",
        "| environment | runs free-threaded today | resolved | in report | GIL re-enabled by |",
        "|---|---|---|---|---|",
    ]
    assert (
        "\n| package | version | newest | wheel | install | imports | GIL off | detail |\n"
        "|---|---|---|---|---|---|---|---|\n"
    ) in text
    assert "| library | yes | 3 | 3 | gilprobe |" in text
    assert "| postgres-mcp | no | unresolvable | 0 |  |" in text
    unchecked = Report("3.13.15t", (environment_report(_resolution("fetch", False), None),))
    assert "| fetch | no | 3 | 3 | not checked |" in markdown(unchecked)
    assert "- library: gilprobe 0.1 started re-enabling the GIL" in text
    assert "| gilprobe | 0.1 |  | cp313t | installed | yes | **no** gilprobe._speedups |" in text
    assert "| rpds-py | 2026.5.1 | 2026.9.1 | cp313t | installed | yes | yes |" in text
    assert "Cannot be resolved for this interpreter: no wheel" in text
    assert "## python-experimental" in text and "No packages." in text
    assert "## python-experimental\n\nDeclared in `Dockerfile`.\n\nNo packages.\n" in text
    tail = text[text.index("## Changes since the last run") - 1 :]
    assert tail.startswith(
        "\n## Changes since the last run\n\n"
        "- library: gilprobe 0.1 started re-enabling the GIL (module gilprobe._speedups)\n"
    )
    assert (
        "## postgres-mcp\n\nDeclared in `postgres-mcp/Dockerfile`.\n\n"
        "Cannot be resolved for this interpreter: no wheel\n"
    ) in text


# --- the servers ----------------------------------------------------------------------------


def test_a_stdio_server_runs_from_its_venv_with_the_manifest_call_on_the_host() -> None:
    stack = load_stack(REPO)
    git = next(env for env in discover(stack) if env.name == "git")
    spec = server_spec(git, Path("/v"), stack.manifests["git"], Path("/repo"), "http://p/", 9.0)
    assert spec is not None and spec.command == "/v/bin/mcp-server-git"
    assert spec.args == ("--repository", "/repo") and spec.env == {"PYTHON_GIL": "0"}
    assert spec.call is not None and spec.call.arguments["repo_path"] == "/repo"
    assert (spec.call.tool, spec.call.expect, spec.timeout) == ("git_log", "Commit", 9.0)
    fetch = next(env for env in discover(stack) if env.name == "fetch")
    spec = server_spec(fetch, Path("/v"), stack.manifests["fetch"], Path("/r"), "http://p/", 9.0)
    assert spec is not None and spec.args == ("--allow-private-ips",)
    assert spec.call is not None and spec.call.arguments == {"url": "http://p/"}
    postgres = next(env for env in discover(stack) if env.name == "postgres-mcp")
    spec = server_spec(postgres, Path("/v"), None, Path("/r"), "", 9.0)
    assert spec is not None and spec.command == "/v/bin/python" and spec.timeout == 9.0
    assert spec.args == (str(postgres.script), "--access-mode=restricted", "--transport=stdio")
    maria = next(env for env in discover(stack) if env.name == "mariadb-mcp")
    spec = server_spec(maria, Path("/v"), None, Path("/r"), "", 9.0)
    assert spec is not None and spec.command == "/v/bin/mysql_mcp_server"
    assert spec.env["MYSQL_HOST"] == "127.0.0.1" and spec.env["PYTHON_GIL"] == "0"
    assert server_spec(_env("library"), Path("/v"), None, Path("/r"), "", 9.0) is None


def _probed(ok: bool, error: str = "") -> ProbeResult:
    return ProbeResult("s", ok, "server", "1.0", "2025-06-18", 3, 10.0, [1.0], 1, error)


def test_a_database_server_that_answers_is_noted_as_run_without_a_database() -> None:
    clean = {"a": Checked(True, "", True, False)}
    note = "the call ran with no database behind it and was answered without an error flag"
    assert verdict("postgres-mcp", _probed(True), clean) == ServerVerdict(
        "postgres-mcp", True, True, True, 3, note
    )
    gil = {"a": Checked(True, "", True, True, "a._c")}
    assert verdict("mariadb-mcp", _probed(True), gil) == ServerVerdict(
        "mariadb-mcp", True, True, False, 3, "turns the GIL on without PYTHON_GIL=0: a (a._c)"
    )
    refused = verdict("postgres-mcp", _probed(False, "could not connect: refused"), clean)
    assert refused == ServerVerdict(
        "postgres-mcp",
        True,
        True,
        True,
        3,
        "the call failed with a database error (no database here): could not connect: refused",
    )


@pytest.mark.parametrize("word", ["connect", "Connection", "REFUSED", "can't", "could not", "2003"])
def test_each_database_error_word_counts_as_an_answer(word: str) -> None:
    found = verdict("s", _probed(False, f"x {word} y"), {})
    assert found.answers and found.gil_free
    assert found.detail == f"the call failed with a database error (no database here): x {word} y"


def test_a_server_that_did_not_answer_says_why() -> None:
    failed = verdict("s", _probed(False, "ServerExited: 1"), {})
    assert failed == ServerVerdict("s", True, False, False, 3, "ServerExited: 1")
    no_tools = ProbeResult("s", True, "server", "1.0", "2025-06-18", 0)
    assert verdict("s", no_tools, {}) == ServerVerdict("s", True, False, False, 0, "")
    nameless = ProbeResult("s", True, "", "1.0", "2025-06-18", 2)
    assert verdict("s", nameless, {}).answers is False
    missing = {"a": Checked(False, "needs x"), "b": Checked(False, "needs y")}
    assert verdict("s", None, missing) == ServerVerdict(
        "s", False, False, False, 0, "a (needs x); b (needs y)"
    )
    assert verdict("s", None, {}) == ServerVerdict("s", True, False, False, 0, "not started")
    both = verdict("s", _probed(False, "E" * 700), missing)
    assert both.detail == ("E" * 700 + "; not installed: a (needs x), b (needs y)")[:600]
    gil = {"c": Checked(True, "", True, True, "c._x"), "d": Checked(True, "", True, True, "d._y")}
    every = verdict("s", _probed(False, "ServerExited: 1"), {**missing, **gil})
    assert every.detail == (
        "ServerExited: 1; not installed: a (needs x), b (needs y); "
        "turns the GIL on without PYTHON_GIL=0: c (c._x), d (d._y)"
    )


def test_the_servers_page() -> None:
    verdicts = [
        ServerVerdict("git", True, True, True, 12, ""),
        ServerVerdict("pg", False, False, False, 0, "a | b\n c"),
    ]
    assert servers_markdown("3.14.6t", verdicts) == (
        "# Python MCP servers on free-threaded 3.14.6t (PYTHON_GIL=0)\n"
        "\n"
        "| server | answers the probe | tools | runs GIL-free | detail |\n"
        "|---|---|---|---|---|\n"
        "| git | yes | 12 | yes |  |\n"
        "| pg | **no** | 0 | **no** | a \\| b c |\n"
    )


def test_the_server_verdicts() -> None:
    clean = {"a": Checked(True, "", True, False)}
    assert verdict("s", _probed(True), clean) == ServerVerdict("s", True, True, True, 3, "")
    database = verdict("s", _probed(False, "tool returned an error: Connection refused"), clean)
    assert database.answers and database.gil_free and "database error" in database.detail
    gil = verdict("s", _probed(True), {"lxml": Checked(True, "", True, True, "lxml.etree")})
    assert gil.answers and not gil.gil_free and "lxml (lxml.etree)" in gil.detail
    missing = {"cryptography": Checked(False, "needs crates.io")}
    broken = verdict("s", _probed(False, "ServerExited: no module named cryptography"), missing)
    assert not broken.answers and not broken.installed
    assert "cryptography (needs crates.io)" in broken.detail
    unresolved = verdict("s", None, {}, "psycopg-binary has no wheels")
    assert unresolved == ServerVerdict("s", False, False, False, 0, "psycopg-binary has no wheels")
    assert "| s | **no** | 0 | **no** | psycopg-binary" in servers_markdown(
        "3.13.15t", [unresolved]
    )
