"""Merge the plan's variables into a user's env file, keeping the user's lines and values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tasks.model.envfile import parse_env_text


@dataclass(frozen=True)
class EnvMerge:
    """The merged text and the secret values that must leave the committed file."""

    text: str
    secrets: dict[str, str]


def _template_lines(template: str) -> dict[str, tuple[list[str], str]]:
    """Each template variable -> the comment block of its section and its own line."""
    found: dict[str, tuple[list[str], str]] = {}
    block: list[str] = []
    section: list[str] = []
    for raw in template.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            block.append(raw)
        elif "=" in line:
            if block:
                section, block = block, []
            found[line.split("=", 1)[0].strip()] = (section, raw)
        else:
            block = []
    return found


def merge_env(
    current: str, template: str, removed: tuple[str, ...], secrets: tuple[str, ...], path: Path
) -> EnvMerge:
    """`current` without the removed variables and secrets, plus the template's missing
    variables (under their section comments); existing values are the user's and stay."""
    parsed = parse_env_text(current, path)
    template_values = parse_env_text(template, path).as_dict()
    drop = {e.line for e in parsed.entries if e.key in removed or e.key in secrets}
    moved = {e.key: e.value for e in parsed.entries if e.key in secrets and e.value}
    lines = [line for n, line in enumerate(current.splitlines(), 1) if n not in drop]
    present = {e.key for e in parsed.entries if e.line not in drop}
    missing = [k for k in template_values if k not in present and k not in secrets]
    template_lines = _template_lines(template)
    last_header: list[str] | None = None
    for key in missing:
        header, raw = template_lines[key]
        if header != last_header:
            last_header = header
            lines += ["", *header]
        lines.append(raw)
    return EnvMerge("\n".join(lines).rstrip("\n") + "\n", moved)
