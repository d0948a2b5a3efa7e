"""Every promise the README and `--help` make, pinned: exit codes, `ok` in --json, each rule's
severity, each branch of CMP002, interpolation edge cases, the JSONC editor's output, the mode
of written secrets and phase 10's verdict on a failed health check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit

from tasks.contract import exits, present
from tasks.engine.verify import FAIL, PASS, Check
from tasks.errors import StackError
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.phases.checks import health_verdict
from tasks.phases.steps import BLOCKED, DONE
from tasks.report import findings_outcome
from tasks.rules.base import RULES, Finding, Severity
from tasks.rules.catalog import run_rules
from tasks.servers.jsonc_edit import delete_key, set_value
from tests.clirun import invoke
from tests.ministack import MiniStack

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO

# Every rule and the severity its id promises: flipping one changes exit codes.
SEVERITIES = {
    "CMP001": E, "CMP002": E, "CMP003": E, "CMP004": E, "CMP005": W, "CMP006": N, "CMP007": E,
    "CMP008": E, "CMP009": E, "CMP010": E, "CMP011": W, "CMP012": E, "CMP013": E, "CMP014": E,
    "CMP015": E, "CMP016": E, "DEV001": E, "DEV002": E, "DEV003": W, "DF001": E, "DF002": E, "DF003": E, "DF004": W, "DF005": E, "DF006": E, "DF007": E, "DOC001": E, "DOC002": E,
    "DOC003": W, "DOC004": E, "ENV001": E, "ENV002": W, "MCP001": E, "MCP002": E, "MCP003": E, "MCP004": E,
    "MCP005": E, "MCP006": E, "MCP007": E, "MCP008": E, "MCP009": E, "MCP010": E, "MCP011": E, "MCP012": E, "MCP013": E, "MCP014": E, "MON001": E, "MON002": E,
    "PY001": E, "PY002": E, "PY003": E, "PY004": W, "SEC001": E, "SEC002": E, "SEC003": E,
    "IMG001": E, "VER001": E, "VER002": E, "VER003": W, "VER004": E, "VER005": E, "VOL001": E, "VOL002": E, "VOL003": W,
}  # fmt: skip


def report_findings(title: str, findings: list[Finding], as_json: bool, **options: Any) -> None:
    """Findings presented as every task presents them (printed, exit 1 when failed)."""
    present(findings_outcome(title, findings, **options), as_json)


def test_each_rule_keeps_its_severity() -> None:
    from tasks.rules import catalog  # noqa: F401  (registers every rule)

    assert {rule_id: rule.severity for rule_id, rule in RULES.items()} == SEVERITIES


def _finding(severity: Severity) -> Finding:
    return Finding("X001", severity, "f", 1, "problem", "fix")


@pytest.mark.parametrize(
    ("severities", "code"),
    [
        ((), 0),
        ((N,), 0),
        ((W,), 0),
        ((W, N), 0),
        ((E,), 1),
        ((W, E), 1),
        ((N, W, E), 1),
    ],
)
def test_findings_exit_and_ok(
    capsys: pytest.CaptureFixture[str], severities: tuple[Severity, ...], code: int
) -> None:
    findings = [_finding(s) for s in severities]
    for as_json in (True, False):
        if code:
            with pytest.raises(Exit) as stopped:
                report_findings("t", findings, as_json)
            assert stopped.value.code == code
        else:
            report_findings("t", findings, as_json)
        out = capsys.readouterr().out
        if as_json:
            data = json.loads(out)
            assert data["ok"] is (code == 0)
            assert sum(data["summary"].values()) == len(severities)
        else:
            assert out.startswith("FAIL" if code else "OK") or ("FAIL" if code else "OK t:") in out


def test_unreadable_input_exits_2_with_the_error_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(Exit) as stopped, exits(True):
        raise StackError(Path("a.yml"), "broken", "mend it", line=3, key="services.x")
    assert stopped.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"] == {
        "file": "a.yml",
        "line": 3,
        "key": "services.x",
        "problem": "broken",
        "fix": "mend it",
    }


def test_check_exit_codes_through_the_cli(mini: MiniStack) -> None:
    clean = invoke("check", "--root", str(mini.root), "--json")
    assert clean.returncode == 0 and json.loads(clean.stdout)["ok"] is True
    mini.edit_yaml("docker-compose.mcp.yml", lambda d: d["services"]["db"].update(restart="always"))
    warned = invoke("check", "--root", str(mini.root), "--json")
    data = json.loads(warned.stdout)
    assert warned.returncode == 0 and data["ok"] is True and data["summary"]["warning"] >= 1
    mini.edit_yaml("docker-compose.mcp.yml", lambda d: d["services"]["db"].pop("restart"))
    failed = invoke("check", "--root", str(mini.root), "--json")
    assert failed.returncode == 1 and json.loads(failed.stdout)["ok"] is False


@pytest.mark.parametrize(
    ("restart", "severity"), [(None, E), ("always", W), ("no", W), ("on-failure", W)]
)
def test_cmp002_branches(mini: MiniStack, restart: str | None, severity: Severity) -> None:
    from tasks.model.stack import load_stack

    def change(data: dict[str, dict[str, dict[str, object]]]) -> None:
        service = data["services"]["db"]
        service.pop("restart", None)
        if restart is not None:
            service["restart"] = restart

    mini.edit_yaml("docker-compose.mcp.yml", change)
    hits = [f for f in run_rules(load_stack(mini.root), {"CMP002"})]
    assert [h.severity for h in hits] == [severity]
    assert ("no restart policy" if restart is None else f"restart: {restart}") in hits[0].message
    assert "unless-stopped" in hits[0].fix


def test_interpolation_keeps_a_lone_dollar_and_refuses_an_open_brace() -> None:
    resolve = Interpolator({"A": "1"}).resolve
    assert resolve("cost $ 5") == "cost $ 5"
    assert resolve("a$") == "a$"
    assert resolve("$$A") == "$A"
    assert resolve("${A}-$A") == "1-1"
    with pytest.raises(InterpolationError):
        resolve("${A")


def _strict_json(text: str) -> object:
    """JSON with `//` comment lines removed: no trailing commas allowed."""
    return json.loads(
        "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    )


@pytest.mark.parametrize("keys", [("b",), ("a",), ("c", "d")])
def test_jsonc_editor_never_leaves_a_trailing_comma(keys: tuple[str, ...]) -> None:
    text = '// head\n{\n  "a": 1,\n  "c": {"d": 2, "e": 3},\n  "b": [1, 2]\n}\n'
    edited = delete_key(text, keys)
    assert not re.search(r",\s*[}\]]", edited), edited
    assert "// head" in edited
    data = _strict_json(edited)
    assert isinstance(data, dict)
    added = set_value(edited, ("z",), {"k": True})
    assert _strict_json(added)["z"] == {"k": True}  # type: ignore[index]


def test_phase_10_is_blocked_by_a_failed_health_check() -> None:
    ok = [Check("health", "db", PASS, "ok")]
    broken = [*ok, Check("health", "mariadb", FAIL, "mariadb is not running")]
    assert health_verdict(ok).state == DONE
    verdict = health_verdict(broken)
    assert verdict.state == BLOCKED and "mariadb is not running" in verdict.reason


def test_passwords_map_to_the_data_volumes_they_open() -> None:
    from tasks.model.stack import load_stack
    from tasks.workflows.secrets import data_volumes_of
    from tests.clirun import REPO

    stack = load_stack(REPO)
    assert data_volumes_of(stack, "POSTGRES_PASSWORD") == ["postgres-data"]
    assert data_volumes_of(stack, "MARIADB_ROOT_PASSWORD") == ["mariadb-data"]
    assert data_volumes_of(stack, "GRAFANA_ADMIN_PASSWORD") == ["grafana-data"]
    assert data_volumes_of(stack, "GITHUB_PERSONAL_ACCESS_TOKEN") == []


@pytest.mark.parametrize("task", ["phase", "volumes.restore", "python.pin", "stack.restart"])
def test_help_after_a_task_with_a_positional_argument(task: str) -> None:
    for flag in ("--help", "-h"):
        result = invoke(task, flag)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage:") and f" {task} " in result.stdout
        assert "Docstring:" in result.stdout and "error" not in result.stderr


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (6.14292, "s", "6.14 s"),
        (61.4321, "ms", "61.4 ms"),
        (2070.4, "MB", "2070 MB"),
        (None, "s", "-"),
    ],
)
def test_figures_are_rounded_for_people(value: float | None, unit: str, shown: str) -> None:
    from tasks.perf.figures import rounded

    assert rounded(value, unit) == shown
