"""The exporters' HTTP server: a registry's metrics at /metrics for Prometheus, and /healthy,
which answers without collecting anything, for the container's healthcheck."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer


class _Quiet(WSGIRequestHandler):
    """Logs no request: a scrape every few seconds is not news. A client that sends nothing,
    or stops reading, is dropped after `timeout` seconds instead of holding its thread."""

    timeout = 10.0

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


def app(registry: CollectorRegistry) -> Any:
    """The WSGI application: /healthy answers `ok`, every other path the metrics."""
    metrics = make_wsgi_app(registry)

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthy":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return serve


def server(address: str, port: int, registry: CollectorRegistry) -> ThreadingWSGIServer:
    """The server of `registry` at `address`:`port` (every address for ''), not yet serving."""
    return make_server(address, port, app(registry), ThreadingWSGIServer, handler_class=_Quiet)


def serve(port: int, registry: CollectorRegistry) -> None:
    """Serve on every address at `port`, in a thread of its own."""
    threading.Thread(target=server("", port, registry).serve_forever, daemon=True).start()
