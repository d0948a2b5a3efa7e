"""The stack's Python environments, read from where they are declared: the task library from
pyproject.toml, and each image's virtualenvs from the `pip install` lines of its Dockerfile (ARG
defaults and the image's build args filled in, `-r` files found through the COPY that puts them
in the image). An image that runs the free-threaded CPython and installs nothing is an
environment of its own, with no packages."""

from __future__ import annotations

import posixpath
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.images.plan import ImageTarget, build_plan
from tasks.model.dockerfile import Dockerfile, Instruction, Stage
from tasks.model.interpolate import InterpolationError, Interpolator
from tasks.model.source import read_text
from tasks.model.stack import Stack

LIBRARY = "library"
"""The task library's environment: pyproject.toml's dependencies and its `dev` extra."""
_SEPARATORS = {"&&", "||", ";", "|", "&"}
# pip options whose value is the next word (or follows `=`); the others are flags.
_VALUED = {
    "-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url",
    "-f", "--find-links", "-t", "--target", "--prefix", "--root", "--platform",
    "--python-version", "--implementation", "--abi", "--only-binary", "--no-binary",
    "--upgrade-strategy", "--progress-bar", "--cache-dir", "--src", "--log", "--timeout",
    "--retries", "--proxy", "--cert", "--client-cert", "--trusted-host", "-C",
    "--config-settings", "--report", "-e", "--editable",
}  # fmt: skip
_UNMODELLED = {"-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f", "--find-links"}


@dataclass(frozen=True)
class Environment:
    """One Python environment: what it installs, declared where, and whether it runs on the
    free-threaded interpreter today (the library and the free-threaded images) or on an image
    with its own CPython (a candidate for free-threading)."""

    name: str
    source: str
    requirements: tuple[str, ...]
    free_threaded: bool
    no_deps: tuple[str, ...] = ()
    """Requirements installed without their dependencies (`pip install --no-deps`)."""
    command: str = ""
    """The console script the image runs from this environment (its ENTRYPOINT, the server
    the relay in front of it starts, or what an entrypoint script `exec`s from the venv), if
    any."""
    script: Path | None = None
    """The build-context Python script `command` (the venv's python) runs, if any."""

    @property
    def empty(self) -> bool:
        """True for an interpreter with its standard library only."""
        return not self.requirements and not self.no_deps


@dataclass(frozen=True)
class PipInstall:
    """One `pip install` command: the venv whose pip runs it ('' for the system's), the
    requirements it names, the files it reads them from, and whether it skips dependencies."""

    venv: str
    requirements: tuple[str, ...]
    files: tuple[str, ...]
    no_deps: bool


def library_environment(pyproject: Path) -> Environment:
    """The task library: runtime dependencies and the `dev` extra."""
    text = read_text(pyproject, "pyproject.toml")
    try:
        project = tomllib.loads(text)["project"]
        requirements = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise StackError(
            pyproject,
            f"no [project] dependencies and dev extra to resolve ({error})",
            "declare them under [project] and [project.optional-dependencies]",
        ) from None
    return Environment(LIBRARY, pyproject.name, tuple(requirements), free_threaded=True)


def pip_installs(command: str) -> list[PipInstall]:
    """Every `pip install` in a shell command line (`.../bin/pip`, `pip3`, `python -m pip`)."""
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars="&|;")
    lexer.whitespace_split = True
    words = list(lexer)
    found: list[PipInstall] = []
    start = 0
    for end in [*(i for i, w in enumerate(words) if w in _SEPARATORS), len(words)]:
        install = _pip_install(words[start:end])
        if install is not None:
            found.append(install)
        start = end + 1
    return found


def _pip_install(words: list[str]) -> PipInstall | None:
    """The `pip install` of one simple command, or None when it is not one."""
    for index, word in enumerate(words):
        name = posixpath.basename(word)
        if name in ("pip", "pip3") and words[index + 1 : index + 2] == ["install"]:
            venv = posixpath.dirname(posixpath.dirname(word)) if "/" in word else ""
            return _parse_install(venv, words[index + 2 :])
        if re.fullmatch(r"python3?(\.\d+t?)?", name) and words[index + 1 : index + 4] == [
            "-m",
            "pip",
            "install",
        ]:
            venv = posixpath.dirname(posixpath.dirname(word)) if "/" in word else ""
            return _parse_install(venv, words[index + 4 :])
    return None


def _parse_install(venv: str, words: list[str]) -> PipInstall:
    requirements: list[str] = []
    files: list[str] = []
    no_deps = False
    index = 0
    while index < len(words):
        word = words[index]
        option, equals, inline = word.partition("=")
        if word.startswith("-") and option in _VALUED:
            value = inline if equals else (words[index + 1] if index + 1 < len(words) else "")
            index += 1 if equals else 2
            if option in _UNMODELLED:
                raise ValueError(f"pip install {option} is not modelled by the compatibility check")
            if option in ("-r", "--requirement"):
                files.append(value)
            continue
        if word == "--no-deps":
            no_deps = True
        elif not word.startswith("-"):
            requirements.append(word)
        index += 1
    return PipInstall(venv, tuple(requirements), tuple(files), no_deps)


def _stage_args(dockerfile: Dockerfile, stage: Stage, before: int) -> dict[str, str]:
    """The ARG values in effect in `stage` before line `before` (defaults only)."""
    values = dict(dockerfile.global_args)
    for ins in stage.of("ARG"):
        if ins.line < before:
            name, equals, default = ins.value.partition("=")
            if equals:
                values[name.strip()] = default.strip().strip('"')
    return values


