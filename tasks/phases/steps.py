"""Idempotent steps: each lists the actions still needed (none = done) and runs them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from tasks.errors import StackError
from tasks.model import jsonc
from tasks.model.envquote import env_line
from tasks.model.source import load_yaml
from tasks.phases import legacy
from tasks.phases.envmerge import merge_env
from tasks.phases.gitrepo import blob_id
from tasks.phases.workspace import Workspace, diff
from tasks.servers.jsonc_edit import delete_key, set_value

DONE, PENDING, BLOCKED, NOT_EXERCISED = "done", "pending", "blocked", "not exercised"


@dataclass(frozen=True)
class Action:
    """One change a step makes; `diff` shows it for a file edit."""

    description: str
    run: Callable[[], None]
    diff: str = ""


@dataclass(frozen=True)
class StepStatus:
    """Where a step stands, and why."""

    state: str
    reason: str = ""


class Step:
    """A named unit of a phase. Subclasses list their pending actions and their paths."""

    title: str
    phase: int = 0

    def actions(self, ws: Workspace) -> list[Action]:
        """What is still to do (empty when the step is done); raises StackError on a conflict."""
        raise NotImplementedError

    def paths(self, ws: Workspace) -> list[str]:
        """Files this step owns: what `--commit` stages for it."""
        return []

    def notes(self, ws: Workspace) -> list[str]:
        """What the user should know after the step ran (nothing by default)."""
        return []

    def status(self, ws: Workspace) -> StepStatus:
        """Done, pending (with the count of changes) or blocked (with the conflict)."""
        try:
            pending = self.actions(ws)
        except StackError as conflict:
            return StepStatus(BLOCKED, conflict.render())
        if not pending:
            return StepStatus(DONE)
        return StepStatus(PENDING, f"{len(pending)} change(s): {pending[0].description}")


@dataclass
class Folders(Step):
    """Create the target folder structure."""

    folders: tuple[str, ...]
    title: str = "create the target folders"

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        missing = [f for f in self.folders if not (ws.root / f).is_dir()]
        return [Action(f"mkdir {f}", partial((ws.root / f).mkdir, parents=True)) for f in missing]


@dataclass
class MoveService(Step):
    """`git mv` one legacy service folder to its new home, file by file."""

    name: str
    title: str = ""

    def __post_init__(self) -> None:
        self.title = f"move {legacy.LEGACY_ROOT}/{self.name}/ to {legacy.MOVES[self.name]}/"

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        sources = ws.git.known(f"{legacy.LEGACY_ROOT}/{self.name}")
        return [p for s in sources for p in (s, legacy.moved_to(s)) if p]

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        found = []
        for source in ws.git.tracked_many((f"{legacy.LEGACY_ROOT}/{self.name}",)):
            target = legacy.moved_to(source)
            if target is None or ws.state.duplicates.get(source) == blob_id(ws.read(source) or b""):
                continue
            existing = ws.read(target)
            if existing is None:
                found.append(
                    Action(f"git mv {source} {target}", partial(ws.git.move, source, target))
                )
            elif existing == (data := ws.read(source) or b""):
                found.append(
                    Action(
                        f"keep {source}: {target} already has it (cleanup removes it)",
                        partial(ws.remember_duplicate, source, blob_id(data)),
                    )
                )
            else:
                raise StackError(
                    ws.root / target,
                    f"already exists and differs from {source}",
                    "merge the two by hand, delete the one you do not keep, then re-run",
                )
        return found


@dataclass
class CopyFiles(Step):
    """Make files equal to the template's, never overwriting an uncommitted hand edit; files the
    template replaces (`retired`) are removed, under the same guard."""

    title: str
    prefixes: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    retired: tuple[str, ...] = ()

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        copied = [
            f for f in ws.template_files if f.startswith(self.prefixes) and f not in self.excluded
        ]
        return copied + list(self.retired)

    def guard(self, ws: Workspace, path: str) -> None:
        """Raise StackError when replacing `path` would drop something the user needs."""

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        found = []
        for path in self.retired:
            if ws.read(path) is not None:
                ws.ensure_replaceable(path, self.phase)
                found.append(Action(f"remove {path}", partial(ws.delete, path)))
        for path in self.paths(ws):
            if path in self.retired:
                continue
            wanted = ws.template_bytes(path)
            current = ws.read(path)
            if current == wanted:
                continue
            ws.ensure_replaceable(path, self.phase)
            self.guard(ws, path)
            verb = "create" if current is None else "update"
            text = (current or b"").decode("utf-8", "replace")
            found.append(
                Action(
                    f"{verb} {path}",
                    partial(ws.write, path, wanted, ws.template / path),
                    diff(path, text, wanted.decode("utf-8", "replace")),
                )
            )
        return found


@dataclass
class ComposeFile(CopyFiles):
    """The compose file: replaced only when every service in it is one the plan knows."""

    def guard(self, ws: Workspace, path: str) -> None:  # noqa: D102
        data = load_yaml(ws.root / path, "compose file").data if ws.read(path) else None
        target = load_yaml(ws.template / path, "template compose file").data or {}
        services = data.get("services") if isinstance(data, dict) else None
        known = set(legacy.COMPOSE_SERVICES) | set(target.get("services", {}))
        for service in services if isinstance(services, dict) else ():
            if service not in known:
                raise StackError(
                    ws.root / path,
                    f"defines service {service!r}, which the new compose file would drop",
                    f"move {service!r} to its own compose file (or into the template) first",
                    key=f"services.{service}",
                )


@dataclass
class JsonKeys(Step):
    """Set and remove keys of a JSONC file, keeping every other key and comment."""

    title: str
    path: str
    set_keys: tuple[tuple[str, ...], ...]
    remove_keys: tuple[tuple[str, ...], ...] = ()

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        return [self.path]

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        current = ws.text(self.path)
        template = ws.template_text(self.path)
        if current is None:
            wanted = template
        else:
            wanted = old = current
            values = jsonc.loads(template)
            try:
                parsed = jsonc.parse(old)
            except jsonc.JsoncError as error:
                raise StackError(
                    ws.root / self.path,
                    f"is not valid JSONC: {error.problem}",
                    error.fix or "fix the syntax",
                    line=error.line,
                ) from None
            for keys in self.set_keys:
                _refuse_non_objects(ws, self.path, parsed, keys)
            for keys in self.remove_keys:
                wanted = delete_key(wanted, keys)
            for keys in reversed(self.set_keys):  # each insertion lands first
                value = values
                for key in keys:
                    value = value[key]
                if _lookup(jsonc.loads(wanted), keys) != value:
                    wanted = set_value(wanted, keys, value)
            if wanted == old:
                return []
        data = wanted.encode("utf-8")
        return [
            Action(
                f"{'create' if current is None else 'edit'} {self.path}",
                lambda: ws.write(self.path, data),
                diff(self.path, current or "", wanted),
            )
        ]


def _refuse_non_objects(
    ws: Workspace, path: str, parsed: jsonc.Parsed, keys: tuple[str, ...]
) -> None:
    """Stop with the key and line when a value on the way to `keys` is there but is not an
    object: the step could not add its keys inside it (`invoke check` lists the file's other
    schema violations)."""
    node: object = parsed.data
    for depth in range(len(keys)):
        where = keys[:depth]
        if not isinstance(node, dict):
            shown = ".".join(where) or "the document"
            raise StackError(
                ws.root / path,
                f"{shown} is {_kind(node)}, where this step puts {'.'.join(keys)} inside an object",
                f"make {shown} an object, or remove it; `invoke check --root {ws.root}` lists "
                "what else the file's schema refuses",
                line=parsed.lines.get(where),
                key=".".join(where) or None,
            )
        if keys[depth] not in node:
            return
        node = node[keys[depth]]


def _kind(value: object) -> str:
    """A JSON value's kind in words."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def _lookup(data: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


