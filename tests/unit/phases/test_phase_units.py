"""Pure pieces of the phases and the phase 12 report: JSONC edits, env merge, volume choice,
figures and the report files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import json5
import pytest

from tasks.errors import StackError
from tasks.model.compose import project_name
from tasks.perf.figures import Figure, to_bytes
from tasks.perf.measure import baseline
from tasks.perf.report import write_report
from tasks.phases.backup import volumes_to_back_up
from tasks.phases.envmerge import merge_env
from tasks.phases.legacy import moved_to
from tasks.servers.jsonc_edit import delete_key, set_value

JSONC = """// top comment
{
  "name": "x", // kept
  "image": "node:22",
  "customizations": {"vscode": {"extensions": ["a"]}}
}
"""


def test_set_value_inserts_missing_keys_and_keeps_comments() -> None:
    text = set_value(
        JSONC, ("customizations", "vscode", "mcp", "servers", "git"), {"type": "stdio"}
    )
    data = json5.loads(text)
    assert data["customizations"]["vscode"]["mcp"]["servers"]["git"] == {"type": "stdio"}
    assert data["customizations"]["vscode"]["extensions"] == ["a"]
    assert "// top comment" in text and "// kept" in text


def test_set_value_replaces_present_keys() -> None:
    assert json5.loads(set_value(JSONC, ("name",), "y"))["name"] == "y"
    assert json5.loads(set_value("{}", ("a", "b"), 1)) == {"a": {"b": 1}}


@pytest.mark.parametrize("key", ["image", "customizations", "name"])
def test_delete_key_leaves_valid_jsonc(key: str) -> None:
    data = json5.loads(delete_key(JSONC, (key,)))
    assert key not in data and len(data) == 2


def test_delete_key_of_an_absent_key_is_a_no_op() -> None:
    assert delete_key(JSONC, ("features",)) == JSONC


def test_env_merge_adds_removes_and_keeps_user_values(tmp_path: Path) -> None:
    current = "# mine\nA=user\nFETCH_MCP_IP=172.20.0.35\nGITHUB_TOKEN=ghp_x\nEMPTY_SECRET=\n"
    template = "# Section one\nA=plan\nB=2\n# Section two\nC=3\n"
    merged = merge_env(
        current, template, ("FETCH_MCP_IP",), ("GITHUB_TOKEN", "EMPTY_SECRET"), tmp_path
    )
    assert merged.text == "# mine\nA=user\n\n# Section one\nB=2\n\n# Section two\nC=3\n"
    assert merged.secrets == {"GITHUB_TOKEN": "ghp_x"}
    again = merge_env(merged.text, template, ("FETCH_MCP_IP",), ("GITHUB_TOKEN",), tmp_path)
    assert again.text == merged.text


def test_env_merge_names_a_bad_line(tmp_path: Path) -> None:
    with pytest.raises(StackError) as error:
        merge_env("not a variable\n", "A=1\n", (), (), tmp_path / "devcontainer.env")
    assert error.value.line == 1


def test_volumes_of_removed_or_changed_services_are_backed_up() -> None:
    old: dict[str, Any] = {
        "services": {
            "memory": {"volumes": ["memory-data:/memory"]},
            "postgres-db": {"volumes": [{"type": "volume", "source": "pg", "target": "/d"}]},
            "mariadb": {"volumes": ["maria:/var/lib/mysql", "./conf:/etc/mysql"]},
        },
        "volumes": {"pg": {"name": "postgres-data"}, "memory-data": None, "maria": {}},
    }
    new = {"services": {"mariadb": old["services"]["mariadb"], "postgres-db": {"image": "pg"}}}
    assert volumes_to_back_up(old, new, "legacy") == ["legacy_memory-data", "postgres-data"]
    assert volumes_to_back_up(old, old, "legacy") == []


def test_project_name_follows_compose() -> None:
    assert project_name({"name": "MCP-Cluster"}, Path("/r/.devcontainer/c.yml")) == "mcp-cluster"
    assert project_name({}, Path("/r/.devcontainer/c.yml")) == "devcontainer"


def test_moved_to_maps_only_the_plans_services() -> None:
    assert moved_to(".github/services/git/config/git.yml") == ".devcontainer/mcp/git/config/git.yml"
    assert moved_to(".github/services/postgres/Dockerfile") == (
        ".devcontainer/containers/postgres/Dockerfile"
    )
    assert moved_to(".github/services/sqlite/Dockerfile") is None
    assert moved_to("README.md") is None


def test_figures_compare_with_their_targets() -> None:
    assert Figure("cached build", "s", 1.7, 10).verdict == "meets"
    assert Figure("start", "s", 45, 30).verdict == "misses"
    assert Figure("gpu", "s", None, 30, "no GPU").verdict == "not measured"
    assert Figure("cpu", "%", 3.0).verdict == "no target"
    assert Figure("start", "s", 15, 30).ratio == 0.5
    assert to_bytes("1.5GiB") == 1610612736 and to_bytes("12kB") == 12000 and to_bytes("?") == 0


def test_a_baseline_is_its_seconds_and_our_ratio_beside_the_goal() -> None:
    assert baseline("cached build / raw bake", 2.6, "raw docker buildx bake", 2.0) == [
        Figure("raw docker buildx bake", "s", 2.0),
        Figure("cached build / raw bake", "x", 1.3, why="the library's goal: <= 1.3"),
    ]


def test_report_writes_markdown_json_and_a_png_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the chart needs matplotlib (no cp313t wheel)")
    figures = [
        Figure("cached build", "s", 1.7, 10),
        Figure("start k8s-plugin", "s", None, 30, "no NVIDIA runtime on this host"),
        Figure("stack RAM", "MB", 9000, 8000),
    ]
    paths = write_report(figures, {"host": "h", "cpus": 4}, tmp_path)
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = paths["markdown"].read_text()
    assert (
        "| start k8s-plugin | - | <= 30 s | not measured | no NVIDIA runtime on this host |" in text
    )
    assert "| stack RAM | 9000 MB | <= 8000 MB | misses |" in text
    assert "**cpus**: 4" in text and "![figures against targets](chart.png)" in text
    data = json.loads(paths["json"].read_text())
    assert [f["verdict"] for f in data["figures"]] == ["meets", "not measured", "misses"]
