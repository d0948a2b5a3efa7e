"""`invoke python.*`: a free-threaded CPython for the host, for nox and local work."""

from __future__ import annotations

import os

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task
from rich.markup import escape

from tasks.pybuild.builder import BuildFailed, build, cache_root, prefix_for
from tasks.pybuild.sources import DEFAULT_VERSION, resolve_source
from tasks.report import EXIT_BAD_INPUT, EXIT_FINDINGS, console, emit_json, errors


@task(
    name="freethreaded",
    help={
        "version": f"CPython release to build (default {DEFAULT_VERSION}, verified source)",
        "tarball": "URL or path of a source tarball (needs --sha256)",
        "sha256": "SHA-256 the tarball must have",
        "jobs": "parallel compile jobs (default: number of CPUs)",
        "json": "print JSON",
    },
)
def freethreaded(
    c: Context,
    version: str = DEFAULT_VERSION,
    tarball: str = "",
    sha256: str = "",
    jobs: int = 0,
    json: bool = False,
) -> None:
    """Build a free-threaded CPython (`--disable-gil`) into the cache, or reuse it.

    The tarball's SHA-256 is checked before anything runs; the result is verified
    (Py_GIL_DISABLED == 1, GIL off) before it is installed. Prints how to put it on PATH.
    """
    try:
        source = resolve_source(version, tarball, sha256)
    except ValueError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}")
        raise Exit(code=EXIT_BAD_INPUT) from None
    root = cache_root()
    say = (lambda _: None) if json else (lambda text: console.print(f"[dim]{escape(text)}[/]"))
    try:
        python = build(source, root, jobs or os.cpu_count() or 1, say)
    except (BuildFailed, OSError) as error:
        errors.print(f"[red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise Exit(code=EXIT_FINDINGS) from None
    bin_dir = prefix_for(source, root) / "bin"
    if json:
        emit_json(
            {
                "python": str(python),
                "bin": str(bin_dir),
                "version": source.version,
                "sha256": source.sha256,
                "origin": source.origin,
            }
        )
        return
    console.print(f"free-threaded Python {source.version}: {python}")
    console.print(f'put it on PATH:  export PATH="{bin_dir}:$PATH"')