@dataclass
class EnvFile(Step):
    """Add the plan's variables, drop the obsolete ones, move secrets to the gitignored .env."""

    path: str
    secrets_path: str
    title: str = "update the environment file"
    removed: tuple[str, ...] = field(default=legacy.REMOVED_VARIABLES)

    def paths(self, ws: Workspace) -> list[str]:  # noqa: D102
        return [self.path]

    def actions(self, ws: Workspace) -> list[Action]:  # noqa: D102
        current = ws.text(self.path) or ""
        merged = merge_env(
            current,
            ws.template_text(self.path),
            self.removed,
            legacy.SECRET_VARIABLES,
            ws.root / self.path,
        )
        if merged.text == current:
            return []
        found = []
        if merged.secrets:
            found.append(self._move_secrets(ws, merged.secrets))
        data = merged.text.encode("utf-8")
        found.append(
            Action(
                f"edit {self.path}",
                lambda: ws.write(self.path, data),
                diff(self.path, current, merged.text),
            )
        )
        return found

    def _move_secrets(self, ws: Workspace, secrets: dict[str, str]) -> Action:
        target = ws.root / self.secrets_path
        existing = target.read_text(encoding="utf-8") if target.is_file() else ""
        lines = [env_line(k, v) for k, v in secrets.items() if f"\n{k}=" not in f"\n{existing}"]
        # A last line without its newline would run into the first appended one.
        text = "\n" if existing and not existing.endswith("\n") else ""
        text += "".join(f"{line}\n" for line in lines)

        def move() -> None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(target, flags, 0o600), "w", encoding="utf-8") as handle:
                handle.write(text)
            target.chmod(0o600)

        names = ", ".join(secrets)
        committed = blob_id(ws.read(self.path) or b"") in ws.committed
        warning = "; git history keeps the old values: rotate them" if committed else ""
        return Action(f"move {names} to {self.secrets_path} (gitignored){warning}", move)
