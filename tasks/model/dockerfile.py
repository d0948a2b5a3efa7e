"""Dockerfiles as typed stages and instructions (base images, ARG, ENV, RUN mounts, HEALTHCHECK)."""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from dockerfile_parse import DockerfileParser

from tasks.errors import StackError
from tasks.model.interpolate import Interpolator
from tasks.model.source import read_text


@dataclass(frozen=True)
class Instruction:
    """One instruction; `line` is 1-based, `flags` are its leading `--name=value` options."""

    keyword: str
    value: str
    line: int
    flags: tuple[tuple[str, str], ...] = ()

    def mounts(self) -> list[dict[str, str]]:
        """`RUN --mount=` options as dicts (`type`, `target`, `id`, ...)."""
        found = []
        for name, value in self.flags:
            if name == "mount":
                items = (part.partition("=") for part in value.split(","))
                found.append({key: val for key, _, val in items})
        return found

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction (CMD, ENTRYPOINT, COPY ...), else None."""
        text = self.value.strip()
        if not text.startswith("["):
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        return [str(item) for item in parsed] if isinstance(parsed, list) else None

    def context_sources(self) -> list[str]:
        """The source operands of a COPY or ADD that reads the build context (shell or JSON
        form, the destination left out); none for other instructions and `--from` copies."""
        if self.keyword not in ("COPY", "ADD") or any(name == "from" for name, _ in self.flags):
            return []
        return (self.exec_form() or self.value.split())[:-1]


@dataclass(frozen=True)
class Stage:
    """A build stage: its `FROM` line, optional name and the instructions that follow."""

    base: str
    name: str | None
    line: int
    instructions: tuple[Instruction, ...]

    def env(self) -> dict[str, tuple[str, int]]:
        """ENV values set in this stage, with the line that set each."""
        values: dict[str, tuple[str, int]] = {}
        for ins in self.of("ENV"):
            for key, value in parse_env_instruction(ins.value).items():
                values[key] = (value, ins.line)
        return values

    def of(self, keyword: str) -> list[Instruction]:
        """Instructions of one kind, in order."""
        return [ins for ins in self.instructions if ins.keyword == keyword]

    def user_at(self, line: int) -> str:
        """The user in effect at `line` (`root` until a USER instruction says otherwise)."""
        user = "root"
        for ins in self.of("USER"):
            if ins.line < line:
                user = ins.value.split(":")[0].strip()
        return user


@dataclass(frozen=True)
class Dockerfile:
    """A parsed Dockerfile."""

    path: Path
    global_args: dict[str, str]
    stages: tuple[Stage, ...]
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def final(self) -> Stage:
        """The stage that produces the image."""
        return self.stages[-1]

    def stage_named(self, name: str) -> Stage | None:
        """The stage called `name` (from `FROM ... AS name`; any case, as BuildKit matches)."""
        wanted = name.lower()
        return next((s for s in self.stages if s.name and s.name.lower() == wanted), None)

    def for_target(self, target: str | None) -> Dockerfile | None:
        """The Dockerfile as a build of stage `target` (None: the last stage) sees it: see
        `reached_from`. None when no stage has that name."""
        if target is None:
            return self.reached_from(len(self.stages) - 1)
        stage = self.stage_named(target)
        return None if stage is None else self.reached_from(self.stages.index(stage))

    def images(self) -> list[Dockerfile]:
        """One view per image the file can build: each named stage as a target, and the last
        stage (the default target)."""
        last = len(self.stages) - 1
        return [
            self.reached_from(i) for i, stage in enumerate(self.stages) if stage.name or i == last
        ]

    def reached_from(self, start: int) -> Dockerfile:
        """The stages a build of stage number `start` runs: its FROM chain, `COPY --from` and
        `RUN --mount from=` sources, transitively, in file order with that stage last (so
        `final` is it). Stages it never reaches are left out, as BuildKit skips them."""
        reached, todo = {start}, [start]
        while todo:
            stage = self.stages[todo.pop()]
            names = [stage.base] + [
                value
                for ins in stage.instructions
                for value in [v for k, v in ins.flags if k == "from"]
                + [m["from"] for m in ins.mounts() if "from" in m]
            ]
            for name in names:
                index = self._stage_index(self.resolve(name))
                if index is not None and index not in reached:
                    reached.add(index)
                    todo.append(index)
        order = [i for i in range(len(self.stages)) if i in reached and i != start] + [start]
        return replace(self, stages=tuple(self.stages[i] for i in order))

    def _stage_index(self, name: str) -> int | None:
        """The index of the stage `name` refers to, by name or (in `--from`) by number."""
        if name.isdigit():
            return int(name) if int(name) < len(self.stages) else None
        stage = self.stage_named(name)
        return None if stage is None else self.stages.index(stage)

    def instructions(self) -> list[Instruction]:
        """Every instruction of every stage."""
        return [ins for stage in self.stages for ins in stage.instructions]

    def resolve(self, text: str, build_args: dict[str, str] | None = None) -> str:
        """Resolve `${ARG}` references in a FROM line against ARG defaults and `build_args`."""
        env = dict(self.global_args)
        env.update(build_args or {})
        return Interpolator(env).resolve(text)

    def external_bases(self, build_args: dict[str, str] | None = None) -> list[tuple[str, int]]:
        """Base images that are not earlier stages, resolved, with their FROM line."""
        names = {stage.name for stage in self.stages if stage.name}
        found = []
        for stage in self.stages:
            image = self.resolve(stage.base, build_args)
            if image not in names and image != "scratch":
                found.append((image, stage.line))
        return found

    def lineage(self, stage: Stage | None = None) -> list[Stage]:
        """`stage` (the final one by default) and the local stages it is built FROM."""
        chain: list[Stage] = []
        current: Stage | None = stage or self.final
        while current is not None and current not in chain:
            chain.append(current)
            current = self.stage_named(self.resolve(current.base))
        return chain

    def text_of_lineage(self) -> str:
        """All instruction text of the final stage, its local parents and COPY --from stages."""
        stages = self.lineage()
        for ins in self.final.of("COPY"):
            for name, value in ins.flags:
                index = self._stage_index(self.resolve(value)) if name == "from" else None
                source = None if index is None else self.stages[index]
                if source is not None:
                    stages.extend(s for s in self.lineage(source) if s not in stages)
        return "\n".join(ins.value for stage in stages for ins in stage.instructions)


def parse_env_instruction(value: str) -> dict[str, str]:
    """`ENV A=1 B="x y"` and legacy `ENV A 1` forms."""
    try:
        parts = shlex.split(value, posix=True)
    except ValueError:
        parts = value.split()
    if parts and "=" not in parts[0]:
        return {parts[0]: value.split(None, 1)[1] if len(parts) > 1 else ""}
    return dict(part.partition("=")[::2] for part in parts if "=" in part)


def parse_arg_instruction(value: str) -> dict[str, str]:
    """`ARG A=1 B="x y" C`: each name with its default ("" when it has none)."""
    try:
        parts = shlex.split(value, posix=True)
    except ValueError:
        parts = value.split()
    return dict((part.partition("=")[0], part.partition("=")[2]) for part in parts)


def _split_flags(value: str) -> tuple[tuple[tuple[str, str], ...], str]:
    flags: list[tuple[str, str]] = []
    rest = value.lstrip()
    while rest.startswith("--"):
        token, _, remainder = rest.partition(" ")
        name, _, flag_value = token[2:].partition("=")
        flags.append((name, flag_value))
        rest = remainder.lstrip()
    return tuple(flags), rest


INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip
_BAD_EXPANSION = re.compile(r"\$\{[^}]*$|\$\{[A-Za-z_][A-Za-z0-9_]*:?[?][^}]*\}")


def _syntax_error(keyword: str, body: str, line: int, path: Path) -> StackError | None:
    """What BuildKit's parser would reject in one instruction, as a `StackError`."""
    fix = "see https://docs.docker.com/reference/dockerfile/"
    if keyword not in INSTRUCTIONS:
        return StackError(path, f"unknown instruction {keyword}", fix, line=line, key=keyword)
    if keyword == "FROM" and not body.split():
        return StackError(path, "FROM without an image", "write FROM IMAGE[:TAG]", line=line)
    bad = _BAD_EXPANSION.search(body)
    if bad:
        return StackError(
            path,
            f"{keyword}: {bad.group(0)!r} is not a Dockerfile expansion "
            "(an unterminated ${ or ${VAR:?...})",
            "write ${VAR}, ${VAR:-default} or ${VAR:+value}",
            line=line,
            key=keyword,
        )
    if keyword in ("ENV", "LABEL", "ARG"):
        try:
            shlex.split(body, posix=True)
        except ValueError:
            return StackError(
                path, f"{keyword}: unbalanced quote", "close the quote", line=line, key=keyword
            )
    return None


