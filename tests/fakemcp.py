"""A scripted MCP stdio server for the client's tests: `python fakemcp.py MODE`.

`ok` answers the handshake (after a log notification and a ping to the client, whose reply it
checks), lists two pages of tools and echoes `tools/call`. The other modes break one thing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

MODE = sys.argv[1] if len(sys.argv) > 1 else "ok"


def send(message: dict[str, object]) -> None:
    """Write one JSON-RPC message line."""
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    sys.stdout.flush()


def receive() -> dict[str, object]:
    """The next message from the client (exit quietly when stdin closes; a `stubborn` server
    keeps running, deaf to SIGTERM too)."""
    line = sys.stdin.readline()
    if not line and MODE == "stubborn":
        time.sleep(60)
    if not line:
        sys.exit(0)
    message: dict[str, object] = json.loads(line)
    return message


def ask_client(method: str) -> dict[str, object]:
    """Send a request to the client and return its reply."""
    send({"id": f"server-{method}", "method": method})
    reply = receive()
    if reply.get("id") != f"server-{method}":
        sys.exit(f"expected the reply to {method}, got {reply}")
    return reply


def initialize(request: dict[str, object]) -> None:
    """Answer `initialize` the way MODE says."""
    send({"method": "notifications/message", "params": {"level": "info", "data": "starting"}})
    if ask_client("ping").get("result") != {}:
        sys.exit("the client did not answer ping")
    if "error" not in ask_client("roots/list"):
        sys.exit("the client answered a request it does not support")
    if MODE == "bool-id":  # `true` is not the id 1 of initialize
        send({"id": True, "result": {"protocolVersion": "1999-01-01", "serverInfo": {}}})
    version = "1999-01-01" if MODE == "old-protocol" else "2025-06-18"
    result = {"protocolVersion": version, "serverInfo": {"name": "fake", "version": "9.9"}}
    send({"id": request["id"], "result": {**result, "capabilities": {"tools": {}}}})


def answer(request: dict[str, object]) -> None:
    """Answer one request after the handshake: tools/list in two pages (the second batched
    with a notification), tools/call echoing its arguments."""
    params = request.get("params") or {}
    assert isinstance(params, dict)
    if request["method"] == "tools/list" and MODE == "error":
        send({"id": request["id"], "error": {"code": -32603, "message": "disk on fire"}})
    elif request["method"] == "tools/list" and MODE == "null-id":
        send({"id": None, "error": {"code": -32700, "message": "parse error"}})
    elif request["method"] == "tools/list" and params.get("cursor") == "page-2":
        batch = [
            {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"},
            {"jsonrpc": "2.0", "id": request["id"], "result": {"tools": [{"name": "c"}]}},
        ]
        sys.stdout.write(json.dumps(batch) + "\n\n")
        sys.stdout.flush()
    elif request["method"] == "tools/list":
        tools = [{"name": "a"}, {"name": "b"}]
        send({"id": request["id"], "result": {"tools": tools, "nextCursor": "page-2"}})
    elif request["method"] == "tools/call":
        text = json.dumps(params.get("arguments"))
        result = {"content": [{"type": "text", "text": text}], "isError": params["name"] == "fail"}
        send({"id": request["id"], "result": result})


def main() -> None:
    """Serve until stdin closes."""
    if MODE == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        Path(os.environ["FAKEMCP_PID_FILE"]).write_text(str(os.getpid()))
    if MODE == "garbage":
        print("Server listening on stdio", flush=True)
    if MODE == "exit":
        sys.exit("no config")
    if MODE == "child":  # a child that keeps stdout open after the server exits
        child = subprocess.Popen(["sleep", "60"])
        Path(os.environ["FAKEMCP_PID_FILE"]).write_text(str(child.pid))
    if MODE == "silent":
        Path(os.environ["FAKEMCP_PID_FILE"]).write_text(str(os.getpid()))
        time.sleep(60)
    while True:
        message = receive()
        if "id" not in message:
            continue
        if message["method"] == "initialize":
            initialize(message)
        else:
            answer(message)


if __name__ == "__main__":
    main()
