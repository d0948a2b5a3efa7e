"""The plan's starting point: where each legacy file lives and where it goes."""

from __future__ import annotations

LEGACY_ROOT = ".github/services"
MOVES = {
    **{
        name: f".devcontainer/mcp/{name}"
        for name in ("fetch", "filesystem", "git", "github", "memory")
    },
    **{
        name: f".devcontainer/containers/{name}"
        for name in ("k8s-plugin", "mariadb", "postgres", "python-experimental")
    },
}
"""Phase 2 (Folder structure reorganization): the legacy layout's `.github/services/<name>/`
folders -> their new homes. A fact about the old repository; the servers of the new one are
their manifests."""
FOLDERS = (
    *MOVES.values(),
    ".devcontainer/containers/buildx",
    ".devcontainer/containers/runner",
    ".devcontainer/containers/monitoring",
    ".devcontainer/docs/architecture",
    ".devcontainer/docs/services",
    ".devcontainer/docs/setup",
)
"""Phase 2 (Folder structure reorganization): the target folder structure."""
COMPOSE_SERVICES = (
    "github",
    "postgres-db",
    "mariadb",
    "filesystem",
    "postgres-mcp",
    "mariadb-mcp",
    "memory",
    "git",
    "fetch",
    "python-experimental",
    "k8s-plugin",
    "devcontainer",
)
"""Phase 6 (Docker Compose refactoring): the services the old compose file defines."""
OLD_FILES = (
    ".devcontainer/devcontainer.dockerfile.backup",
    ".devcontainer/devcontainer.minimal.dockerfile",
)
"""Phase 11 (Cleanup): old devcontainer files it removes."""
REMOVED_VARIABLES = (
    "GITHUB_MCP_IP",
    "FILESYSTEM_MCP_IP",
    "MEMORY_MCP_IP",
    "GIT_MCP_IP",
    "FETCH_MCP_IP",
    "PYTHON_GIL",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONOPTIMIZE",
)
"""Phases 6 (Docker Compose refactoring) and 9 (Environment variables): variables
devcontainer.env no longer carries. PYTHON_GIL=0 belongs inside the free-threaded images only;
import-time profiling and -OO break tools."""
SECRET_VARIABLES = (
    "POSTGRES_PASSWORD",
    "MARIADB_ROOT_PASSWORD",
    "MARIADB_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "GITHUB_TOKEN",
    "GITHUB_PERSONAL_ACCESS_TOKEN",
    "GITHUB_RUNNER_ACCESS_TOKEN",
    "ACCESS_TOKEN",
)
"""Secrets: moved from the committed env file to the gitignored .devcontainer/.env."""


def moved_to(path: str) -> str | None:
    """Where the plan moves a legacy file (`.github/services/<name>/...`), if it does."""
    prefix = LEGACY_ROOT + "/"
    if not path.startswith(prefix):
        return None
    name, _, rest = path[len(prefix) :].partition("/")
    return f"{MOVES[name]}/{rest}" if name in MOVES and rest else None
