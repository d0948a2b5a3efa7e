"""The schemas of tasks/schemas/: valid in the draft each declares, resolved offline, and met by
the repository's own files."""

from __future__ import annotations

import urllib.request

import pytest
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

from tasks.model.schemas import DEVCONTAINER, SCHEMAS, VERSIONS, _validator, load_schema
from tasks.model.source import load_jsonc
from tests.clirun import REPO

NAMES = sorted(path.relative_to(SCHEMAS).as_posix() for path in SCHEMAS.rglob("*.json"))


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_is_valid_in_its_draft(name: str) -> None:
    schema = load_schema(name)
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        pytest.fail(f"{name}: {error.message}")


def test_a_reference_outside_the_schemas_folder_is_not_downloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[object] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kw: opened.append(args))
    # The spec's own devContainer.schema.json refers to VS Code's schemas by URL, like this.
    url = "https://raw.githubusercontent.com/microsoft/vscode/main/x.schema.json"
    with pytest.raises(Unresolvable):
        _validator(DEVCONTAINER).evolve(schema={"$ref": url}).validate({})
    assert opened == []


@pytest.mark.parametrize(
    ("file", "schema"),
    [("devcontainer.json", DEVCONTAINER), ("versions.json", VERSIONS)],
)
def test_the_repository_files_meet_their_schema(file: str, schema: str) -> None:
    data = load_jsonc(REPO / ".devcontainer" / file).data
    assert [e.message for e in _validator(schema).iter_errors(data)] == []
