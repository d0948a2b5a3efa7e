"""Schema violations as users read them: the one that matters, at its key and line, in words
(an unknown key by name, a pattern by its description), for each kind of input file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.schemas import VERSIONS, load_schema, validate
from tasks.model.source import Document, load_jsonc, load_yaml
from tests.clirun import REPO

ROWS: list[tuple[str, str, str, str, str, int | None, str | None, str]] = [
    (
        "a described value of the wrong type is not explained",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    container_name: 5\n",
        4,
        "services.a.container_name",
        "5 is not of type 'string' (schema: compose-spec)",
    ),
    (
        "a described pattern is explained without its full stop",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    container_name: '-x'\n",
        4,
        "services.a.container_name",
        "'-x' does not match '[a-zA-Z0-9][a-zA-Z0-9_.-]+' (Specify a custom container name, "
        "rather than a generated default name) (schema: compose-spec)",
    ),
    (
        "compose extension key before an unknown key",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    x-foo: 1\n    imag: y\n",
        5,
        "services.a.imag",
        "key 'imag' is unknown or not allowed with the other keys here (schema: compose-spec)",
    ),
    (
        "compose unknown service key",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    imag: y\n",
        4,
        "services.a.imag",
        "key 'imag' is unknown or not allowed with the other keys here (schema: compose-spec)",
    ),
    (
        "compose wrong type",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    ports: 5\n",
        4,
        "services.a.ports",
        "5 is not of type 'array' (schema: compose-spec)",
    ),
    (
        "compose unknown top-level key",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a: {image: x}\nservicez: {}\n",
        3,
        "servicez",
        "unknown key 'servicez' (schema: compose-spec)",
    ),
    (
        "compose two unknown keys",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    foo: 1\n    bar: 2\n",
        4,
        "services.a.foo",
        "key 'foo' is unknown or not allowed with the other keys here (schema: compose-spec)",
    ),
    (
        "compose depends_on string",
        "compose.yml",
        "vendor/compose-spec.json",
        "",
        "services:\n  a:\n    image: x\n    depends_on: b\n",
        4,
        "services.a.depends_on",
        "'b' is not of type 'array' (schema: compose-spec)",
    ),
    (
        "manifest unknown key",
        "m.yml",
        "mcp-manifest.schema.json",
        "",
        "name: x\nimage: x\ntransport: stdio\nextra: 1\n",
        4,
        "extra",
        "unknown key 'extra' (schema: mcp-manifest.schema)",
    ),
    (
        "manifest missing image",
        "m.yml",
        "mcp-manifest.schema.json",
        "",
        "name: x\ntransport: stdio\n",
        None,
        None,
        "'image' is a required property (schema: mcp-manifest.schema)",
    ),
    (
        "manifest bad transport",
        "m.yml",
        "mcp-manifest.schema.json",
        "",
        "name: x\nimage: x\ntransport: tcp\n",
        3,
        "transport",
        "'tcp' is not one of ['stdio', 'sse', 'http', 'bridge'] (schema: mcp-manifest.schema)",
    ),
    (
        "manifest bad name pattern",
        "m.yml",
        "mcp-manifest.schema.json",
        "",
        "name: X Y\nimage: x\ntransport: stdio\n",
        1,
        "name",
        "'X Y' does not match '^[a-z0-9][a-z0-9-]*$' (schema: mcp-manifest.schema)",
    ),
    (
        "clients vscode server not object",
        "c.json",
        "mcp-clients.schema.json",
        "vscode",
        '{"servers": {"a": 5}}',
        1,
        "servers.a",
        "5 is not of type 'object' (schema: mcp-clients.schema)",
    ),
    (
        "devcontainer missing service",
        "d.json",
        "devcontainer.schema.json",
        "",
        '{"name": "x", "dockerComposeFile": "c.yml"}',
        None,
        None,
        "'service' is a required property (schema: devcontainer.schema)",
    ),
    (
        "devcontainer wrong type",
        "d.json",
        "devcontainer.schema.json",
        "",
        '{"name": 5, "image": "x"}',
        1,
        "name",
        "5 is not of type 'string' (schema: devcontainer.schema)",
    ),
    (
        "devcontainer unknown key",
        "d.json",
        "devcontainer.schema.json",
        "",
        '{"image": "x", "imagee": 1}',
        1,
        "imagee",
        "key 'imagee' is unknown or not allowed with the other keys here (schema: devcontainer.schema)",
    ),
]


@pytest.mark.parametrize(
    ("case", "file", "schema", "definition", "text", "line", "key", "problem"),
    ROWS,
    ids=[row[0] for row in ROWS],
)
def test_the_violation_that_matters_is_named(
    tmp_path: Path,
    case: str,
    file: str,
    schema: str,
    definition: str,
    text: str,
    line: int | None,
    key: str | None,
    problem: str,
) -> None:
    path = tmp_path / file
    path.write_text(text)
    doc = load_yaml(path) if file.endswith(".yml") else load_jsonc(path)
    with pytest.raises(StackError) as refused:
        validate(doc, doc.data, schema, "the fix", definition)
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        path,
        line,
        key,
        problem,
        "the fix",
    )


def test_valid_data_passes(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text("name: x\nimage: x\ntransport: stdio\n")
    doc = load_yaml(path)
    validate(doc, doc.data, "mcp-manifest.schema.json", "the fix")


def test_a_pattern_is_explained_by_its_description() -> None:
    data = json.loads((REPO / ".devcontainer/versions.json").read_text())
    bad = copy.deepcopy(data)
    image = next(iter(bad["cpython"]))
    profile = next(iter(bad["cpython"][image]["pins"]))
    bad["cpython"][image]["pins"][profile]["version"] = "3.14"
    definition = load_schema(VERSIONS)["$defs"]["version"]
    with pytest.raises(StackError) as refused:
        validate(Document(Path("v.json"), bad, {}), bad, VERSIONS, "the fix")
    assert refused.value.key == f"cpython.{image}.pins.{profile}.version"
    assert refused.value.problem == (
        f"'3.14' does not match {definition['pattern']!r} "
        f"({definition['description'].rstrip('.')}) (schema: versions.schema)"
    )
