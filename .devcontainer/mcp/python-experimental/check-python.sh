#!/bin/sh
# Proves the image's python3 is what it says: check-python.sh VERSION
# Exits 1 unless the build is free-threaded (Py_GIL_DISABLED == 1), the GIL is off under
# PYTHON_GIL=0, and the interpreter's version is exactly VERSION (the image's PYTHON_VERSION).
set -eu
PYTHON_GIL=0 python3 - "$1" <<'PY'
import platform
import sys
import sysconfig

wanted = sys.argv[1]
actual = platform.python_version()
if sysconfig.get_config_var("Py_GIL_DISABLED") != 1 or sys._is_gil_enabled():
    sys.exit(f"check-python: {sys.executable} is not free-threaded")
if actual != wanted:
    sys.exit(f"check-python: the interpreter is {actual}, but PYTHON_VERSION says {wanted}")
print(f"check-python: {sys.executable} is free-threaded CPython {actual}")
PY
