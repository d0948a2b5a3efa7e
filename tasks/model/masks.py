"""What no MCP server may see: the workspace's `.mcpignore` patterns (matched by the same code
the launcher runs, `mcp/runtime/mcpignore.py`), and the files under the workspace that hold
secrets (env files with credentials, private keys, keystores, kubeconfigs, volume backups)."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

RUNTIME = Path(__file__).resolve().parents[2] / ".devcontainer" / "mcp" / "runtime"
# Folders tools regenerate (environments, caches): not searched for secrets.
NOT_SEARCHED = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        ".nox",
        ".tox",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "mutants",
    }
)
_ENV_NAME = re.compile(r"(?:^|\.)env(?:\.[^.]+)?$|^\.env")
_EXAMPLE = re.compile(r"\.(example|sample|template|dist)$")
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY)", re.I)
_NOT_SECRET = re.compile(r"(_FILE|_PATH|_URL|_ID|_INPUT|_NAME)$", re.I)
_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(\S.*)$", re.M
)
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".pk8")
_KEYSTORES = (".p12", ".pfx", ".jks", ".keystore")
HEAD_BYTES = 65536


def is_secret_name(name: str) -> bool:
    """True for variable names that hold credentials (passwords, tokens, keys)."""
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET.search(name)


@cache
def matcher() -> ModuleType:
    """The launcher's `.mcpignore` matcher (standard library only, so it runs on any client)."""
    spec = importlib.util.spec_from_file_location("mcpignore", RUNTIME / "mcpignore.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mcpignore", module)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class SecretFile:
    """A path under the workspace that holds a secret, and what kind."""

    rel: str
    is_folder: bool
    why: str


def _head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES).decode(errors="replace")
    except OSError:
        return ""


def secret_kind(path: Path, name: str, parent: str) -> str:
    """Why a file holds a secret ('' when it does not seem to)."""
    lower = name.lower()
    if lower.endswith(_KEYSTORES):
        return "a keystore"
    if lower.endswith(_KEY_SUFFIXES) or (lower.startswith("id_") and "." not in lower):
        return "a private key" if "PRIVATE KEY-----" in _head(path) else ""
    if (
        lower == "kubeconfig"
        or lower.endswith(".kubeconfig")
        or (parent == ".kube" and lower == "config")
    ):
        return "a kubeconfig"
    if _ENV_NAME.search(lower) and not _EXAMPLE.search(lower):
        for match in _ASSIGNMENT.finditer(_head(path)):
            if is_secret_name(match.group(1)) and match.group(2).strip().strip("'\""):
                return f"an env file that sets {match.group(1)}"
        return ""
    return ""


def is_backup(folder: Path) -> bool:
    """True for a folder `invoke volumes.backup` wrote (a manifest beside tar archives)."""
    return (folder / "manifest.json").is_file() and any(folder.glob("*.tar"))


def secret_files(root: Path) -> list[SecretFile]:
    """Every secret-bearing file or backup folder under `root` (tool folders not searched)."""
    found: list[SecretFile] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        if prefix and is_backup(here):
            found.append(SecretFile(rel, True, "a volume backup"))
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in NOT_SEARCHED and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            why = secret_kind(path, name, here.name)
            if why:
                found.append(SecretFile(prefix + name, False, why))
    return found
