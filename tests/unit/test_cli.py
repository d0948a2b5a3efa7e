"""The CLI as users call it: task listing, exit codes, bad input and JSON output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clirun import REPO, invoke, invoke_json
from tests.ministack import MiniStack


@pytest.mark.parametrize("where", [REPO, REPO / "tests", REPO / ".ci"])
def test_invoke_lists_namespaces_from_root_and_subfolders(where: Path) -> None:
    result = invoke("--list", cwd=where)
    assert result.returncode == 0, result.stderr
    for name in ("check", "docs.check", "env.show", "env.check"):
        assert re.search(rf"^\s+{re.escape(name)}\s", result.stdout, re.M), name


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```sh\n(.+?)\n```", readme)
    assert len(commands) == 2
    assert commands[1] in (REPO / ".ci/run").read_text()


def test_clean_stack_exits_zero(mini: MiniStack) -> None:
    code, data = invoke_json("check", "--root", str(mini.root))
    assert code == 0
    assert data["ok"] is True and data["summary"]["error"] == 0


def test_errors_exit_one_and_name_file_and_rule(mini: MiniStack) -> None:
    mini.put("devcontainer.env", "DB_IP=172.20.0.20\nPYTHONOPTIMIZE=2\n")
    code, data = invoke_json("check", "--root", str(mini.root))
    assert code == 1
    hit = next(f for f in data["findings"] if f["rule"] == "PY002")
    assert hit["path"] == ".devcontainer/devcontainer.env" and hit["line"] == 2
    assert hit["fix"]


def test_table_output_names_rule_and_location(mini: MiniStack) -> None:
    mini.put("devcontainer.env", "DB_IP=172.20.0.20\nPYTHONOPTIMIZE=2\n")
    result = invoke("check", "--root", str(mini.root))
    assert result.returncode == 1
    assert "PY002" in result.stdout and "devcontainer.env:2" in result.stdout
    assert "FAIL" in result.stdout


BAD_INPUTS = [
    (
        "malformed JSONC",
        "devcontainer.json",
        '{\n  "service": "devcontainer",\n  "x": [1, 2\n}\n',
        r"devcontainer\.json:4.*invalid JSONC",
    ),
    (
        "malformed YAML",
        "docker-compose.mcp.yml",
        "services:\n  db:\n    image: [oops\n",
        r"docker-compose\.mcp\.yml:\d+.*invalid YAML",
    ),
    (
        "required variable",
        "docker-compose.mcp.yml",
        "services:\n  db:\n    image: db:${DB_TAG:?set DB_TAG}\n",
        r"docker-compose\.mcp\.yml:3 \[services\.db\.image\].*DB_TAG.*Fix: define DB_TAG",
    ),
    (
        "env file line",
        "devcontainer.env",
        "DB_IP=172.20.0.20\nthis is not an assignment\n",
        r"devcontainer\.env:2.*KEY=VALUE",
    ),
    (
        "unterminated quote",
        "devcontainer.env",
        'DB_IP="172.20.0.20\n',
        r"devcontainer\.env:1.*quote",
    ),
]


@pytest.mark.parametrize(
    ("case", "relative", "text", "pattern"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_exits_two_with_location_and_fix(
    mini: MiniStack, case: str, relative: str, text: str, pattern: str
) -> None:
    mini.put(relative, text)
    result = invoke("check", "--root", str(mini.root))
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert re.search(pattern, message), message
    assert "Fix:" in message


def test_a_schema_violation_is_a_finding_with_its_key(mini: MiniStack) -> None:
    mini.put(
        "mcp/memory/config/memory.yml", "name: memory\nimage: m:1\ntransport: stdio\nimgae: typo\n"
    )
    result = invoke("check", "--root", str(mini.root))
    message = " ".join(result.stdout.split())
    assert result.returncode == 1, message
    assert re.search(r"SCHEMA .*memory\.yml:4 \[imgae\].*unknown key 'imgae'", message), message


def test_bad_input_as_json(mini: MiniStack) -> None:
    mini.put("devcontainer.json", "{ nope")
    code, data = invoke_json("check", "--root", str(mini.root))
    assert code == 2
    assert data["error"]["file"].endswith("devcontainer.json") and data["error"]["fix"]


def test_missing_stack_exits_two(tmp_path: Path) -> None:
    result = invoke("check", "--root", str(tmp_path))
    assert result.returncode == 2
    assert "no .devcontainer/devcontainer.json" in result.stderr


def test_env_show_masks_secrets_and_names_sources(mini: MiniStack) -> None:
    mini.put(
        "devcontainer.env", "DB_IP=172.20.0.20\nDEVCONTAINER_IP=172.20.0.60\nAPI_TOKEN=s3cr3t\n"
    )
    code, data = invoke_json("env.show", "--root", str(mini.root))
    assert code == 0
    rows = {r["variable"]: r for r in data["services"]["devcontainer"]}
    assert rows["API_TOKEN"]["value"] == "****"
    assert rows["DB_IP"]["value"] == "172.20.0.20"
    assert rows["DB_IP"]["source"] == ".devcontainer/devcontainer.env:1"
    assert "s3cr3t" not in invoke("env.show", "--root", str(mini.root)).stdout
    db = {r["variable"]: r for r in data["services"]["db"]}
    assert db["/run/secrets/db_password"]["value"] == "****"


def test_env_show_unknown_service(mini: MiniStack) -> None:
    result = invoke("env.show", "--root", str(mini.root), "--service", "nope")
    assert result.returncode == 2 and "no service 'nope'" in result.stderr


def test_env_check_reports_secret_status(mini: MiniStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    code, data = invoke_json("env.check", "--root", str(mini.root))
    assert code == 0 and data["secrets"]["db_password"]["provided"] is False
    result = invoke("env.check", "--root", str(mini.root), "--require-secrets")
    assert result.returncode == 1 and "db_password" in result.stdout
    mini.put(".env", "DB_PASSWORD=from-local-file\n")
    code, data = invoke_json("env.check", "--root", str(mini.root))
    assert data["secrets"]["db_password"]["provided"] is True


def test_docs_check_fails_on_coverage_warning(mini: MiniStack) -> None:
    readme = mini.folder / "docs/README.md"
    mini.put(
        "docs/README.md", re.sub(r"Services and servers: .*", "Only db here.", readme.read_text())
    )
    code, data = invoke_json("docs.check", "--root", str(mini.root))
    assert code == 1
    assert {f["rule"] for f in data["findings"]} == {"DOC003"}


def test_mcp_config_regenerates_and_keeps_comments(mini: MiniStack) -> None:
    mini.put_root(".vscode/mcp.json", '{"servers": {}}\n')
    result = invoke("mcp.config", "--dry-run", "--root", str(mini.root))
    assert result.returncode == 1 and "+++ .vscode/mcp.json" in result.stdout
    assert (mini.root / ".vscode/mcp.json").read_text() == '{"servers": {}}\n'
    mini.edit_yaml("mcp/memory/config/memory.yml", lambda d: d.update(image="mini-memory:2"))
    assert invoke("mcp.config", "--root", str(mini.root)).returncode == 0
    devcontainer = (mini.folder / "devcontainer.json").read_text()
    assert devcontainer.startswith("// mini stack") and "mini-memory:2" in devcontainer
    assert invoke("check", "--root", str(mini.root)).returncode == 0
    again = invoke("mcp.config", "--root", str(mini.root))
    assert again.returncode == 0 and "match the manifests" in again.stdout


def test_unknown_profile_names_the_known_ones(mini: MiniStack) -> None:
    mini.put("profiles/offline.env", "DB_BASE_IMAGE=mcp-offline/postgres:17\n")
    result = invoke("check", "--root", str(mini.root), "--profile", "offlin")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "no profile 'offlin'" in message and "use one of: offline" in message
