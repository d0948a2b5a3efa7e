"""The profile block of `.devcontainer/.env`: the one switch every compose consumer reads.

VS Code, the devcontainer CLI and plain `docker compose` interpolate the compose file with
`.devcontainer/.env` only, so the selected image profile's values live there, between two
marker lines, next to the user's own keys (secrets), which are never touched.
"""

from __future__ import annotations

import re

PROFILE_KEY = "MCP_PROFILE"
BEGIN = "# >>> image profile (written by `invoke env.init --profile NAME`; do not edit here)"
END = "# <<< image profile"
_BLOCK = re.compile(rf"^{re.escape(BEGIN)}\n.*?^{re.escape(END)}\n?", re.M | re.S)
_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")


def apply_profile(text: str, name: str, values: dict[str, str]) -> str:
    """`text` with its profile block replaced by `name`'s values.

    Lines outside the block that set one of the block's keys are dropped (they would shadow
    it); every other line is kept as it was.
    """
    body = {PROFILE_KEY: name, **values}
    kept = [
        line
        for line in _BLOCK.sub("", text).splitlines()
        if not ((m := _KEY.match(line)) and m.group(1) in body)
    ]
    while kept and not kept[-1].strip():
        kept.pop()
    block = [BEGIN, *(f"{key}={value}" for key, value in body.items()), END]
    return "\n".join([*kept, *([""] if kept else []), *block]) + "\n"


def block_values(text: str) -> dict[str, str]:
    """The keys the profile block sets (empty when there is no block)."""
    match = _BLOCK.search(text)
    if match is None:
        return {}
    values = {}
    for line in match.group(0).splitlines()[1:-1]:
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values
