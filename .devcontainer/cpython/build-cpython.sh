#!/bin/sh
# Builds a free-threaded CPython (--disable-gil) into /usr/local from a pinned source tarball.
# Usage: build-cpython.sh URL SHA256 VERSION   (values from .devcontainer/versions.json)
# The tarball is downloaded and checked before anything runs (fetch-verified.sh); the result
# must be a free-threaded build with the GIL off and exactly VERSION (check-python).
set -eu
url=$1
sha256=$2
version=$3
tarball=/var/cache/cpython/$(basename "$url")
fetch-verified.sh "$url" "$sha256" "$tarball"
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
check-python "$version"
