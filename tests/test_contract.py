"""The one task contract: exits mapped in one place, results through one renderer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import present, table, task
from tasks.errors import EngineError, Failure, StackError, UsageError
from tasks.outcome import Outcome


def _task(error: Exception | None) -> object:
    @task(name="demo", help={"json": "print JSON"})
    def demo(c: Context, json: bool = False) -> None:
        """Demonstrate the contract."""
        if error is not None:
            raise error
        present(Outcome({"ok": True}, ["[green]done[/]"]), json)

    return demo


CASES = [
    (
        UsageError("--repeat must be >= 1"),
        2,
        {"ok": False, "error": {"problem": "--repeat must be >= 1"}},
    ),
    (
        StackError(Path("x.yml"), "broken", "fix it", line=3),
        2,
        {
            "ok": False,
            "error": {
                "file": "x.yml",
                "line": 3,
                "key": None,
                "problem": "broken",
                "fix": "fix it",
            },
        },
    ),
    (
        EngineError("docker does not answer", "start it"),
        1,
        {"ok": False, "error": {"problem": "docker does not answer", "fix": "start it"}},
    ),
    (Failure("the build failed"), 1, {"ok": False, "error": {"problem": "the build failed"}}),
]


@pytest.mark.parametrize(("error", "code", "data"), CASES, ids=lambda v: type(v).__name__)
def test_each_error_has_its_exit_and_json(
    capsys: pytest.CaptureFixture[str], error: Exception, code: int, data: dict[str, object]
) -> None:
    demo = _task(error)
    with pytest.raises(Exit) as stop:
        demo(Context(), json=True)  # type: ignore[operator]
    assert stop.value.code == code
    assert json.loads(capsys.readouterr().out) == data


@pytest.mark.parametrize(("error", "code", "data"), CASES, ids=lambda v: type(v).__name__)
def test_each_error_is_one_message_for_people(
    capsys: pytest.CaptureFixture[str], error: Exception, code: int, data: dict[str, object]
) -> None:
    demo = _task(error)
    with pytest.raises(Exit) as stop:
        demo(Context())  # type: ignore[operator]
    out, err = capsys.readouterr()
    assert stop.value.code == code and out == ""
    assert err.startswith("error: ") and str(data["error"]["problem"]) in err  # type: ignore[index]


def test_a_task_keeps_its_name_help_and_arguments() -> None:
    demo = _task(None)
    assert demo.name == "demo"  # type: ignore[attr-defined]
    assert demo.help == {"json": "print JSON"}  # type: ignore[attr-defined]
    assert "Demonstrate the contract." in (demo.__doc__ or "")
    assert [a.name for a in demo.get_arguments()] == ["json"]  # type: ignore[attr-defined]


def test_present_prints_views_or_json_and_exits_with_the_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    present(Outcome({"n": 1}, ["[green]line[/]", table("t", ("a", "b"), [("1", "2")])]), False)
    out = capsys.readouterr().out
    assert out.startswith("line\n") and "│ 1 │ 2 │" in out
    present(Outcome({"n": 1}, ["ignored"]), True)
    assert json.loads(capsys.readouterr().out) == {"n": 1}
    with pytest.raises(Exit) as stop:
        present(Outcome({"ok": False}, [], ok=False, code=3), True)
    assert stop.value.code == 3


def test_tables_fold_long_cells_instead_of_cutting_them(capsys: pytest.CaptureFixture[str]) -> None:
    long = "mcp-python-experimental:latest-" + "x" * 120
    present(Outcome({}, [table("t", ("image",), [(long,)])]), False)
    assert "…" not in capsys.readouterr().out