def _copied_file(
    stage: Stage, target: str, context: Path, before: int | None = None
) -> Path | None:
    """The build-context file a COPY of `stage` (before line `before`, if given) puts at
    `target`."""
    for ins in reversed([i for i in stage.of("COPY") if before is None or i.line < before]):
        sources = ins.context_sources()
        words = ins.exec_form() or ins.value.split()
        destination = words[-1] if words else ""
        for source in sources:
            placed = (
                posixpath.join(destination, posixpath.basename(source))
                if destination.endswith("/")
                else destination
            )
            if posixpath.normpath(placed) == posixpath.normpath(target):
                return context / source
    return None


def read_requirements(path: Path) -> list[str]:
    """The requirement lines of a requirements file (comments and blank lines left out); an
    option line, which the check cannot model, is a `StackError` naming its line."""
    requirements = []
    for number, raw in enumerate(read_text(path, "requirements file").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise StackError(
                path,
                f"option line {line!r} is not supported by the compatibility check",
                "list requirements only (one per line)",
                line=number,
            )
        requirements.append(line)
    return requirements


def _image_environment(
    target: ImageTarget, dockerfile: Dockerfile, rel: str, free_threaded: bool
) -> Environment | None:
    """The environment an image's `pip install` lines build (the venv of the last one names
    it), or an empty one for a free-threaded image that installs nothing."""
    requirements: list[str] = []
    no_deps: list[str] = []
    venvs: list[str] = []
    for stage in dockerfile.stages:
        for ins in stage.of("RUN"):
            for install in _installs(ins, dockerfile.path):
                values = {**_stage_args(dockerfile, stage, ins.line), **target.build.args}
                named = [_fill(word, values, dockerfile.path, ins) for word in install.requirements]
                for file in install.files:
                    found = _copied_file(stage, file, target.build.context, ins.line)
                    if found is None:
                        raise StackError(
                            dockerfile.path,
                            f"pip install -r {file}: no COPY earlier in the stage puts it there",
                            f"COPY the requirements file to {file} before this RUN",
                            line=ins.line,
                            key="RUN",
                        )
                    named += read_requirements(found)
                (no_deps if install.no_deps else requirements).extend(named)
                venvs.append(install.venv)
    if not venvs and not free_threaded:
        return None
    return Environment(
        target.name,
        f"{rel} ({', '.join(sorted(set(venvs))) or 'interpreter only'})",
        tuple(requirements),
        free_threaded,
        tuple(no_deps),
        *_console_script(dockerfile.final, target.build.context, set(venvs)),
    )


_EXEC = re.compile(r"^\s*exec\s+(\S+)(?:[ \t]+([^\s$\\]+))?", re.M)


def _console_script(stage: Stage, context: Path, venvs: set[str]) -> tuple[str, Path | None]:
    """The venv command the image's ENTRYPOINT runs and the context script it runs (for the
    venv's python): the ENTRYPOINT itself, the server after the relay's `--`, or the command
    an entrypoint script from the build context `exec`s."""
    entry = next(iter(stage.of("ENTRYPOINT")), None)
    words = (entry.exec_form() or entry.value.split()) if entry else []
    if "--" in words:
        words = words[words.index("--") + 1 :]
    command, argument = (words[0] if words else ""), ""
    if command and "/" not in command:
        script = _copied_file(stage, f"/usr/local/bin/{command}", context)
        found = _EXEC.search(read_text(script, "entrypoint script")) if script else None
        command, argument = (found.group(1), found.group(2) or "") if found else ("", "")
    if not any(command.startswith(f"{venv}/bin/") for venv in venvs if venv):
        return "", None
    name = posixpath.basename(command)
    runs = _copied_file(stage, argument, context) if name.startswith("python") else None
    return name, runs


def _installs(ins: Instruction, path: Path) -> list[PipInstall]:
    try:
        return pip_installs(ins.value)
    except ValueError as error:
        raise StackError(
            path, str(error), "install from PyPI by name and version", line=ins.line, key="RUN"
        ) from None


def _fill(word: str, values: dict[str, str], path: Path, ins: Instruction) -> str:
    """`word` with its `${ARG}` references replaced by their values."""
    interpolator = Interpolator(values)
    try:
        filled = interpolator.resolve(word)
    except InterpolationError as error:
        raise StackError(path, str(error), error.fix, line=ins.line, key="RUN") from None
    if interpolator.undefined:
        name = interpolator.undefined[0]
        raise StackError(
            path,
            f"pip install names ${{{name}}}, which no ARG before it defines",
            f"declare ARG {name}=VERSION before the RUN",
            line=ins.line,
            key="RUN",
        )
    return filled


def discover(stack: Stack) -> list[Environment]:
    """The library's environment, then one per image that installs Python packages or runs
    the free-threaded interpreter, in build-plan order."""
    found = [library_environment(stack.root / "pyproject.toml")]
    free_threaded = set(stack.versions.images) if stack.versions else set()
    for target in build_plan(stack, None).targets:
        dockerfile = stack.built_dockerfile(target.build)
        if dockerfile is None:
            continue
        rel = stack.rel(dockerfile.path)
        environment = _image_environment(target, dockerfile, rel, target.name in free_threaded)
        if environment is not None:
            found.append(environment)
    return found
