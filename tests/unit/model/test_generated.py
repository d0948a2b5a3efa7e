"""The one way generated files are made: compared, shown as a diff, written when they differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.model.generated import differences, first_difference, unified, write_changed


@pytest.mark.parametrize(
    ("current", "wanted", "found"),
    [
        ("a\nb\n", "a\nc\n", (2, "b", "c")),
        ("", "x\n", (1, "", "x")),
        ("a\nb\n", "a\n", (2, "b", "")),
        ("a\n", "a\nb\n", (2, "", "b")),
        ("a", "a\n", (1, "a", "a")),  # only the line end differs
        ("a\r\n", "a\n", (1, "a", "a")),
    ],
)
def test_the_first_line_that_differs(
    current: str, wanted: str, found: tuple[int, str, str]
) -> None:
    assert first_difference(current, wanted) == found


def test_only_what_differs_is_named_and_written(tmp_path: Path) -> None:
    same, stale, missing = tmp_path / "same.txt", tmp_path / "stale.txt", tmp_path / "new/x.txt"
    same.write_text("ok\n")
    stale.write_text("old\nkept\n")
    views = {same: "ok\n", stale: "new\nkept\n", missing: "made\n"}
    found = differences(views)
    assert [(f.path, f.line, f.have, f.want) for f in found] == [
        (stale, 1, "old", "new"),
        (missing, 1, "", "made"),
    ]
    assert unified(found[0], "stale.txt").splitlines()[:4] == [
        "--- stale.txt", "+++ stale.txt", "@@ -1,2 +1,2 @@", "-old",
    ]  # fmt: skip
    mtime = same.stat().st_mtime_ns
    assert write_changed(views) == [stale, missing]
    assert stale.read_text() == "new\nkept\n" and missing.read_text() == "made\n"
    assert same.stat().st_mtime_ns == mtime
    assert differences(views) == [] and write_changed(views) == []
