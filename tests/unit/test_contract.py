"""The one task contract: exits mapped in one place, results through one renderer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from tasks.contract import present, show, table, task
from tasks.errors import (
    ENGINE_FIX,
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    EngineError,
    Failure,
    StackError,
    UsageError,
)
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


def test_a_table_has_its_title_on_the_left(capsys: pytest.CaptureFixture[str]) -> None:
    made = table("tit\x1ble", ("a column of some width",), [("x",)])
    assert (made.title, made.title_justify) == ("title", "left")
    present(Outcome({}, [made]), False)
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("title ") and first.strip() == "title"


def test_a_line_is_never_wrapped_at_the_terminals_width(
    capsys: pytest.CaptureFixture[str],
) -> None:
    long = "word " * 60
    present(Outcome({}, [long, "x\x07y"]), False)
    assert capsys.readouterr().out == f"{long}\nxy\n"
    show(Outcome({}, [long]), False, on_stderr=True)
    out, err = capsys.readouterr()
    assert out == "" and err == f"{long}\n"


def test_the_exit_codes() -> None:
    assert (EXIT_FINDINGS, EXIT_BAD_INPUT) == (1, 2)
    assert Outcome({}).code == 1 and Outcome({}).ok and Outcome({}).views == []


def test_an_error_names_its_file_line_and_key() -> None:
    error = StackError(Path("a/b.yml"), "bad", "fix", line=7, key="services.db")
    assert str(error) == "a/b.yml:7 [services.db]: bad. Fix: fix"
    assert error.location == "a/b.yml:7"
    assert StackError("c.yml", "bad", "fix", line=0).location == "c.yml"
    assert EngineError("down").fix == ENGINE_FIX
    assert str(EngineError("down")) == f"down. Fix: {ENGINE_FIX}"


def test_a_task_keeps_the_tasks_it_runs_first() -> None:
    first = _task(None)

    @task(first, name="second")
    def second(c: Context) -> None:
        """Run after the first."""

    assert tuple(second.pre) == (first,)
