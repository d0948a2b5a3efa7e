"""Builds on the real engine: the whole stack offline, caching, failure isolation, modes."""

from __future__ import annotations

import re

import pytest

from tests.clirun import invoke, invoke_json
from tests.integration.tinystack import NAMES, TinyStack

pytestmark = pytest.mark.integration


def test_failing_image_fails_alone(tiny: TinyStack) -> None:
    tiny.break_image("beta")
    code, data = invoke_json("build.all", "--parallel", "--root", str(tiny.root))
    assert code == 1
    status = {image["name"]: image for image in data["images"]}
    assert status["beta"]["status"] == "failed"
    assert "exit code: 3" in status["beta"]["error"]
    assert any("deliberate failure" in line for line in status["beta"]["log_tail"])
    assert status["alpha"]["status"] in ("built", "cached")
    assert status["gamma"]["status"] in ("built", "cached")
    assert tiny.images() == {tiny.tag("alpha"), tiny.tag("gamma")}


def test_failure_output_for_people(tiny: TinyStack) -> None:
    tiny.break_image("gamma")
    result = invoke("build.all", "--parallel", "--root", str(tiny.root))
    assert result.returncode == 1
    assert "failed" in result.stdout and "deliberate failure" in result.stdout
    lines = result.stdout.splitlines()  # not a terminal: plain progress lines, for logs
    assert {"alpha: started", "gamma: started"} <= set(lines)
    assert any(line.startswith("gamma: failed after ") for line in lines)
    assert any(re.match(r"alpha: (built|cached) in [0-9.]+ s \(\d/\d steps", x) for x in lines)


def test_parallel_and_sequential_build_the_same_images(tiny: TinyStack) -> None:
    code, parallel = invoke_json("build.all", "--parallel", "--root", str(tiny.root))
    assert code == 0
    built_in_parallel = tiny.images()
    tiny.remove_images()
    code, sequential = invoke_json("build.all", "--root", str(tiny.root))
    assert code == 0
    assert tiny.images() == built_in_parallel == {tiny.tag(n) for n in NAMES}
    assert {i["name"] for i in parallel["images"]} == {i["name"] for i in sequential["images"]}
    assert all(i["size_bytes"] for i in sequential["images"])


def test_second_build_is_fully_cached(tiny: TinyStack) -> None:
    assert invoke_json("build.all", "--parallel", "--root", str(tiny.root))[0] == 0
    code, data = invoke_json("build.all", "--parallel", "--root", str(tiny.root))
    assert code == 0
    for image in data["images"]:
        assert image["status"] == "cached", image
        assert image["cached_steps"] == image["total_steps"] >= 2


def test_unknown_image_name_is_bad_input(tiny: TinyStack) -> None:
    result = invoke("build.containers", "--name", "nope", "--root", str(tiny.root))
    assert result.returncode == 2
    assert "no image named 'nope'" in result.stderr
