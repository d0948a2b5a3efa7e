"""Schema passes remembered across runs: a known document skips the validator, a changed one
(or a changed schema) is validated again, and a failure is never remembered."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model import validated
from tasks.model.schemas import SCHEMAS, VERSIONS, validate
from tasks.model.source import Document
from tests.clirun import REPO

GOOD = json.loads((REPO / ".devcontainer" / "versions.json").read_text())
BAD = {**GOOD, "cpython": {"app": {**GOOD["cpython"]["devcontainer"], "variables": "python"}}}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "mcp-cluster" / "schema-valid"


def _versions(data: object) -> None:
    validate(Document(Path("versions.json"), data), data, VERSIONS, "fix it")


def _remembered(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.is_dir() else []


def test_a_pass_is_remembered_and_a_failure_is_not(cache: Path) -> None:
    with pytest.raises(StackError, match="variables"):
        _versions(BAD)
    assert _remembered(cache) == []
    _versions(GOOD)
    assert _remembered(cache) == [validated.digest(SCHEMAS, VERSIONS, "", GOOD)]
    with pytest.raises(StackError, match="variables"):  # still checked after a pass
        _versions(BAD)


def test_a_known_document_skips_the_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    _versions(GOOD)

    def refuse(*_: object) -> None:
        raise AssertionError("the validator ran for a known document")

    monkeypatch.setattr("tasks.model.schemas._validator", refuse)
    _versions(GOOD)
    with pytest.raises(AssertionError, match="validator ran"):
        _versions({**GOOD, "$comment": "changed"})


def test_the_digest_tells_schemas_definitions_and_values_apart() -> None:
    keys = {
        validated.digest(SCHEMAS, VERSIONS, "", GOOD),
        validated.digest(SCHEMAS, "mcp-manifest.schema.json", "", GOOD),
        validated.digest(SCHEMAS, VERSIONS, "image", GOOD),
        validated.digest(SCHEMAS, VERSIONS, "", {"n": 1}),
        validated.digest(SCHEMAS, VERSIONS, "", {"n": True}),
        validated.digest(SCHEMAS, VERSIONS, "", {"n": 1.0}),
        validated.digest(SCHEMAS, VERSIONS, "", {"n": "1"}),
    }
    assert len(keys) == 7 and None not in keys


@pytest.mark.parametrize(
    "data",
    [
        {"services": {123: {}}},  # YAML `123:`, which JSON would print as "123"
        {"on": {True: 1}},  # YAML `yes:`
        {"x": {None: 1}},  # YAML `~:`
        {"command": ("a", "b")},  # a tuple, which the validator does not take for an array
        {"when": datetime.date(2026, 1, 2)},  # a YAML date
        {"command": ["a", datetime.date(2026, 1, 2)]},  # one such value inside an array
    ],
)
def test_data_that_is_not_plain_json_is_never_remembered(data: object, cache: Path) -> None:
    assert validated.digest(SCHEMAS, VERSIONS, "", data) is None
    validated.remember(validated.digest(SCHEMAS, VERSIONS, "", data))
    assert _remembered(cache) == []


def test_arrays_of_plain_values_are_plain_json() -> None:
    assert validated.digest(SCHEMAS, VERSIONS, "", {"command": ["a", 1, None, [True]]})


def test_a_changed_schema_file_forgets_every_pass(tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "a.json").write_text("{}")
    before = validated.digest(schemas, "a.json", "", GOOD)
    validated._schemas_fingerprint.cache_clear()
    (schemas / "a.json").write_text('{"type": "object"}')
    assert validated.digest(schemas, "a.json", "", GOOD) != before
    validated._schemas_fingerprint.cache_clear()


def test_a_cache_that_cannot_be_written_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    _versions(GOOD)
    with pytest.raises(StackError):
        _versions(BAD)


def test_a_second_run_loads_the_stack_without_the_validator(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from tasks.model.stack import load_stack; "
        f"load_stack(Path({str(REPO)!r}), 'offline'); print('jsonschema' in sys.modules)"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "fresh")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], runs[0].stderr + runs[1].stderr
