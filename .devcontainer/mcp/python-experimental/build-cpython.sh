#!/bin/sh
# Builds a free-threaded CPython (--disable-gil) from a verified source tarball into /usr/local.
# Usage: build-cpython.sh TARBALL SHA256
# The tarball is checked before anything runs; the result must report Py_GIL_DISABLED == 1 and
# the GIL off, checked with sys.exit (not assert, which optimisation would strip).
set -eu
tarball=$1
sha256=$2
if [ -z "$sha256" ]; then
  echo "build-cpython: PYTHON_SHA256 is empty; pass --build-arg PYTHON_SHA256 (invoke build.* fetches and checks the tarball)" >&2
  exit 1
fi
if [ ! -f "$tarball" ]; then
  echo "build-cpython: $tarball is not in the build context (invoke build.* puts it in .cpython/)" >&2
  exit 1
fi
echo "$sha256  $tarball" | sha256sum -c -
mkdir -p /tmp/cpython
tar -xf "$tarball" -C /tmp/cpython --strip-components=1
cd /tmp/cpython
./configure --disable-gil --prefix=/usr/local --with-ensurepip=install >/dev/null
make -j"$(nproc)" >/dev/null
make install >/dev/null
line=$(./python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ln -sf "python${line}t" /usr/local/bin/python3
ln -sf "python${line}t" /usr/local/bin/python
ln -sf "pip${line}t" /usr/local/bin/pip3 2>/dev/null || true
cd /
rm -rf /tmp/cpython
PYTHON_GIL=0 /usr/local/bin/python3 -c "import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var('Py_GIL_DISABLED') == 1 and not sys._is_gil_enabled() else 1)"
echo "build-cpython: $(/usr/local/bin/python3 -VV) is free-threaded"