def parse_dockerfile_text(text: str, path: Path) -> Dockerfile:
    """Parse Dockerfile text into stages; a syntax error BuildKit would reject is a
    `StackError` naming the line."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
    directives: dict[str, str] = {}
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[Instruction] | None = None
    base, name, from_line = "", None, 0
    for item in parser.structure:
        keyword, line = item["instruction"], item["startline"] + 1
        if keyword == "COMMENT":
            key, sep, val = item["value"].partition("=")
            if current is None and not stages and sep and key.strip().isidentifier():
                directives[key.strip().lower()] = val.strip()
            continue
        flags, body = _split_flags(item["value"])
        error = _syntax_error(keyword, body, line, path)
        if error is not None:
            raise error
        ins = Instruction(keyword, body, line, flags)
        if keyword == "FROM":
            if current is not None:
                stages.append(Stage(base, name, from_line, tuple(current)))
            words = body.split()
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            from_line, current = line, []
        elif current is None:
            if keyword == "ARG":
                global_args.update(parse_arg_instruction(body))
        else:
            current.append(ins)
    if current is not None:
        stages.append(Stage(base, name, from_line, tuple(current)))
    return Dockerfile(path, global_args, tuple(stages), directives)


def load_dockerfile(path: Path) -> Dockerfile:
    """Read and parse a Dockerfile (a missing one, or one without FROM, is a `StackError`)."""
    parsed = parse_dockerfile_text(read_text(path, "Dockerfile"), path)
    if not parsed.stages:
        raise StackError(path, "no FROM instruction", "start the Dockerfile with FROM <image>")
    return parsed
