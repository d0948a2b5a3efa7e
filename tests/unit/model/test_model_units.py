"""The model's small readers, exactly: `docker run` lines, Dockerfiles, env files, variables,
YAML and JSONC documents, Markdown links, the profile block and the errors they raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.model.dockerfile import (
    Instruction,
    load_dockerfile,
    parse_dockerfile_text,
    parse_env_instruction,
)
from tasks.model.dockerrun import DockerRun, parse_docker_run, unwrap_shell
from tasks.model.docs import Link, load_doc
from tasks.model.envfile import EnvEntry, load_env_file, parse_env_text
from tasks.model.interpolate import InterpolationError, Interpolator, variables_in
from tasks.model.localenv import BEGIN, END, apply_profile, block_values
from tasks.model.source import Document, load_jsonc, load_yaml, read_text

# --- docker run ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        # combined short flags, `-` as the image
        (
            "docker",
            ["run", "-it", "--rm", "-", "x"],
            DockerRun((), frozenset({"--rm", "-i", "-t"}), "-", ("x",)),
        ),
        # a valued option at the very end has no value
        (
            "docker",
            ["run", "-i", "--name"],
            DockerRun((("--name", ""),), frozenset({"-i"}), "", ()),
        ),
        # podman, by path
        (
            "/usr/bin/podman",
            ["run", "-p", "1:2", "img"],
            DockerRun((("--publish", "1:2"),), frozenset(), "img", ()),
        ),
        ("docker", ["run"], DockerRun()),
        # short options map to their long names; `--opt=value` and `--opt value`
        (
            "docker",
            [
                "run",
                "--net",
                "n",
                "-h",
                "h",
                "-w",
                "/w",
                "-u",
                "1",
                "-m",
                "1g",
                "-l",
                "a=b",
                "--mount=src=s,dst=/d",
                "-v",
                "anon",
                "img",
                "--flag",
            ],
            DockerRun(
                (
                    ("--network", "n"),
                    ("--hostname", "h"),
                    ("--workdir", "/w"),
                    ("--user", "1"),
                    ("--memory", "1g"),
                    ("--label", "a=b"),
                    ("--mount", "src=s,dst=/d"),
                    ("--volume", "anon"),
                ),
                frozenset(),
                "img",
                ("--flag",),
            ),
        ),
        # inside `sh -c '... exec docker run ...'`
        (
            "sh",
            ["-c", "set -e; exec docker run -i img a"],
            DockerRun((), frozenset({"-i"}), "img", ("a",)),
        ),
    ],
)
def test_docker_run_lines(command: str, args: list[str], expected: DockerRun) -> None:
    assert parse_docker_run(command, args) == expected


@pytest.mark.parametrize(
    ("command", "args"),
    [("docker", []), ("docker", ["ps"]), ("npx", ["run"]), ("sh", ["-c", "docker run -i img"])],
)
def test_not_docker_run(command: str, args: list[str]) -> None:
    assert parse_docker_run(command, args) is None


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("sh", ["-c", "set -e; exec docker run -i img"], ("docker", ["run", "-i", "img"])),
        ("/bin/bash", ["-c", "exec podman run img"], ("podman", ["run", "img"])),
        ("sh", ["-c", "docker run -i img"], ("sh", ["-c", "docker run -i img"])),
        ("sh", ["-c", "echo exec"], ("sh", ["-c", "echo exec"])),
        ("sh", ["-c", "exec 'unbalanced"], ("sh", ["-c", "exec 'unbalanced"])),
        ("sh", ["-x", "exec docker run"], ("sh", ["-x", "exec docker run"])),
        ("zsh", ["-c", "exec docker run"], ("zsh", ["-c", "exec docker run"])),
        ("sh", ["-c"], ("sh", ["-c"])),
    ],
)
def test_shell_wrapper_is_unwrapped_only_when_it_execs(
    command: str, args: list[str], expected: tuple[str, list[str]]
) -> None:
    assert unwrap_shell(command, args) == expected


def test_docker_run_env_and_mounts() -> None:
    run = parse_docker_run(
        "docker",
        ["run", "-e", "A=1=2", "--env", "B", "-v", "src:/dst:ro", "-v", "anon",
         "--mount", "type=bind,src=/s,dst=/d", "--mount", "source=v,destination=/e,ro",
         "--mount", "type=tmpfs,target=/t", "img"],
    )  # fmt: skip
    assert run is not None
    assert run.env == {"A": "1=2", "B": None}
    assert run.values("--env") == ["A=1=2", "B"] and run.values("--label") == []
    assert run.mount_targets() == ["/dst", "/d", "/e", "/t"]
    assert run.mount_sources() == ["src", "anon", "/s", "v"]


# --- Dockerfiles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "problem", "fix"),
    [
        (
            "FOO bar\n",
            1,
            "FOO",
            "unknown instruction FOO",
            "see https://docs.docker.com/reference/dockerfile/",
        ),
        ("FROM\n", 1, None, "FROM without an image", "write FROM IMAGE[:TAG]"),
        (
            "FROM x\nRUN echo ${A\n",
            2,
            "RUN",
            "RUN: '${A' is not a Dockerfile expansion (an unterminated ${ or ${VAR:?...})",
            "write ${VAR}, ${VAR:-default} or ${VAR:+value}",
        ),
        (
            "FROM x\nRUN echo ${A:?msg}\n",
            2,
            "RUN",
            "RUN: '${A:?msg}' is not a Dockerfile expansion (an unterminated ${ or ${VAR:?...})",
            "write ${VAR}, ${VAR:-default} or ${VAR:+value}",
        ),
        ("FROM x\nENV A='b\n", 2, "ENV", "ENV: unbalanced quote", "close the quote"),
        ('FROM x\nLABEL a="b\n', 2, "LABEL", "LABEL: unbalanced quote", "close the quote"),
        ("ARG A='x\nFROM x\n", 1, "ARG", "ARG: unbalanced quote", "close the quote"),
    ],
)
def test_dockerfile_syntax_buildkit_refuses(
    text: str, line: int, key: str | None, problem: str, fix: str
) -> None:
    with pytest.raises(StackError) as refused:
        parse_dockerfile_text(text, Path("Dockerfile"))
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        Path("Dockerfile"),
        line,
        key,
        problem,
        fix,
    )


def test_dockerfile_syntax_buildkit_accepts() -> None:
    parsed = parse_dockerfile_text(
        "FROM x\nRUN echo ${A:-d} ${B:+v} ${C} 'quote\n", Path("Dockerfile")
    )
    assert parsed.final.of("RUN") == [Instruction("RUN", "echo ${A:-d} ${B:+v} ${C} 'quote", 2)]


def test_directives_global_args_and_stages() -> None:
    parsed = parse_dockerfile_text(
        '# syntax=a\n# Escape = `\n# no directive\nARG V="1.2"\nARG W\nFROM img:${V} AS base\n'
        "# later=x\nRUN --mount=type=cache --network=none apt-get x\nFROM base\n",
        Path("Dockerfile"),
    )
    assert parsed.directives == {"syntax": "a", "escape": "`"}
    assert parsed.global_args == {"V": "1.2", "W": ""}
    first, second = parsed.stages
    assert (first.base, first.name, first.line) == ("img:${V}", "base", 6)
    assert first.instructions == (
        Instruction("RUN", "apt-get x", 8, (("mount", "type=cache"), ("network", "none"))),
    )
    assert (second.base, second.name, second.line, second.instructions) == ("base", None, 9, ())
    assert parsed.external_bases() == [("img:1.2", 6)]


def test_stages_lineage_users_and_env() -> None:
    parsed = parse_dockerfile_text(
        "ARG B=x\nFROM ${B} AS s1\nENV A=1\nFROM s1 AS s2\nENV A=2 C=3\nUSER bob:grp\nRUN x\n"
        "USER 0\nFROM scratch\nCOPY --from=s2 /a /b\nCOPY --from=other /a /b\n"
        "COPY --chown=1 /a /b\n",
        Path("Dockerfile"),
    )
    s1, s2, final = parsed.stages
    assert parsed.external_bases() == [("x", 2)]
    assert parsed.external_bases({"B": "y"}) == [("y", 2)]
    assert parsed.lineage() == [final]
    assert parsed.lineage(s2) == [s2, s1]
    assert parsed.stage_named("s1") is s1 and parsed.stage_named("zz") is None
    assert parsed.text_of_lineage() == "/a /b\n/a /b\n/a /b\nA=2 C=3\nbob:grp\nx\n0\nA=1"
    assert [s2.user_at(line) for line in (6, 7, 9)] == ["root", "bob", "0"]
    assert s2.env() == {"A": ("2", 5), "C": ("3", 5)}
    assert parsed.resolve("${B}:${T:-1}", {"T": "2"}) == "x:2"
    assert parsed.resolve("${B}") == "x"
    assert len(parsed.instructions()) == 8


def test_a_build_target_sees_the_stages_it_reaches() -> None:
    parsed = parse_dockerfile_text(
        "ARG SRC=late\nFROM x AS Tool\nRUN a\nFROM tool AS one\nENV A=1\n"
        "COPY --from=${SRC} / /\nFROM x AS two\nCOPY --from=0 / /\nFROM x AS lone\n"
        "FROM x AS mounted\nRUN --mount=type=bind,from=lone,target=/l b\nFROM x AS late\n",
        Path("Dockerfile"),
    )
    tool, one, two, lone, mounted, late = parsed.stages
    default = parsed.for_target(None)
    assert default is not None and default.stages == (late,)
    assert [view.final for view in parsed.images()] == [tool, one, two, lone, mounted, late]
    target = parsed.for_target("one")
    assert target is not None and target.stages == (tool, late, one) and target.final is one
    assert target.lineage() == [one, tool] and target.text_of_lineage() == "A=1\n/ /\na"
    by_number = parsed.for_target("TWO")
    assert by_number is not None and by_number.stages == (tool, two)
    by_mount = parsed.for_target("mounted")
    assert by_mount is not None and by_mount.stages == (lone, mounted)
    assert [parsed.for_target(n) for n in ("three", "9")] == [None, None]


def test_a_stage_cycle_ends_the_lineage() -> None:
    parsed = parse_dockerfile_text("FROM b AS a\nFROM a AS b\nRUN x\n", Path("Dockerfile"))
    assert [s.name for s in parsed.lineage()] == ["b", "a"]
    assert parsed.external_bases() == []


def test_a_dockerfile_without_from_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("# only a comment\n")
    with pytest.raises(StackError) as refused:
        load_dockerfile(path)
    assert (refused.value.problem, refused.value.fix) == (
        "no FROM instruction",
        "start the Dockerfile with FROM <image>",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('A=1 B="x y"', {"A": "1", "B": "x y"}),
        ("A 1 2", {"A": "1 2"}),
        ("A", {"A": ""}),
        ("A='unbalanced", {"A": "'unbalanced"}),
        ("", {}),
    ],
)
def test_env_instruction_forms(value: str, expected: dict[str, str]) -> None:
    assert parse_env_instruction(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["a", 1]', ["a", "1"]),
        (' ["x"] ', ["x"]),
        ("[broken", None),
        ('{"a": 1}', None),
        ("x", None),
    ],
)
def test_exec_form(value: str, expected: list[str] | None) -> None:
    assert Instruction("CMD", value, 1).exec_form() == expected


def test_run_mounts() -> None:
    ins = Instruction(
        "RUN",
        "x",
        1,
        (("mount", "type=cache,target=/c,id=a=b"), ("network", "none"), ("mount", "type=secret")),
    )
    assert ins.mounts() == [{"type": "cache", "target": "/c", "id": "a=b"}, {"type": "secret"}]


# --- env files and variables --------------------------------------------------------------


def test_env_file_values() -> None:
    env = parse_env_text(
        'A=1\nB="q \\"x\\" \\\\ \\n"\nC=\'${A} # no comment\'\nD=${A}#1 # comment\nA=2\n  E  =  spaced  \n'
        'F="a" # "b"\n',
        Path("x.env"),
    )
    assert env.entries == (
        EnvEntry("A", "1", 1),
        EnvEntry("B", 'q "x" \\ \n', 2),
        EnvEntry("C", "${A} # no comment", 3),
        EnvEntry("D", "1#1", 4),
        EnvEntry("A", "2", 5),
        EnvEntry("E", "spaced", 6),
        EnvEntry("F", "a", 7),
    )
    assert env.as_dict()["A"] == "2"
    assert env.line_of("A") == 5 and env.line_of("Z") is None


@pytest.mark.parametrize(
    ("text", "line", "key", "problem", "fix"),
    [
        (
            "A=1\n\n= x\n",
            3,
            None,
            "a value without a variable name (a line starting with '=')",
            "write one KEY=VALUE per line; comments start with #",
        ),
        ("A='x\n", 1, "A", "unterminated ' quote", "close the ' quote"),
        ('A="x\\"\n', 1, "A", 'unterminated " quote', 'close the " quote'),
        (
            "A=${B:?needed}\n",
            1,
            "A",
            "required variable B is missing: needed",
            "define B in devcontainer.env or the shell, or give a default ${B:-value}",
        ),
        (
            "A=${B\n",
            1,
            "A",
            "unterminated ${ in the value",
            "write ${NAME}, ${NAME:-default} or ${NAME:?message}; a literal $ is $$",
        ),
    ],
)
def test_env_file_errors(text: str, line: int, key: str | None, problem: str, fix: str) -> None:
    with pytest.raises(StackError) as refused:
        parse_env_text(text, Path("x.env"))
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        Path("x.env"),
        line,
        key,
        problem,
        fix,
    )


def test_a_missing_env_file(tmp_path: Path) -> None:
    with pytest.raises(StackError) as refused:
        load_env_file(tmp_path / "none.env")
    assert (refused.value.problem, refused.value.fix) == (
        "env file not found",
        "create none.env or fix the reference",
    )


def test_interpolation_bookkeeping() -> None:
    resolver = Interpolator({"A": "1", "E": ""})
    assert resolver.resolve("${A:+x}${U:+y}${U+z}${E+w}${U-d}$U${U}${A?m}") == "xwd1"
    assert resolver.undefined == ["U"]
    assert resolver.used == {"A", "U", "E"}
    with pytest.raises(InterpolationError) as bad:
        resolver.resolve("${1A}")
    assert (bad.value.variable, bad.value.syntax, str(bad.value), bad.value.quiet) == (
        "1A",
        "invalid interpolation format",
        "invalid interpolation format ${1A}",
        "invalid interpolation format in the value",
    )
    with pytest.raises(InterpolationError) as missing:
        resolver.resolve("${U?say}")
    assert (missing.value.variable, missing.value.syntax) == ("U", "")
    assert missing.value.quiet == str(missing.value) == "required variable U is missing: say"
    assert variables_in("${A:-${B}} $$C $D ${A} $") == ["A", "B", "D"]


# --- errors, files, YAML and JSONC --------------------------------------------------------


def test_stack_error_renders_where_what_and_how() -> None:
    full = StackError("a.yml", "broken", "mend it", line=3, key="k")
    assert (full.location, full.render(), str(full)) == (
        "a.yml:3",
        "a.yml:3 [k]: broken. Fix: mend it",
        "a.yml:3 [k]: broken. Fix: mend it",
    )
    bare = StackError(Path("a.yml"), "broken", "mend it")
    assert (bare.location, bare.render()) == ("a.yml", "a.yml: broken. Fix: mend it")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(StackError) as missing:
        read_text(tmp_path / "x.yml", "compose file")
    assert (missing.value.problem, missing.value.fix) == (
        "compose file not found",
        "create x.yml or fix the reference",
    )
    binary = tmp_path / "b.yml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(StackError) as wide:
        read_text(binary, "compose file")
    assert (wide.value.problem, wide.value.fix) == (
        "compose file is UTF-16 text",
        "save it as UTF-8 (without a byte order mark)",
    )
    binary.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(StackError) as latin:
        read_text(binary, "compose file")
    assert latin.value.problem == "compose file is not UTF-8: byte 0xe9 at column 7"
    assert latin.value.line == 2 and latin.value.fix.startswith("save it as UTF-8")


@pytest.mark.parametrize(
    ("text", "line", "key", "problem", "fix"),
    [
        (
            "a: 1\na: 2\n",
            2,
            "a",
            "duplicate key 'a' (first at line 1); YAML keeps only the last",
            "keep one of them",
        ),
        (
            "x:\n  - {b: 1, b: 2}\n",
            2,
            "x.0.b",
            "duplicate key 'b' (first at line 2); YAML keeps only the last",
            "keep one of them",
        ),
        (
            "a: [1\n",
            2,
            None,
            "invalid YAML: expected ',' or ']', but got '<stream end>'",
            "fix the YAML syntax (indentation, quotes, colons)",
        ),
        (
            "a: 1\n---\nb: 2\n",
            2,
            None,
            "invalid YAML: but found another document",
            "fix the YAML syntax (indentation, quotes, colons)",
        ),
    ],
)
def test_yaml_errors(
    tmp_path: Path, text: str, line: int | None, key: str | None, problem: str, fix: str
) -> None:
    path = tmp_path / "f.yml"
    path.write_text(text)
    with pytest.raises(StackError) as refused:
        load_yaml(path)
    error = refused.value
    assert (error.line, error.key, error.problem, error.fix) == (line, key, problem, fix)


def test_yaml_merge_keys_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_text("base: &b {x: 1}\nmerged:\n  <<: *b\n  y: [a, {z: 2}]\n")
    doc = load_yaml(path)
    assert doc.data == {"base": {"x": 1}, "merged": {"x": 1, "y": ["a", {"z": 2}]}}
    assert doc.lines[()] == 1
    assert doc.line_of("merged", "y", 1, "z") == 4
    assert doc.line_of("merged", "nope", "deeper") == 2
    assert doc.line_of() is None
    empty = tmp_path / "e.yml"
    empty.write_text("")
    assert load_yaml(empty) == Document(empty, None, {}, "")


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    path = tmp_path / "bomb.yml"
    path.write_text("\n".join(levels) + "\n")
    with pytest.raises(StackError) as refused:
        load_yaml(path)
    assert refused.value.path == path
    assert refused.value.problem == "YAML aliases expand to more than 100000 nodes"
    assert refused.value.fix == "write the values out instead of nesting aliases (an alias bomb?)"


def test_jsonc_key_lines_follow_their_parent(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{\n  "a": {"x": 1},\n  "b": {\n    "x": 2\n  },\n  "c": [1]\n}\n')
    doc = load_jsonc(path)
    assert doc.lines == {
        (): 1,
        ("a",): 2,
        ("a", "x"): 2,
        ("b",): 3,
        ("b", "x"): 4,
        ("c",): 6,
        ("c", 0): 6,
    }
    broken = tmp_path / "e.json"
    broken.write_text('{\n  "a": \n}\n')
    with pytest.raises(StackError) as refused:
        load_jsonc(broken)
    assert refused.value.line == 3
    assert refused.value.problem == "invalid JSONC: Expecting value"
    assert refused.value.fix == (
        "fix the JSON syntax (commas, quotes, brackets); comments and trailing commas are fine"
    )


# --- Markdown and the profile block -------------------------------------------------------


def test_markdown_links(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text(
        '# T\n[a](setup/a.md) ![img](img.png "title")\n[web](https://x.y) [anchor](#top)\n'
        "[mail](mailto:a@b) [part](b.md#sec)\n"
    )
    doc = load_doc(path)
    assert doc.links == (Link("setup/a.md", 2), Link("img.png", 2), Link("b.md#sec", 4))
    assert doc.line_count == 4 and doc.text.startswith("# T")
    assert doc.links[2].resolved(path) == tmp_path / "b.md"


def test_profile_block_is_replaced_and_shadowing_lines_dropped() -> None:
    text = f"SECRET=1\nexport PY=old\n{BEGIN}\nMCP_PROFILE=online\nOLD=x\n{END}\n\n\n"
    written = apply_profile(text, "offline", {"PY": "3.13", "URL": "a=b"})
    assert written == f"SECRET=1\n\n{BEGIN}\nMCP_PROFILE=offline\nPY=3.13\nURL=a=b\n{END}\n"
    assert block_values(written) == {"MCP_PROFILE": "offline", "PY": "3.13", "URL": "a=b"}
    assert apply_profile("", "p", {}) == f"{BEGIN}\nMCP_PROFILE=p\n{END}\n"
    assert block_values("A=1\n") == {}


@pytest.mark.parametrize(("load", "what"), [(load_doc, "Markdown file"), (load_yaml, "YAML file")])
def test_a_missing_file_is_named_by_its_kind(tmp_path: Path, load: object, what: str) -> None:
    with pytest.raises(StackError) as refused:
        load(tmp_path / "gone")  # type: ignore[operator]
    assert refused.value.problem == f"{what} not found"


def test_keys_a_pattern_allows_are_not_unexpected() -> None:
    from jsonschema import Draft202012Validator

    from tasks.model.schemas import _unexpected_keys

    schema = {
        "type": "object",
        "properties": {"name": {}},
        "patternProperties": {"^x-": {}},
        "additionalProperties": False,
    }
    [error] = Draft202012Validator(schema).iter_errors({"name": 1, "x-extra": 2, "bogus": 3})
    assert _unexpected_keys(error) == ["bogus"]
