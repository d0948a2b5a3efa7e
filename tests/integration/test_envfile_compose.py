"""The env-file parser reads what compose reads: the readings of tests/unit/model/test_envfile.py
round-tripped through the real `docker compose config` (a throwaway compose file, no container
started)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.unit.model.test_envfile import READINGS, REFUSED

pytestmark = pytest.mark.integration


def _compose_environment(tmp_path: Path, text: str) -> dict[str, str] | None:
    """The environment `docker compose config` gives a service reading `text` as its env file
    (None when compose refuses the file); no variable comes from the shell."""
    (tmp_path / "x.env").write_text(text, encoding="utf-8", newline="")
    (tmp_path / "c.yml").write_text("services:\n  s:\n    image: x\n    env_file: [x.env]\n")
    result = subprocess.run(
        ["docker", "compose", "-f", str(tmp_path / "c.yml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
        check=False,
    )
    if result.returncode != 0:
        return None
    environment = json.loads(result.stdout)["services"]["s"].get("environment") or {}
    # `config` writes a literal $ as $$ so that its output reads back the same.
    return {key: value.replace("$$", "$") for key, value in environment.items()}


@pytest.mark.parametrize(("text", "reading"), READINGS)
def test_compose_reads_what_the_parser_reads(
    tmp_path: Path, text: str, reading: dict[str, str]
) -> None:
    assert _compose_environment(tmp_path, text) == reading


@pytest.mark.parametrize("text", [text for text, _, _ in REFUSED])
def test_compose_refuses_what_the_parser_refuses(tmp_path: Path, text: str) -> None:
    assert _compose_environment(tmp_path, text) is None
