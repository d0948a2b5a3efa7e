"""A page on the host's 127.0.0.1 for the fetch server's probe to read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tasks.servers.specs import PAGE_TEXT


class _Page(BaseHTTPRequestHandler):
    """Serves the fetch probe's page on 127.0.0.1."""

    def do_GET(self) -> None:
        body = f"<html><body><h1>{PAGE_TEXT}</h1></body></html>".encode()
        self.send_response(200 if self.path in ("/", "/index.html") else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def probe_page() -> Iterator[str]:
    """Serve the fetch probe's page on 127.0.0.1 for the duration; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    # A short poll interval: shutdown() waits for the loop to notice, up to one interval.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
