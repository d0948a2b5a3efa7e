"""Mutation testing of every module with decisions with mutmut, for `nox -s mutants` (run from
the repository root), group by group (GROUPS).

    python -m tests.mutants run GROUP...       mutate GROUP, run the unit tier against each mutant
    python -m tests.mutants run --sample N [--seed S] GROUP...   N mutants of each group only
                                               (either way the groups' earlier results go)
    python -m tests.mutants report [GROUP...]  score per module and group, surviving mutants
    python -m tests.mutants mutmut ARGS...     any mutmut command (show NAME, results, browse)

mutmut (configured in pyproject's [tool.mutmut]) copies the repository into `mutants/`, rewrites
each function of the mutated modules into a trampoline and runs, for each mutant, the unit tests
that called that function in-process. It leaves decorated functions alone; here the decorators
that only register a function or wrap it without keeping state (`@rule(...)`, `@property`,
`@cached_property`, `@contextmanager`) are kept on the trampoline, so the rules are mutated too.
A test that took MAX_TEST_SECONDS or more while mutmut recorded what each test calls drives the
CLI in a subprocess; it is not run against mutants (each run would take seconds). Code that runs
only at import time (module constants, rule registration) is not mutation-tested: the modules
are imported once, unmutated, before the mutants run.

The client-side MCP runtime (.devcontainer/mcp/runtime) is a second source path; its mutants are
named after the modules as the launcher and the tests load them (`mcpignore`, `mcp_launch`,
`mcp_relay`), not after the folder, so that the trampolines find them.

A mutant that no test could kill because no behaviour differs is listed, with the reason, in
tests/mutants-equivalent.txt; the report leaves those out of the score, and keeps each group's
score with the date, commit, sample size and seed of its run in reports/mutants/.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = Path(__file__).with_name("mutants-equivalent.txt")
# When each group was last run, on which commit, over all its mutants or a sample.
RUNS = ROOT / "mutants" / "runs.json"
# Which tests call each mutated function, and how long each test takes: mutmut's record.
STATS = ROOT / "mutants" / "mutmut-stats.json"
# The scores `report` keeps, one entry per group, as JSON and as a Markdown table.
SCORES = ROOT / "reports" / "mutants"
# Module group -> the paths its modules live under (folders or files). The client-side runtime
# lives outside tasks/ and is loaded by its module's bare name (RUNTIME_PACKAGE): see
# patch_names.
GROUPS: dict[str, tuple[str, ...]] = {
    "rules": ("tasks/rules",),
    "model": ("tasks/model",),
    "report": ("tasks/report.py",),
    "phases": ("tasks/phases",),
    "servers": ("tasks/servers",),
    "images": ("tasks/images",),
    "pybuild": ("tasks/pybuild",),
    "engine": (
        "tasks/engine/parallel.py",
        "tasks/engine/prerequisites.py",
        "tasks/engine/restoreplan.py",
        "tasks/engine/status.py",
    ),
    "contract": (
        "tasks/contract.py",
        "tasks/errors.py",
        "tasks/outcome.py",
        "tasks/terminal.py",
        "tasks/files.py",
    ),
    "selection": ("tasks/selection.py",),
    "workflows": ("tasks/workflows",),
    "perf": ("tasks/perf",),
    "compat": ("tasks/compat",),
    "monitoring": ("tasks/monitoring",),
    "runtime": (".devcontainer/mcp/runtime",),
}
RUNTIME_PACKAGE = ".devcontainer.mcp.runtime."
THRESHOLD = 90.0
MAX_TEST_SECONDS = 1.5
KILLED = {"killed", "timeout"}
# Decorators that keep working when they wrap mutmut's trampoline instead of the function.
TRANSPARENT_NAMES = {"property", "cached_property", "contextmanager"}
TRANSPARENT_CALLS = {"rule"}


def _transparent(decorator: Any) -> bool:
    """A decorator that registers or wraps the function without keeping per-call state."""
    import libcst as cst

    node = decorator.decorator
    if isinstance(node, cst.Name):
        return node.value in TRANSPARENT_NAMES
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in TRANSPARENT_CALLS
    )


def _all_transparent(function: Any) -> bool:
    return bool(function.decorators) and all(_transparent(d) for d in function.decorators)


def patch_mutmut() -> None:
    """Mutate functions whose decorators are all transparent: the decorators stay on the
    trampoline (so `@rule` registers it once) and the original and mutant copies are bare."""
    import libcst as cst
    from libcst.metadata import PositionProvider
    from mutmut.mutation import file_mutation

    visitor = file_mutation.MutationVisitor
    skip = visitor._skip_node_and_children
    arrange = file_mutation.function_trampoline_arrangement

    def skip_node_and_children(self: Any, node: Any) -> bool:
        if isinstance(node, cst.FunctionDef) and _all_transparent(node):
            position = self.get_metadata(PositionProvider, node, None)
            if position and position.start.line in self._ignored_node_lines:
                self.ignored_functions.add(node.name.value)
                return True
            return False
        return bool(skip(self, node))

    def trampoline_arrangement(function: Any, mutants: Any, class_name: str | None) -> Any:
        if not _all_transparent(function):
            return arrange(function, mutants, class_name)
        declared, nodes, assigned, names = arrange(
            function.with_changes(decorators=()), mutants, class_name
        )
        trampoline = nodes[0].with_changes(decorators=[*function.decorators, *nodes[0].decorators])
        return declared, [trampoline, *nodes[1:]], assigned, names

    visitor._skip_node_and_children = skip_node_and_children
    file_mutation.function_trampoline_arrangement = trampoline_arrangement


def patch_names() -> None:
    """Name the runtime's mutants after the modules the launcher and the tests load
    (`mcpignore.x_match__mutmut_1`), not after their folder: the trampoline compares a mutant's
    module with the `__module__` of the function it replaces."""
    import mutmut.__main__ as main
    from mutmut.mutation import file_mutation
    from mutmut.utils import format_utils

    named = format_utils.get_mutant_name

    def get_mutant_name(relative_source_path: Path, mutant_method_name: str) -> str:
        return str(named(relative_source_path, mutant_method_name)).removeprefix(RUNTIME_PACKAGE)

    for module in (format_utils, file_mutation, main):
        module.get_mutant_name = get_mutant_name


def patch_test_choice() -> None:
    """Run a mutant's in-process tests only, fastest first: a test that took MAX_TEST_SECONDS or
    more while mutmut recorded which test calls what starts the CLI in a subprocess (seconds
    per run), and the in-process tests cover what it checks."""
    import mutmut.__main__ as main
    from mutmut.state import state

    collect = main.collect_or_load_stats

    def collect_or_load_stats(*args: Any, **kwargs: Any) -> None:
        collect(*args, **kwargs)
        duration = state().duration_by_test
        slow = {test for test, seconds in duration.items() if seconds >= MAX_TEST_SECONDS}
        tests = state().tests_by_mangled_function_name
        for function, chosen in list(tests.items()):
            tests[function] = sorted(set(chosen) - slow, key=lambda t: duration.get(t, 0.0))
        print(f"    {len(slow)} tests of {MAX_TEST_SECONDS}+ s are not run against mutants")

    main.collect_or_load_stats = collect_or_load_stats


def _prepare() -> Any:
    """Patch mutmut and work from the repository root; the mutmut CLI module."""
    import os

    os.chdir(ROOT)
    patch_mutmut()
    # pytest must import the copy in mutants/tests, not this checkout's `tests` package.
    for name in [n for n in sys.modules if n == "tests" or n.startswith("tests.")]:
        del sys.modules[name]
    import mutmut.__main__ as main

    patch_names()
    patch_test_choice()
    return main


def run_mutmut(args: Sequence[str]) -> int:
    """Run a mutmut command, patched, from the repository root."""
    main = _prepare()
    try:
        main.cli.main(args=list(args), prog_name="mutmut", standalone_mode=False)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def run_groups(groups: Sequence[str], size: int = 0, seed: str = "0") -> int:
    """Run every mutant of each group, or `size` of them picked by a hash of their names and
    `seed` (the same ones while the code is the same). The groups' earlier results, and which
    tests call what, are cleared first: the code and the tests may have changed since."""
    main = _prepare()
    main.makedirs(Path("mutants"), exist_ok=True)
    # mutmut keeps which tests call each function from one run to the next and only adds the
    # tests it has not seen: a function changed since would keep the callers of its old body.
    STATS.unlink(missing_ok=True)
    main.copy_src_dir()
    main.copy_also_copy_files()
    main.create_mutants(1)
    chosen: list[str] = []
    for group in groups:
        names: list[str] = []
        for meta in [m for m in _metas(group) if m.is_file()]:
            data = json.loads(meta.read_text())
            names += data["exit_code_by_key"]
            data["exit_code_by_key"] = dict.fromkeys(data["exit_code_by_key"])
            meta.write_text(json.dumps(data, indent=4))
        names.sort(key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
        chosen += names[:size] if size else patterns(group)
    try:
        main.cli.main(
            args=["run", "--max-children", "1", *chosen], prog_name="mutmut", standalone_mode=False
        )
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def module_name(path: str) -> str:
    """The module name mutmut gives a source file (`tasks/rules/base.py` -> `tasks.rules.base`);
    a runtime module is named as the launcher and the tests load it (`mcpignore`)."""
    dotted = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    return dotted.removeprefix(RUNTIME_PACKAGE)


def sources(group: str) -> list[str]:
    """The Python files of a module group, relative to the repository root."""
    found: list[str] = []
    for path in GROUPS[group]:
        base = ROOT / path
        files = [base] if base.suffix == ".py" else sorted(base.rglob("*.py"))
        found += [str(f.relative_to(ROOT)) for f in files]
    return found


def patterns(group: str) -> list[str]:
    """The mutant-name globs of a module group, one per module."""
    return [module_name(path) + ".*" for path in sources(group)]


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """`mutant-name  # reason` lines; a mutant without a reason is refused."""
    reasons: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: say why {name.strip()} is equivalent")
        reasons[name.strip()] = reason.strip()
    return reasons


@dataclass
class Score:
    """Mutants of one module or group, by outcome."""

    killed: int = 0
    equivalent: int = 0
    unchecked: int = 0
    missed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def counted(self) -> int:
        """Mutants that count: all but the equivalent ones."""
        return self.killed + len(self.missed)

    @property
    def percent(self) -> float:
        """Killed share of the counted mutants (100 when there are none)."""
        return 100.0 * self.killed / self.counted if self.counted else 100.0

    def line(self, name: str) -> str:
        """`name  killed/counted  percent` plus the equivalent and not run counts."""
        sample = f", {self.unchecked} not run (a sample)" if self.unchecked else ""
        percent = f"{self.percent:6.1f}%" if self.counted else "    - "
        return (
            f"{name:<38} {self.killed:>5}/{self.counted:<5} {percent}"
            f"  ({self.equivalent} equivalent{sample})"
        )


def _metas(group: str) -> list[Path]:
    """mutmut's result files of a group's modules."""
    return [ROOT / "mutants" / f"{path}.meta" for path in sources(group)]


def _results(group: str) -> dict[str, dict[str, int | None]]:
    """Exit codes by mutant name, per module file of the group."""
    found: dict[str, dict[str, int | None]] = {}
    for meta in _metas(group):
        if meta.is_file():
            module = str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta")
            found[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return found


def report(
    groups: Sequence[str],
    show_diff: Callable[[str, str], str] | None = None,
    folder: Path = SCORES,
) -> int:
    """Print the score per module and group and the surviving mutants, and keep the groups'
    scores in `folder`; 1 if a group is below THRESHOLD or was never run."""
    from mutmut.stats import status_by_exit_code

    equivalent = read_equivalent()
    stale: set[str] = set()
    known: set[str] = set()
    failed = False
    totals: dict[str, Score] = {}
    for group in groups:
        modules = _results(group)
        total = totals[group] = Score()
        print(f"\n== {group} ({', '.join(GROUPS[group])})")
        if not modules:
            print("   not run: nox -s mutants -- " + group)
            failed = True
            del totals[group]
            continue
        for module, codes in modules.items():
            score = Score()
            known |= set(codes)
            for name, code in codes.items():
                status = status_by_exit_code[code]
                if code is None:
                    score.unchecked += 1
                elif status in KILLED:
                    score.killed += 1
                    if name in equivalent:
                        stale.add(name)
                elif name in equivalent:
                    score.equivalent += 1
                else:
                    score.missed.append((name, status))
            if codes:
                print("   " + score.line(module))
            total.killed += score.killed
            total.equivalent += score.equivalent
            total.unchecked += score.unchecked
            total.missed += [(name, status) for name, status in score.missed]
            if show_diff is not None:
                for name, status in score.missed:
                    print(f"   {status}: {name}\n{show_diff(name, module)}")
        print("   " + total.line(f"{group} total"))
        if total.unchecked and not total.counted and not total.equivalent:
            # mutated since its last run: the score kept from that run stays
            print("   none of its mutants was run: nox -s mutants -- " + group)
            failed = True
            del totals[group]
            continue
        if total.counted == 0 or total.percent < THRESHOLD:
            print(f"   below {THRESHOLD:.0f}% killed")
            failed = True
    prefixes = tuple(glob[:-1] for group in groups for glob in patterns(group))
    listed = {name for name in equivalent if name.startswith(prefixes)}
    for name in sorted(stale | (listed - known)):
        print(f"\n{EQUIVALENT.name}: {name} is killed or gone now; check the entry")
    if totals:
        write_scores(totals, folder)
        print(f"\nscores kept in {folder.relative_to(ROOT)}/scores.md")
    return 1 if failed else 0


def measured_commit() -> str:
    """The checkout's commit, `+changes` when its files differ from it."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def record_run(groups: Sequence[str], sample: int, seed: str = "0") -> None:
    """Note the date, the commit and the sample size (0: every mutant) of a run of `groups`,
    and the seed that picked a sample (the same seed picks the same mutants again)."""
    from datetime import UTC, datetime

    runs = json.loads(RUNS.read_text()) if RUNS.is_file() else {}
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for group in groups:
        runs[group] = {"date": when, "commit": measured_commit(), "sample": sample}
        if sample:
            runs[group]["seed"] = seed
    RUNS.parent.mkdir(exist_ok=True)
    RUNS.write_text(json.dumps(runs, indent=2) + "\n")


