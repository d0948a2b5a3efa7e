"""versions.json read exactly: each image's pins per profile, the variables they set, a pin
replaced without touching the rest, and every unreadable file or pin named precisely."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.model.versions import PROFILES, Pin, check_pin, load_versions
from tests.clirun import REPO

SHA = {"a": "a" * 64, "b": "b" * 64, "c": "c" * 64}


def _pin(version: str, name: str, sha: str) -> dict[str, str]:
    return {"version": version, "url": f"https://x/{name}", "sha256": SHA[sha]}


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO / ".devcontainer/versions.json").read_text())
    first, second = list(data["cpython"])[:2]
    data["cpython"] = {
        first: {
            **data["cpython"][first],
            "pins": {
                "online": _pin("3.14.6", "Python-3.14.6.tar.xz", "a"),
                "offline": _pin("3.13.15", "python3.13_3.13.15.orig.tar.xz", "c"),
            },
        },
        second: {
            **data["cpython"][second],
            "pins": {
                "online": _pin("3.15.0b3", "Python-3.15.0b3.tar.xz", "b"),
                "offline": _pin("3.13.15", "python3.13_3.13.15.orig.tar.xz", "c"),
            },
        },
    }
    return data


@pytest.fixture
def versions_file(tmp_path: Path) -> Path:
    path = tmp_path / "versions.json"
    path.write_text(json.dumps(_data(), indent=2))
    return path


def test_pins_per_image_and_profile(versions_file: Path) -> None:
    versions = load_versions(versions_file)
    data = _data()
    first, second = list(data["cpython"])
    assert PROFILES == ("online", "offline")
    assert list(versions.images) == [first, second]
    image = versions.images[first]
    assert (image.image, image.variables, image.dockerfile) == (
        first,
        data["cpython"][first]["variables"],
        data["cpython"][first]["dockerfile"],
    )
    online = image.pins["online"]
    assert online == Pin("3.14.6", "https://x/Python-3.14.6.tar.xz", SHA["a"])
    assert (online.filename, online.line) == ("Python-3.14.6.tar.xz", "3.14")
    assert versions.images[second].pins["online"].line == "3.15"
    assert online.to_json() == _pin("3.14.6", "Python-3.14.6.tar.xz", "a")
    prefix = image.variables
    assert image.variable("URL") == f"{prefix}_URL"
    assert image.values("offline") == {
        f"{prefix}_VERSION": "3.13.15",
        f"{prefix}_URL": "https://x/python3.13_3.13.15.orig.tar.xz",
        f"{prefix}_SHA256": SHA["c"],
    }
    both = versions.profile_values("online")
    assert list(both) == [
        f"{prefix}_VERSION",
        f"{prefix}_URL",
        f"{prefix}_SHA256",
        *versions.images[second].values("online"),
    ]
    assert [p.sha256 for p in versions.all_pins()] == [SHA["a"], SHA["c"], SHA["b"]]
    assert versions.raw == data and versions.path == versions_file


def test_a_pin_is_replaced_in_a_copy(versions_file: Path) -> None:
    versions = load_versions(versions_file)
    before = copy.deepcopy(versions.raw)
    image = next(iter(versions.images))
    pin = Pin("3.14.7", "https://x/Python-3.14.7.tar.xz", SHA["b"])
    data = versions.with_pin(image, "online", pin)
    assert data["cpython"][image]["pins"]["online"] == pin.to_json()
    assert data["cpython"][image]["pins"]["offline"] == before["cpython"][image]["pins"]["offline"]
    assert versions.raw == before


def test_check_pin_names_where_the_pin_came_from() -> None:
    good = _pin("3.14.6", "Python-3.14.6.tar.xz", "a")
    assert check_pin(Path("p"), "--pin", good) == Pin(
        "3.14.6", "https://x/Python-3.14.6.tar.xz", SHA["a"]
    )
    with pytest.raises(StackError) as bad_field:
        check_pin(Path("p"), "--pin", {**good, "sha256": "xyz"})
    assert bad_field.value.key == "--pin.sha256"
    assert bad_field.value.path == Path("p")
    assert bad_field.value.fix == (
        "edit .devcontainer/versions.json, or use `invoke python.pin VERSION --sha256 HEX`"
    )
    with pytest.raises(StackError) as not_a_pin:
        check_pin(Path("p"), "--pin", 5)
    assert not_a_pin.value.key == "--pin"
    assert not_a_pin.value.problem == "5 is not of type 'object' (schema: versions.schema)"


def test_unreadable_versions_files(tmp_path: Path) -> None:
    with pytest.raises(StackError) as missing:
        load_versions(tmp_path / "versions.json")
    assert (missing.value.problem, missing.value.fix) == (
        "versions file not found",
        "restore it from git",
    )
    path = tmp_path / "versions.json"
    text = '{\n  "cpython": {},\n}\n'
    path.write_text(text)
    with pytest.raises(json.JSONDecodeError) as decoding:
        json.loads(text)
    with pytest.raises(StackError) as comma:
        load_versions(path)
    assert (comma.value.line, comma.value.problem, comma.value.fix) == (
        decoding.value.lineno,  # the comma's line (3.13+) or the brace's (3.11)
        f"not valid JSON ({decoding.value.msg})",
        "fix the JSON syntax",
    )


def test_a_versions_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "versions.json"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(StackError) as refused:
        load_versions(path)
    assert refused.value.problem == "versions file is UTF-16 text"
