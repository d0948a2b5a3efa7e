"""How the compatibility check drives uv, against a recording `uv` that answers as uv does:
resolution wheels first with an sdist allowed for each package uv names, the newest versions
beside, and the exact installs with each build failure in a few words."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from tasks.compat import importcheck
from tasks.compat import install as install_module
from tasks.compat import resolve as resolve_module
from tasks.compat import run as run_module
from tasks.compat.environments import Environment, discover
from tasks.compat.install import install
from tasks.compat.lock import SDIST, Locked
from tasks.compat.report import Report, changes, environment_report, markdown
from tasks.compat.resolve import ROUNDS, Resolution, resolve, wheels_first
from tasks.model.stack import load_stack
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
if args[:2] == ["pip", "install"]:
    answer = plan.get("install", {{}}).get(args[-1], "")
    sys.stdout.write(answer)
    sys.exit(1 if answer else 0)
sys.exit(2)
"""


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


def test_a_check_imports_in_a_fresh_interpreter() -> None:
    found = importcheck.check("pluggy")
    assert found == {
        "name": "pluggy",
        "modules": ["pluggy"],
        "extensions": [],
        "imports": True,
        # a fresh interpreter keeps the GIL a GIL build has, and a free-threaded one keeps it off
        "gil_enabled": not sysconfig.get_config_var("Py_GIL_DISABLED"),
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
    assert found["gil_enabled"] is getattr(sys, "_is_gil_enabled", lambda: True)()
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
