"""The output contract of every task: JSON on stdout, one error line on stderr, the findings
table, the verdict line and the exit codes 0, 1 and 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit
from rich.console import Console

from tasks.contract import exits, present
from tasks.errors import EngineError, StackError
from tasks.report import (
    LOG_WIDTH,
    _console,
    emit_json,
    findings_outcome,
    findings_table,
    summarize,
)
from tasks.rules.base import Finding, Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO


def report_findings(title: str, findings: list[Finding], as_json: bool, **options: Any) -> None:
    """Findings presented as every task presents them (printed, exit 1 when failed)."""
    present(findings_outcome(title, findings, **options), as_json)


def _finding(severity: Severity, rule: str = "X001", line: int | None = 1) -> Finding:
    return Finding(rule, severity, "a/[b].yml", line, "problem [x]", "fix [y]")


def test_json_is_indented_and_stringifies_paths(capsys: pytest.CaptureFixture[str]) -> None:
    emit_json({"path": Path("a/b"), "n": [1]})
    assert capsys.readouterr().out == '{\n  "path": "a/b",\n  "n": [\n    1\n  ]\n}\n'


def test_bad_input_is_one_line_on_stderr_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as stopped, exits(False):
        raise StackError(Path("a.yml"), "broken", "mend it", line=3, key="services.x")
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: a.yml:3 [services.x]: broken. Fix: mend it\n"


@pytest.mark.parametrize("as_json", [True, False])
def test_without_an_error_the_guards_say_nothing(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    with exits(as_json):
        pass
    assert capsys.readouterr() == ("", "")


def test_an_engine_failure_is_one_json_error_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(Exit) as stopped, exits(True):
        raise EngineError("docker info failed", "start Docker")
    assert stopped.value.code == 1
    assert json.loads(capsys.readouterr().out) == {
        "ok": False,
        "error": {"problem": "docker info failed", "fix": "start Docker"},
    }


def test_an_engine_failure_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as stopped, exits(False):
        raise EngineError("docker [info] failed", "start Docker")
    assert stopped.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: docker [info] failed. Fix: start Docker\n"


def test_summary_counts_every_severity() -> None:
    assert summarize([]) == {"error": 0, "warning": 0, "info": 0}
    assert summarize([_finding(E), _finding(W), _finding(E), _finding(N)]) == {
        "error": 2,
        "warning": 1,
        "info": 1,
    }


def test_findings_table_columns_and_cells() -> None:
    table = findings_table("t", [_finding(E), _finding(W, "Y002", None), _finding(N)])
    assert table.title == "t"
    assert [column.header for column in table.columns] == [
        "severity",
        "rule",
        "location",
        "problem",
        "fix",
    ]
    assert all(column.overflow == "fold" for column in table.columns)
    cells = [list(column.cells) for column in table.columns]
    assert cells[0] == [
        "[bold red]error[/]",
        "[yellow]warning[/]",
        "[cyan]info[/]",
    ]
    assert cells[1] == ["X001", "Y002", "X001"]
    # markup in the data is escaped: it is printed, not interpreted
    assert cells[2] == ["a/\\[b].yml:1", "a/\\[b].yml", "a/\\[b].yml:1"]
    assert cells[3] == ["problem \\[x]"] * 3
    assert cells[4] == ["fix \\[y]"] * 3


@pytest.mark.parametrize(
    ("severities", "verdict"),
    [
        ((), "OK t: 0 errors, 0 warnings, 0 notes"),
        ((W, N, N), "OK t: 0 errors, 1 warnings, 2 notes"),
        ((E, E, W), "FAIL t: 2 errors, 1 warnings, 0 notes"),
    ],
)
def test_text_report_ends_with_the_verdict_line(
    capsys: pytest.CaptureFixture[str], severities: tuple[Severity, ...], verdict: str
) -> None:
    findings = [_finding(s) for s in severities]
    if E in severities:
        with pytest.raises(Exit):
            report_findings("t", findings, False)
    else:
        report_findings("t", findings, False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == verdict
    # the table (title, header, one row each) only when there is something to show
    if severities:
        assert lines[0].strip() == "t"
        assert sum("X001" in line for line in lines) == len(severities)
    else:
        assert lines == [verdict]


def test_json_report_carries_extra_keys_summary_and_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report_findings("t", [_finding(W)], True, extra={"profile": "offline"})
    assert json.loads(capsys.readouterr().out) == {
        "profile": "offline",
        "ok": True,
        "summary": {"error": 0, "warning": 1, "info": 0},
        "findings": [
            {
                "rule": "X001",
                "severity": "warning",
                "path": "a/[b].yml",
                "line": 1,
                "message": "problem [x]",
                "fix": "fix [y]",
                "key": None,
            }
        ],
    }


def test_a_caller_decides_what_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as stopped:
        report_findings("t", [_finding(W)], True, fails=lambda f: f.severity is W)
    assert stopped.value.code == 1
    assert json.loads(capsys.readouterr().out)["ok"] is False
    report_findings("t", [_finding(E)], True, fails=lambda f: False)
    assert json.loads(capsys.readouterr().out)["ok"] is True


LONG = "a problem described in more words than one terminal line holds " * 5


def test_long_errors_stay_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit), exits(False):
        raise StackError(Path("a.yml"), LONG.strip(), "mend it")
    with pytest.raises(Exit), exits(False):
        raise EngineError(LONG.strip(), "start Docker")
    assert capsys.readouterr().err.splitlines() == [
        f"error: a.yml: {LONG.strip()}. Fix: mend it",
        f"error: {LONG.strip()}. Fix: start Docker",
    ]


def test_findings_table_is_compact() -> None:
    """One line per finding, no rules between rows, only as wide as its content."""
    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(findings_table("t", [_finding(E), _finding(W, "Y002", None)]))
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [line.strip() for line in lines[:1]] == ["t"]
    rows = lines[4:-1]
    assert [row.split()[1:4] for row in rows] == [
        ["error", "│", "X001"],
        ["warning", "│", "Y002"],
    ]
    assert max(len(line.rstrip()) for line in lines) < 80


def test_consoles_for_logs_are_wide_and_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out, err = _console(stderr=False), _console(stderr=True)
    assert (out.stderr, err.stderr) == (False, True)
    assert not out.is_terminal and out.width == err.width == LOG_WIDTH
    assert out._highlight is False and err._highlight is False
    monkeypatch.setenv("COLUMNS", "123")
    assert _console(stderr=False).width == 123