def write_scores(totals: dict[str, Score], folder: Path = SCORES) -> None:
    """Keep each group's score with the date and commit of its run in `folder` (scores.json,
    scores.md); the groups not reported this time keep their last entries."""
    runs = json.loads(RUNS.read_text()) if RUNS.is_file() else {}
    path = folder / "scores.json"
    scores = json.loads(path.read_text()) if path.is_file() else {}
    for group, total in totals.items():
        run = runs.get(group, {"date": "unknown", "commit": "unknown", "sample": 0})
        scores[group] = {
            **run,
            "killed": total.killed,
            "counted": total.counted,
            "percent": round(total.percent, 1),
            "equivalent": total.equivalent,
            "survived": len(total.missed),
            "not_run": total.unchecked,
        }
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores, indent=2, sort_keys=True) + "\n")
    rows = [
        "| group | killed | score | equivalent | measured | date | commit |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for group in [g for g in GROUPS if g in scores]:
        entry = scores[group]
        every = entry["counted"] + entry["equivalent"] + entry["not_run"]
        seed = f" (seed {entry['seed']})" if "seed" in entry else ""
        measured = (
            f"a sample of {entry['sample']}{seed} of {every} mutants"
            if entry["sample"]
            else f"all {every} mutants"
        )
        rows.append(
            f"| {group} | {entry['killed']}/{entry['counted']} | {entry['percent']:.1f}% "
            f"| {entry['equivalent']} | {measured} | {entry['date']} | {entry['commit']} |"
        )
    text = "# Mutation scores (`nox -s mutants`)\n\n" + "\n".join(rows) + "\n"
    (folder / "scores.md").write_text(text)


def _diff(name: str, module: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        diff = get_diff_for_mutant(name, path=module)
    except (FileNotFoundError, KeyError) as error:
        return f"   (no diff: {error})"
    changed = [
        line
        for line in str(diff).splitlines()[2:]
        if line[:1] in "+-" and line[1:].strip() and not line.startswith(("+++", "---"))
    ]
    return "\n".join("      " + line.rstrip() for line in changed)


def main(argv: Sequence[str]) -> int:
    """Dispatch the `run`, `report` and `mutmut` commands."""
    command, *rest = argv or ["report"]
    options = {"--sample": "", "--seed": "0"}
    while rest and rest[0] in options and len(rest) > 1:
        options[rest[0]], rest = rest[1], rest[2:]
    unknown = [group for group in rest if group not in GROUPS]
    if command in ("run", "report") and unknown:
        print(f"unknown group(s) {', '.join(unknown)}; groups: {', '.join(GROUPS)}")
        return 2
    if command == "run":
        record_run(rest or list(GROUPS), int(options["--sample"] or 0), options["--seed"])
    if command == "run":
        return run_groups(rest or list(GROUPS), int(options["--sample"] or 0), options["--seed"])
    if command == "report":
        import os

        os.chdir(ROOT)
        return report(rest or list(GROUPS), show_diff=_diff)
    if command == "mutmut":
        return run_mutmut(rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
