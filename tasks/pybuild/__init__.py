"""Free-threaded CPython for the host, built from a checksum-verified source tarball."""
