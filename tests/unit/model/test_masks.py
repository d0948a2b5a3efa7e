"""Which workspace files hold secrets, and the checks that every one is hidden from the MCP
servers (MCP013) and that `.mcpignore` names real paths (MCP014)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.model.masks import secret_files
from tasks.model.stack import load_stack
from tasks.rules.catalog import run_rules
from tests.clirun import REPO
from tests.ministack import MiniStack

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(
    ("rel", "text", "why"),
    [
        (".env", "POSTGRES_PASSWORD=s3cret\n", "an env file that sets POSTGRES_PASSWORD"),
        (".env.local", "export API_KEY='abc'\n", "an env file that sets API_KEY"),
        ("deploy/prod.env", "GITHUB_TOKEN=ghp_x\n", "an env file that sets GITHUB_TOKEN"),
        (".envrc", "AWS_SECRET_ACCESS_KEY=x\n", "an env file that sets AWS_SECRET_ACCESS_KEY"),
        ("keys/server.key", KEY, "a private key"),
        ("certs/key.pem", KEY, "a private key"),
        ("home/.ssh/id_ed25519", KEY, "a private key"),
        ("store.p12", "binary", "a keystore"),
        ("app.jks", "binary", "a keystore"),
        ("cluster.kubeconfig", "apiVersion: v1\n", "a kubeconfig"),
        (".kube/config", "apiVersion: v1\n", "a kubeconfig"),
    ],
)
def test_secret_bearing_files(tmp_path: Path, rel: str, text: str, why: str) -> None:
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(text)
    assert [(s.rel, s.is_folder, s.why) for s in secret_files(tmp_path)] == [(rel, False, why)]


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        (".env", "POSTGRES_PASSWORD=\nPOSTGRES_DB=mcp\n"),  # nothing set
        (".env", "POSTGRES_PASSWORD=''\n"),
        (".env.example", "POSTGRES_PASSWORD=changeme\n"),
        ("devcontainer.env", "POSTGRES_PASSWORD_FILE=/run/secrets/p\nDB_HOST=db\n"),
        ("certs/ca.pem", CERT),  # a certificate is public
        ("id_rsa.pub", "ssh-rsa AAAA"),
        ("environment.yml", "PASSWORD=x\n"),
        (".venv/lib/.env", "TOKEN=x\n"),  # tool folders are not searched
        ("node_modules/a/.env", "TOKEN=x\n"),
    ],
)
def test_files_that_are_not_secrets(tmp_path: Path, rel: str, text: str) -> None:
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(text)
    assert secret_files(tmp_path) == []


def test_a_volume_backup_is_secret_as_a_whole(tmp_path: Path) -> None:
    backup = tmp_path / "backups/20261207T080000Z"
    backup.mkdir(parents=True)
    (backup / "manifest.json").write_text("{}")
    (backup / "postgres-data.tar").write_text("x")
    (backup / ".env").write_text("TOKEN=inside\n")
    os.symlink(tmp_path / "missing", tmp_path / "dangling.key")
    found = [(s.rel, s.is_folder, s.why) for s in secret_files(tmp_path)]
    assert found == [("backups/20261207T080000Z", True, "a volume backup")]


def test_this_repository_hides_what_it_holds() -> None:
    stack = load_stack(REPO)
    assert [f for f in run_rules(stack, {"MCP013", "MCP014"})] == []


def test_each_unhidden_secret_is_named_with_the_line_to_add(mini: MiniStack) -> None:
    mini.put_root("src/deploy.key", KEY)
    mini.put_root("backups/x/manifest.json", "{}")
    mini.put_root("backups/x/a.tar", "")
    mini.put_root(".mcpignore", "*.pem\n")
    hits = [(h.path, h.message, h.fix) for h in run_rules(load_stack(mini.root), {"MCP013"})]
    assert hits == [
        (
            "backups/x",
            "backups/x is a volume backup, visible to filesystem",
            "add `backups/x/` (or a pattern) to .mcpignore",
        ),
        (
            "src/deploy.key",
            "src/deploy.key is a private key, visible to filesystem",
            "add `src/deploy.key` (or a pattern) to .mcpignore",
        ),
    ]
    mini.put_root(".mcpignore", "*.key\n/backups/\n")
    assert run_rules(load_stack(mini.root), {"MCP013"}) == []


def test_no_server_sees_the_workspace_nothing_to_hide(mini: MiniStack) -> None:
    mini.put_root("src/deploy.key", KEY)
    mini.edit_yaml("mcp/filesystem/config/filesystem.yml", lambda d: d.pop("mounts"))
    mini.edit_yaml("mcp/filesystem/config/filesystem.yml", lambda d: d.update(args=[]))
    assert run_rules(load_stack(mini.root), {"MCP013"}) == []


def test_paths_that_name_nothing(mini: MiniStack) -> None:
    mini.put_root("present.txt", "")
    mini.put_root(
        ".mcpignore",
        "/present.txt\n/.devcontainer/.env\n/backups/\n/nowhere/\n*.nothing\nnothing-anywhere\n"
        "!/nowhere/either\n",
    )
    hits = [(h.line, h.message) for h in run_rules(load_stack(mini.root), {"MCP014"})]
    # present, written by the stack (its env file, backups), a wildcard or a name at any depth,
    # a negation: all fine; only the path to nowhere is a typo
    assert hits == [(4, "`/nowhere/` matches no file here and nothing the stack writes")]


def test_a_path_the_stack_generates_counts_before_it_exists(tmp_path: Path) -> None:
    from tests.ministack import copy_repo

    root = copy_repo(tmp_path)
    stack = load_stack(root)
    assert ".devcontainer/containers/buildx/certs/server" in stack.produced_paths()
    assert run_rules(stack, {"MCP014"}) == []
