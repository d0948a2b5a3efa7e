"""How the compatibility check drives uv, against a recording `uv` that answers as uv does:
resolution wheels first with an sdist allowed for each package uv names, the newest versions
beside, and the exact installs with each build failure in a few words."""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import json
import sys
import sysconfig
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tasks.compat import importcheck
from tasks.compat import install as install_module
from tasks.compat import resolve as resolve_module
from tasks.compat import run as run_module
from tasks.compat.environments import Environment, discover
from tasks.compat.install import Checked, install
from tasks.compat.lock import SDIST, Locked
from tasks.compat.report import Report, changes, environment_report, markdown
from tasks.compat.resolve import ROUNDS, Resolution, resolve, wheels_first
from tasks.compat.servers import ServerVerdict
from tasks.compat.servers import markdown as servers_markdown
from tasks.model.stack import load_stack
from tasks.servers.probe import ProbeResult
from tests.clirun import REPO

FAKE_UV = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
plan = json.loads(open(os.environ["FAKE_UV_PLAN"]).read())
with open(os.environ["FAKE_UV_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] == ["pip", "compile"]:
    sourced = [a.split("=", 1)[1] for a in args if a.startswith("--no-binary=")]
    wheels_only = "--only-binary" in args
    missing = [p for p in plan.get("no_wheels", []) if p not in sourced]
    if plan.get("fail"):
        sys.stderr.write(plan["fail"])
        sys.exit(1)
    if plan.get("garbage"):
        open(args[args.index("-o") + 1], "w").write("packages = [")
        sys.exit(0)
    if wheels_only and missing:
        sys.stderr.write("  x No solution found\\n  hint: Wheels are required for `"
                         + missing[0] + "` because building from source is disabled\\n")
        sys.exit(1)
    versions = plan["pinned"] if wheels_only else plan["newest"]
    lines = ['lock-version = "1.0"']
    for name, version in versions.items():
        lines += ["[[packages]]", f'name = "{{name}}"', f'version = "{{version}}"']
        if name in sourced:
            lines.append(f'sdist = {{{{ url = "https://f/{{name}}-{{version}}.tar.gz" }}}}')
        else:
            wheel = f"https://f/{{name}}-{{version}}-cp313-cp313t-linux_x86_64.whl"
            lines.append(f'wheels = [{{{{ url = "{{wheel}}" }}}}]')
    out = args[args.index("-o") + 1]
    open(out, "w").write("\\n".join(lines) + "\\n")
    sys.exit(0)
if args[0] == "venv":
    if plan.get("venv"):
        sys.stdout.write(plan["venv"])
        sys.exit(1)
    os.makedirs(os.path.join(args[-1], "bin"))
    python = os.path.join(args[-1], "bin", "python")
    open(python, "w").write(open(os.environ["FAKE_PYTHON"]).read())
    os.chmod(python, 0o755)
    sys.exit(0)
if args[0] == "env":
    sys.stdout.write(os.environ.get("CARGO_NET_RETRY", "unset"))
    sys.exit(0)
if args[0] == "sleep":
    import time
    time.sleep(5)
if args[:2] == ["pip", "install"]:
    answer = plan.get("install", {{}}).get(args[-1], "")
    sys.stdout.write(answer)
    sys.exit(1 if answer else 0)
sys.exit(2)
"""

# whether this process runs with the GIL, and whether a fresh interpreter does (a free-threaded
# build starts without)
GIL = getattr(sys, "_is_gil_enabled", lambda: True)()
FRESH_GIL = not sysconfig.get_config_var("Py_GIL_DISABLED")


class Uv:
    """The recording uv: its plan and the commands it was given."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = folder / "uv"
        self.path.write_text(FAKE_UV)
        self.path.chmod(0o755)
        self.plan_file, self.log = folder / "plan.json", folder / "uv.log"
        monkeypatch.setenv("FAKE_UV_PLAN", str(self.plan_file))
        monkeypatch.setenv("FAKE_UV_LOG", str(self.log))
        self.plan({"pinned": {}, "newest": {}})

    def plan(self, plan: dict[str, Any]) -> None:
        self.plan_file.write_text(json.dumps(plan))

    @property
    def commands(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Uv:
    return Uv(tmp_path, monkeypatch)


ENV = Environment("fetch.server", "mcp/fetch/Dockerfile", ("mcp-server-fetch==1.0",), False)


def test_an_empty_environment_resolves_to_nothing(uv: Uv, tmp_path: Path) -> None:
    empty = Environment("python-experimental", "Dockerfile", (), True)
    assert resolve(str(uv.path), "python3.14t", empty, tmp_path / "w") == Resolution(empty)
    assert uv.commands == [] and not (tmp_path / "w").exists()


def test_the_locks_folder_is_made_with_its_parents(uv: Uv, tmp_path: Path) -> None:
    uv.plan({"pinned": {"mcp-server-fetch": "1.0"}, "newest": {"mcp-server-fetch": "1.0"}})
    found = resolve(str(uv.path), "py", ENV, tmp_path / "work" / "locks")
    assert [p.name for p in found.packages] == ["mcp-server-fetch"]
    assert (tmp_path / "work/locks/pylock.fetch-server.toml").is_file()


def test_the_tree_comes_from_wheels_beside_the_newest_versions(uv: Uv, tmp_path: Path) -> None:
    uv.plan(
        {
            "pinned": {"mcp-server-fetch": "1.0", "Rpds_Py": "2026.5.1"},
            "newest": {"mcp-server-fetch": "1.0", "Rpds_Py": "2026.9.1", "extra": "9"},
        }
    )
    work = tmp_path / "w"
    found = resolve(str(uv.path), "python3.14t", ENV, work)
    assert found == Resolution(
        ENV,
        (
            Locked(
                "mcp-server-fetch",
                "1.0",
                "cp313t",
                "mcp-server-fetch-1.0-cp313-cp313t-linux_x86_64.whl",
            ),
            Locked(
                "rpds-py", "2026.5.1", "cp313t", "Rpds_Py-2026.5.1-cp313-cp313t-linux_x86_64.whl"
            ),
        ),
        {"rpds-py": "2026.9.1"},
    )
    compile_ = ["pip", "compile", "--quiet", "--no-header", "--python", "python3.14t"]
    assert uv.commands == [
        [*compile_, "--only-binary", ":all:", "-o", str(work / "pylock.fetch-server.toml"),
         str(work / "fetch-server.in")],
        [*compile_, "-o", str(work / "pylock.fetch-server-newest.toml"), str(work / "fetch-server.in")],
    ]  # fmt: skip
    assert (work / "fetch-server.in").read_text() == "mcp-server-fetch==1.0\n"


def test_each_package_without_a_wheel_comes_from_its_sdist(uv: Uv, tmp_path: Path) -> None:
    uv.plan(
        {
            "no_wheels": ["psycopg", "rpds-py"],
            "pinned": {"psycopg": "3.2", "rpds-py": "1", "ok": "2"},
            "newest": {},
        }
    )
    packages, error = wheels_first(str(uv.path), "py", tmp_path / "a.in", tmp_path / "a.toml", [])
    assert error == "" and packages is not None
    assert {p.name: p.kind for p in packages} == {
        "ok": "cp313t",
        "psycopg": SDIST,
        "rpds-py": SDIST,
    }
    options = [
        [a for a in c if a.startswith("--no-binary") or a == "--only-binary"] for c in uv.commands
    ]
    assert options == [
        ["--only-binary"],
        ["--only-binary", "--no-binary=psycopg"],
        ["--only-binary", "--no-binary=psycopg", "--no-binary=rpds-py"],
    ]


def test_no_deps_requirements_resolve_alone(uv: Uv, tmp_path: Path) -> None:
    uv.plan(
        {"pinned": {"postgres-mcp": "0.3", "psycopg": "3.2"}, "newest": {"postgres-mcp": "0.4"}}
    )
    env = Environment("postgres-mcp", "Dockerfile", ("psycopg>=3",), False, ("postgres-mcp==0.3",))
    found = resolve(str(uv.path), "py", env, tmp_path)
    assert [p.name for p in found.packages] == ["postgres-mcp", "psycopg"]
    assert found.newest == {"postgres-mcp": "0.4"}
    assert [c[-3:] for c in uv.commands] == [
        ["-o", str(tmp_path / "pylock.postgres-mcp.toml"), str(tmp_path / "postgres-mcp.in")],
        ["-o", str(tmp_path / "pylock.postgres-mcp-newest.toml"), str(tmp_path / "postgres-mcp.in")],
        ["-o", str(tmp_path / "pylock.postgres-mcp-nodeps.toml"), str(tmp_path / "postgres-mcp-nodeps.in")],
        ["-o", str(tmp_path / "pylock.postgres-mcp-nodeps-newest.toml"), str(tmp_path / "postgres-mcp-nodeps.in")],
    ]  # fmt: skip
    assert all("--no-deps" in c for c in uv.commands[2:]) and "--no-deps" not in uv.commands[0]
    assert (tmp_path / "postgres-mcp-nodeps.in").read_text() == "postgres-mcp==0.3\n"


def test_a_resolution_that_fails_says_why_in_one_line(uv: Uv, tmp_path: Path) -> None:
    uv.plan(
        {
            "fail": "  x No solution found when resolving dependencies:\n  cause: foo>=2 was yanked. Then more.\n"
        }
    )
    found = resolve(str(uv.path), "py", ENV, tmp_path)
    assert found == Resolution(
        ENV, error="x No solution found when resolving dependencies: foo>=2 was yanked."
    )
    assert len(uv.commands) == 1


def test_a_package_uv_names_again_stops_the_rounds(
    uv: Uv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uv.plan({"no_wheels": ["a", "b", "c"], "pinned": {}, "newest": {}})
    monkeypatch.setattr(resolve_module, "ROUNDS", 2)
    packages, error = wheels_first(str(uv.path), "py", tmp_path / "a.in", tmp_path / "a.toml", [])
    assert (packages, error) == (None, "more than 2 packages have no wheel for this interpreter")
    assert len(uv.commands) == 2 and ROUNDS == 12
    uv.log.unlink()
    uv.plan(
        {
            "no_wheels": ["a"],
            "pinned": {},
            "newest": {},
            "fail": "hint: Wheels are required for `a` x\n",
        }
    )
    packages, error = wheels_first(str(uv.path), "py", tmp_path / "a.in", tmp_path / "a.toml", [])
    assert packages is None and error == "hint: Wheels are required for `a` x"
    assert len(uv.commands) == 2


def test_exact_versions_install_from_wheels_and_sdists_build_when_asked(uv: Uv) -> None:
    packages = (
        Locked("ok", "1", "cp313t", "ok-1-cp313-cp313t-x.whl"),
        Locked("native", "2", SDIST, "native-2.tar.gz"),
        Locked("rusty", "3", SDIST, "rusty-3.tar.gz"),
    )
    uv.plan({"install": {"rusty==3": "error: can't find Rust compiler\n"}})
    python = Path("/v/bin/python")
    assert install(str(uv.path), python, packages, build_sdists=True) == {
        "ok": "",
        "native": "",
        "rusty": "needs a Rust toolchain",
    }
    target = ["pip", "install", "--quiet", "--no-deps", "--python", "/v/bin/python"]
    assert uv.commands == [
        [*target, "--only-binary", ":all:", "ok==1"],
        [*target, "--no-binary=native", "native==2"],
        [*target, "--no-binary=rusty", "rusty==3"],
    ]
    assert install(str(uv.path), python, packages, build_sdists=False) == {
        "ok": "",
        "native": "not built (sdist builds were not asked for)",
        "rusty": "not built (sdist builds were not asked for)",
    }


def test_a_failed_wheel_install_fails_each_wheel_with_the_end_of_uvs_output(uv: Uv) -> None:
    wheels = (Locked("a", "1", "pure", "a.whl"), Locked("b", "2", "abi3", "b.whl"))
    uv.plan({"install": {"b==2": "x" * 400 + "  \n"}})
    found = install(str(uv.path), Path("/v/bin/python"), wheels, build_sdists=False)
    assert found == {"a": f"install failed: {'x' * 300}", "b": f"install failed: {'x' * 300}"}
    assert install_module.BUILD_ENV == {"CARGO_NET_RETRY": "0"}
    assert install_module.BUILD_TIMEOUT == 900


# ---------------------------------------------------------------- importing, with the GIL watched


def test_a_distributions_modules_come_from_its_record() -> None:
    assert importcheck.modules_of("PyYAML") == (["_yaml", "yaml"], ["yaml._yaml"])
    assert importcheck.modules_of("pluggy") == (["pluggy"], [])
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importcheck.modules_of("no-such-distribution")


def test_a_distributions_modules_skip_its_metadata_and_what_lies_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    files = [
        "",
        "single.py",
        "pkg/__init__.py",
        f"pkg/_speed{suffix}",
        f"_top{suffix}",
        "ns/sub/m.py",
        "pkg-1.0.dist-info/RECORD",
        "pkg-1.0.data/scripts/run.py",
        "../../bin/tool.py",
        "__pycache__/mod.cpython-311.pyc",
        "not-a-name/x.py",
        f"pkg/not-a-name{suffix}",
    ]

    class Distribution:
        def __init__(self, name: str) -> None:
            assert name == "dist"
            self.files = [PurePosixPath(f) for f in files]

    monkeypatch.setattr(importlib.metadata, "distribution", Distribution)
    assert importcheck.modules_of("dist") == (["_top", "ns", "pkg", "single"], ["pkg._speed"])


def test_a_check_imports_in_a_fresh_interpreter() -> None:
    found = importcheck.check("pluggy")
    assert found == {
        "name": "pluggy",
        "modules": ["pluggy"],
        "extensions": [],
        "imports": True,
        "gil_enabled": FRESH_GIL,
        "gil_module": "",
        "gil_by_dependency": False,
        "failed": {},
    }
    assert importcheck.check("no-such-distribution") == {
        "name": "no-such-distribution",
        "modules": [],
        "extensions": [],
        "imports": False,
        "gil_enabled": None,
        "gil_module": "",
        "failed": {"no-such-distribution": "not installed"},
        "gil_by_dependency": False,
    }


def test_the_child_stops_at_the_module_that_turned_the_gil_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = {
        "broken_one": "raise ValueError('bad value')",
        "leaving": "raise SystemExit(3)",
        "warned": "raise RuntimeWarning('something else')",
        "gil_on": 'raise RuntimeWarning("The global interpreter lock (GIL) has been enabled to '
        "load module 'gil_on._ext', which has not declared that it can run safely\")",
        "never_reached": "raise ValueError('not imported')",
    }
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(text + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = importcheck.child(list(modules))
    assert found["failed"] == {
        "broken_one": "ValueError: bad value",
        "leaving": "SystemExit: 3",
        "warned": "RuntimeWarning: something else",
        "gil_on": "RuntimeWarning: The global interpreter lock (GIL) has been enabled to load "
        "module 'gil_on._ext', which has not declared that it can run safely",
    }
    # (the stand-in raises the warning without turning the GIL on: it stays as it was)
    assert found["gil_module"] == "gil_on._ext"
    assert found["gil_enabled"] is GIL
    (tmp_path / "unnamed.py").write_text("raise RuntimeWarning('global interpreter lock on')\n")
    assert importcheck.child(["unnamed", "never_reached"])["gil_module"] == "unnamed"
    assert importcheck.main(["--child"]) == 0


# ---------------------------------------------------------------- a compatibility run


def test_a_run_resolves_every_environment_and_checks_the_chosen_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    resolved: list[tuple[str, Path]] = []
    checked: list[tuple[str, Path]] = []
    pyyaml = Locked("pyyaml", "6.0.4", "cp313t", "pyyaml.whl")

    def resolve(uv: str, python: str, env: Environment, workdir: Path) -> Resolution:
        resolved.append((env.name, workdir))
        if env.name == "git":
            return Resolution(env, error="no wheel for x")
        return Resolution(env, () if env.empty else (pyyaml,))

    def check_environment(
        uv: str, python: str, packages: Any, venv: Path, build_sdists: bool
    ) -> dict[str, Any]:
        assert (uv, packages, build_sdists) == ("uv", (pyyaml,), True)
        checked.append((python, venv))
        return {"pyyaml": install_module.Checked(True, imports=True, gil_enabled=False)}

    monkeypatch.setattr(run_module, "resolve", resolve)
    monkeypatch.setattr(run_module, "check_environment", check_environment)
    said: list[str] = []
    report = run_module.compatibility(
        REPO, "uv", "python3.14t", "3.14.6", tmp_path, lambda env: env.name == "fetch", said.append
    )
    names = [env.name for env in discover(load_stack(REPO))]
    assert [name for name, _ in resolved] == names
    assert {workdir for _, workdir in resolved} == {tmp_path / "locks"}
    assert checked == [("python3.14t", tmp_path / "venvs" / "fetch")]
    assert report.python == "3.14.6" and len(report.environments) == len(names)
    assert "git: 0 packages resolved (no wheel for x)" in said
    assert "fetch: 1 packages resolved, installed and imported" in said
    assert "python-experimental: 0 packages resolved" in said


def test_a_report_says_what_changed_since_the_one_it_replaces(tmp_path: Path) -> None:
    assert run_module._previous(tmp_path) is None
    (tmp_path / "compat.json").write_text("[1, 2]")
    assert run_module._previous(tmp_path) is None
    (tmp_path / "compat.json").write_text("{broken")
    assert run_module._previous(tmp_path) is None
    env = Environment("fetch", "Dockerfile", ("x",), False)
    old = (Locked("pyyaml", "6.0.3", "cp313t", "pyyaml.whl"),)
    first = Report("3.14.6", (environment_report(Resolution(env, old), None),))
    written = run_module.write(first, tmp_path / "out")
    assert json.loads((tmp_path / "out/compat.json").read_text()) == written.to_json()
    assert (tmp_path / "out/compat.md").read_text() == markdown(written)
    assert written.changes == ()
    new = (Locked("pyyaml", "6.0.4", "cp313t", "pyyaml.whl"),)
    fixed = Report("3.14.6", (environment_report(Resolution(env, new), None),))
    again = run_module.write(fixed, tmp_path / "out")
    assert again.changes == ("fetch: pyyaml 6.0.3 -> 6.0.4",)
    assert again.changes == tuple(changes(written.to_json(), fixed))
    assert (run_module.REPORT_JSON, run_module.REPORT_MD, run_module.PROBE_SECONDS) == (
        "compat.json",
        "compat.md",
        60.0,
    )


# ---------------------------------------------------------------- the venv and its imports

FAKE_PYTHON = """#!/bin/sh
# a venv's interpreter running importcheck.py: records where and how, answers from a file
echo "$PWD ${PYTHON_GIL-unset} $*" >> "$FAKE_PYTHON_LOG"
cat "$FAKE_PYTHON_ANSWER"
exit "${FAKE_PYTHON_EXIT-0}"
"""


class Python:
    """A venv's recording interpreter and the JSON lines importcheck.py would print."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.script, self.log = folder / "fake-python", folder / "python.log"
        self.script.write_text(FAKE_PYTHON)
        self.answer = folder / "answer.jsonl"
        self.answer.write_text("")
        monkeypatch.setenv("FAKE_PYTHON", str(self.script))
        monkeypatch.setenv("FAKE_PYTHON_LOG", str(self.log))
        monkeypatch.setenv("FAKE_PYTHON_ANSWER", str(self.answer))
        monkeypatch.setenv("PYTHON_GIL", "0")

    def answers(self, *lines: dict[str, Any]) -> None:
        self.answer.write_text("".join(json.dumps(line) + "\n" for line in lines))

    @property
    def runs(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Python:
    return Python(tmp_path, monkeypatch)


def _imported(name: str, **fields: Any) -> dict[str, Any]:
    line = {"name": name, "imports": True, "gil_enabled": False, "gil_module": ""}
    return {**line, "failed": {}, "gil_by_dependency": False, **fields}


def test_a_venv_is_made_fresh_for_the_interpreter(uv: Uv, python: Python, tmp_path: Path) -> None:
    venv = tmp_path / "venvs" / "fetch"
    assert install_module.make_venv(str(uv.path), "python3.14t", venv) == venv / "bin/python"
    assert uv.commands == [["venv", "--quiet", "--clear", "--python", "python3.14t", str(venv)]]
    uv.plan({"venv": "  error: no interpreter python3.99t found  \n"})
    with pytest.raises(RuntimeError) as failed:
        install_module.make_venv(str(uv.path), "python3.99t", tmp_path / "other")
    assert str(failed.value) == (
        "cannot create a virtualenv of python3.99t: error: no interpreter python3.99t found"
    )


def test_uv_runs_with_cargo_giving_up_at_once_and_a_deadline(uv: Uv) -> None:
    assert install_module._uv(str(uv.path), "env", timeout=30) == (True, "0")
    assert install_module._uv(str(uv.path), "unknown", timeout=30) == (False, "")
    assert install_module._uv(str(uv.path), "sleep", timeout=0.4) == (
        False,
        "took longer than 0 s",
    )


def test_imports_are_checked_by_the_venvs_interpreter_with_the_gil_unforced(
    python: Python, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_python = tmp_path / "venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(FAKE_PYTHON)
    venv_python.chmod(0o755)
    assert install_module.check_imports(venv_python, []) == {}
    assert python.runs == []
    python.answers(
        _imported("lxml", gil_enabled=True, gil_module="lxml.etree", failed={"lxml.html": "E"}),
        _imported("app", gil_enabled=True, gil_module="dep._ext", gil_by_dependency=True),
        _imported("long", imports=False, failed={"long": "x" * 500}),
    )
    found = install_module.check_imports(venv_python, ["lxml", "app", "long"])
    assert found == {
        "lxml": Checked(True, "", True, True, "lxml.etree", "lxml.html: E"),
        "app": Checked(True, "", True, True, "", "imports dep._ext, which turns the GIL on"),
        "long": Checked(True, "", False, False, "", ("long: " + "x" * 500)[:400]),
    }
    # a check that crashed after some distributions keeps their lines
    monkeypatch.setenv("FAKE_PYTHON_EXIT", "3")
    assert install_module.check_imports(venv_python, ["lxml", "app", "long"]) == found
    checker = install_module.IMPORTCHECK
    assert checker == REPO / "tasks/compat/importcheck.py"
    assert python.runs == [f"{venv_python.parent} unset -P {checker} lxml app long"] * 2


def test_an_environment_is_installed_then_its_installed_packages_imported(
    uv: Uv, python: Python, tmp_path: Path
) -> None:
    packages = (
        Locked("ok", "1", "cp313t", "ok-1-cp313-cp313t-x.whl"),
        Locked("rusty", "3", SDIST, "rusty-3.tar.gz"),
        Locked("silent", "2", SDIST, "silent-2.tar.gz"),
    )
    uv.plan({"install": {"rusty==3": "error: can't find Rust compiler\n"}})
    python.answers(_imported("ok", gil_enabled=True, gil_module="ok._c"))
    venv = tmp_path / "venvs" / "x"
    found = install_module.check_environment(str(uv.path), "py3t", packages, venv, True)
    assert found == {
        "ok": Checked(True, "", True, True, "ok._c", ""),
        "rusty": Checked(False, "needs a Rust toolchain"),
        # installed, but the check printed nothing for it
        "silent": Checked(True, ""),
    }
    assert uv.commands[0] == ["venv", "--quiet", "--clear", "--python", "py3t", str(venv)]
    target = ["pip", "install", "--quiet", "--no-deps", "--python", str(venv / "bin/python")]
    assert uv.commands[1] == [*target, "--only-binary", ":all:", "ok==1"]
    assert python.runs == [f"{venv}/bin unset -P {install_module.IMPORTCHECK} ok silent"]


# ---------------------------------------------------------------- importcheck's verdict


def _checked_with(
    monkeypatch: pytest.MonkeyPatch,
    top: list[str],
    extensions: list[str],
    strict_answer: dict[str, Any] | None,
    lenient_answer: dict[str, Any] | None,
) -> tuple[dict[str, object], list[tuple[list[str], bool]]]:
    runs: list[tuple[list[str], bool]] = []

    def run(modules: list[str], strict: bool) -> dict[str, Any] | None:
        runs.append((modules, strict))
        return strict_answer if strict else lenient_answer

    monkeypatch.setattr(importcheck, "modules_of", lambda name: (top, extensions))
    monkeypatch.setattr(importcheck, "_run", run)
    return importcheck.check("dist"), runs


def test_a_distribution_that_imports_cleanly_is_checked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clean = {"failed": {}, "gil_module": "", "gil_enabled": False}
    found, runs = _checked_with(monkeypatch, ["a", "b"], ["a._c"], clean, None)
    assert runs == [(["a", "b", "a._c"], True)]
    assert found == {
        "name": "dist",
        "modules": ["a", "b"],
        "extensions": ["a._c"],
        "imports": True,
        "gil_enabled": False,
        "gil_module": "",
        "gil_by_dependency": False,
        "failed": {},
    }


def test_a_gil_turned_on_by_its_own_module_or_by_a_dependency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strict = {"failed": {"a": "RuntimeWarning: GIL"}, "gil_module": "a._c", "gil_enabled": True}
    lenient = {"failed": {}, "gil_module": "", "gil_enabled": True}
    found, runs = _checked_with(monkeypatch, ["a"], ["a._c"], strict, lenient)
    assert runs == [(["a", "a._c"], True), (["a", "a._c"], False)]
    assert (found["imports"], found["gil_enabled"], found["gil_module"]) == (True, True, "a._c")
    assert found["gil_by_dependency"] is False
    # `a.b._c` is still the distribution's own module: its top-level package is `a`
    strict = {**strict, "gil_module": "a.b._c"}
    found, _ = _checked_with(monkeypatch, ["a"], [], strict, lenient)
    assert (found["gil_enabled"], found["gil_by_dependency"]) == (True, False)
    strict = {**strict, "gil_module": "dep.sub._c"}
    found, _ = _checked_with(monkeypatch, ["a", "sub"], [], strict, lenient)
    assert (found["gil_enabled"], found["gil_module"], found["gil_by_dependency"]) == (
        False,
        "dep.sub._c",
        True,
    )


def test_a_strict_run_that_crashed_leaves_the_lenient_runs_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lenient = {"failed": {"b": "ImportError: x"}, "gil_module": "", "gil_enabled": True}
    found, runs = _checked_with(monkeypatch, ["a", "b"], [], None, lenient)
    assert runs == [(["a", "b"], True), (["a", "b"], False)]
    assert found["imports"] is False and found["gil_enabled"] is True
    assert (found["gil_module"], found["gil_by_dependency"]) == ("", False)
    found, _ = _checked_with(monkeypatch, ["a"], [], None, None)
    assert found == {
        "name": "dist",
        "modules": ["a"],
        "extensions": [],
        "imports": False,
        "gil_enabled": None,
        "gil_module": "",
        "failed": {"a": "the interpreter crashed or hung importing it"},
        "gil_by_dependency": False,
    }


def test_a_distribution_without_modules_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    found, runs = _checked_with(monkeypatch, [], ["x"], None, None)
    assert runs == []
    assert found == {
        "name": "dist",
        "modules": [],
        "extensions": ["x"],
        "imports": None,
        "gil_enabled": None,
        "gil_module": "",
        "failed": {},
        "gil_by_dependency": False,
    }


def test_importcheck_prints_one_line_per_distribution(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(importcheck, "check", lambda name: {"name": name})
    assert importcheck.main(["a", "b"]) == 0
    assert capsys.readouterr().out == '{"name": "a"}\n{"name": "b"}\n'
    assert importcheck.main(["--child"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "failed": {},
        "gil_module": "",
        "gil_enabled": GIL,
    }
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert importcheck.child([])["gil_enabled"] is False


def test_a_strict_run_turns_runtime_warnings_into_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warns.py").write_text("import warnings\nwarnings.warn('odd', RuntimeWarning)\n")
    # PYTHON_GIL would hide the GIL's return: the check runs without it
    (tmp_path / "unforced.py").write_text(
        "import os\nif 'PYTHON_GIL' in os.environ:\n    raise RuntimeError('PYTHON_GIL set')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("PYTHON_GIL", "1")
    assert importcheck._run(["unforced"], strict=True) == {
        "failed": {},
        "gil_module": "",
        "gil_enabled": FRESH_GIL,
    }
    assert importcheck._run(["warns"], strict=True) == {
        "failed": {"warns": "RuntimeWarning: odd"},
        "gil_module": "",
        "gil_enabled": FRESH_GIL,
    }
    assert importcheck._run(["warns"], strict=False) == {
        "failed": {},
        "gil_module": "",
        "gil_enabled": FRESH_GIL,
    }
    assert (importcheck.GIL_WARNING, importcheck.TIMEOUT) == ("global interpreter lock", 300)


def test_a_lock_uv_left_unreadable_is_named(uv: Uv, tmp_path: Path) -> None:
    uv.plan({"garbage": True})
    out = tmp_path / "pylock.x.toml"
    packages, error = resolve_module._compile(str(uv.path), "py", tmp_path / "x.in", out, [])
    assert packages is None and error.startswith(f"{out}: not a pylock.toml uv wrote (")
    assert uv.commands == [
        [
            "pip", "compile", "--quiet", "--no-header", "--python", "py",
            "-o", str(out), str(tmp_path / "x.in"),
        ]
    ]  # fmt: skip


# ---------------------------------------------------------------- the reports a run writes


def test_a_report_goes_into_a_new_folder_as_indented_json(tmp_path: Path) -> None:
    env = Environment("fetch", "Dockerfile", ("x",), False)
    report = Report("3.14.6", (environment_report(Resolution(env, ()), None),))
    folder = tmp_path / "reports" / "compat"
    run_module.write(report, folder)
    text = (folder / "compat.json").read_text()
    assert text.startswith('{\n  "python": "3.14.6",\n  "environments": [\n    {\n')
    assert text.endswith("}\n")


def test_the_servers_report_is_json_and_markdown(tmp_path: Path) -> None:
    verdicts = [ServerVerdict("git", True, True, True, 12, "")]
    folder = tmp_path / "reports" / "servers"
    run_module.write_servers("3.14.6t", verdicts, folder)
    assert (folder / "servers.json").read_text() == (
        "{\n"
        '  "python": "3.14.6t",\n'
        '  "servers": [\n'
        "    {\n"
        '      "name": "git",\n'
        '      "installed": true,\n'
        '      "answers": true,\n'
        '      "gil_free": true,\n'
        '      "tools": 12,\n'
        '      "detail": ""\n'
        "    }\n"
        "  ]\n"
        "}\n"
    )
    assert (folder / "servers.md").read_text() == servers_markdown("3.14.6t", verdicts)


def test_each_python_server_is_installed_probed_and_judged(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pyyaml = Locked("pyyaml", "6.0.4", "cp313t", "pyyaml.whl")
    asked: list[tuple[Any, ...]] = []

    def resolve(uv: str, python: str, env: Environment, workdir: Path) -> Resolution:
        asked.append(("resolve", uv, python, env.name, workdir))
        if env.name == "mariadb-mcp":
            return Resolution(env, error="no wheel for mysqlclient")
        return Resolution(env, (pyyaml,))

    def check_environment(
        uv: str, python: str, packages: Any, venv: Path, build_sdists: bool
    ) -> dict[str, Checked]:
        asked.append(("check", uv, python, packages, venv, build_sdists))
        return {"pyyaml": Checked(True, "", True, False)}

    async def probe(spec: Any, repeat: int = 5) -> ProbeResult:
        asked.append(("probe", spec.name, spec.command, repeat))
        ok = spec.name != "postgres-mcp"
        error = "" if ok else "could not connect to server: Connection refused"
        return ProbeResult(spec.name, ok, "srv", "1", "2025-06-18", 4, error=error)

    monkeypatch.setattr(run_module, "resolve", resolve)
    monkeypatch.setattr(run_module, "check_environment", check_environment)
    monkeypatch.setattr(run_module, "probe", probe)
    said: list[str] = []
    names = {"git", "postgres-mcp", "mariadb-mcp", "library"}
    found = run_module.server_verdicts(REPO, "uv", "py3t", tmp_path, names, said.append)
    db_note = "the call failed with a database error (no database here): could not connect"
    assert found == [
        ServerVerdict(
            "postgres-mcp", True, True, True, 4, f"{db_note} to server: Connection refused"
        ),
        ServerVerdict("mariadb-mcp", False, False, False, 0, "no wheel for mysqlclient"),
        ServerVerdict("git", True, True, True, 4, ""),
    ]
    assert said == [
        f"postgres-mcp: {db_note} to server: Connection refused",
        "mariadb-mcp: cannot be resolved: no wheel for mysqlclient",
        "git: answers, GIL-free",
    ]
    locks, venvs = tmp_path / "locks", tmp_path / "venvs"
    assert asked == [
        ("resolve", "uv", "py3t", "postgres-mcp", locks),
        ("check", "uv", "py3t", (pyyaml,), venvs / "postgres-mcp", True),
        ("probe", "postgres-mcp", str(venvs / "postgres-mcp/bin/python"), 1),
        ("resolve", "uv", "py3t", "mariadb-mcp", locks),
        ("resolve", "uv", "py3t", "git", locks),
        ("check", "uv", "py3t", (pyyaml,), venvs / "git", True),
        ("probe", "git", str(venvs / "git/bin/mcp-server-git"), 1),
    ]
    asked.clear()
    every = run_module.server_verdicts(REPO, "uv", "py3t", tmp_path, set(), said.append)
    commands = [e.name for e in discover(load_stack(REPO)) if e.command]
    assert [v.name for v in every] == commands
    # an environment without an MCP server of its own is installed but not probed
    assert "mcp-exporter" in commands and every[commands.index("mcp-exporter")] == ServerVerdict(
        "mcp-exporter", True, False, False, 0, "not started"
    )
