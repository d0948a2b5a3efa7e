"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ministack import MiniStack

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def mini(tmp_path: Path) -> MiniStack:
    """A clean stack in a temporary folder."""
    return MiniStack(tmp_path)
