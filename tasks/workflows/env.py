"""Preparing `.devcontainer/.env`, the one file every consumer reads: the image profile, and
passwords for the secrets nothing provides yet."""

from __future__ import annotations

from pathlib import Path

from tasks.files import write_atomic
from tasks.model.envfile import parse_env_text
from tasks.model.localenv import apply_profile
from tasks.model.source import present, read_text
from tasks.model.stack import LOCAL_ENV, find_folder, load_stack, profile_values
from tasks.outcome import Outcome
from tasks.report import REPO_ROOT
from tasks.workflows.envinit import ca_line, with_passwords


def init_env(profile: str = "", root: str = "") -> Outcome:
    """Write the image profile (when given) and any missing password into `.env` (mode 600),
    keeping every other key; values are never shown."""
    notes: list[object] = []
    base = Path(root) if root else REPO_ROOT
    folder = find_folder(base)[1]
    path = folder / LOCAL_ENV
    text = read_text(path, "env file") if present(path) else ""
    parse_env_text(text, path)  # what compose would refuse stops here, before any write
    if profile:
        text = apply_profile(text, profile, profile_values(folder, profile))
        write_atomic(path, text, private=True)
    stack = load_stack(base)
    current = parse_env_text(text, path).as_dict()
    text, added = with_passwords(stack, text, current, notes.append)
    ca = ca_line(current)
    if ca:
        text += "\n".join(ca) + "\n"
    write_atomic(path, text, private=True)
    if profile:
        notes.append(f"{stack.rel(path)}: image profile {profile} for every consumer")
    notes.append(
        f"{stack.rel(path)}: generated {', '.join(added)}"
        if added
        else f"{stack.rel(path)}: every password is already provided"
    )
    return Outcome({"env": str(path), "profile": profile or None, "generated": added}, notes)
