"""A scripted MCP stdio server for the client's tests: `python fakemcp.py MODE`.

`ok` answers the handshake (after a log notification and a ping to the client, whose reply it
checks), lists two pages of tools and echoes `tools/call`. The other modes break one thing
(`crash`: exits at the first request after the handshake; `deaf`: closes its stdin before its
answer to initialize) or stretch one (`stray`: an error reply to a request never made comes
first; `big`: a 1 MiB tool list line; `huge`: a 17 MiB one; `latin`: its name holds a byte
that is not UTF-8).
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
    info = {"protocolVersion": version, "serverInfo": {"name": "fake", "version": "9.9"}}
    result = {**info, "capabilities": {"tools": {}}}
    line = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()
    if MODE == "latin":
        line = line.replace(b'"fake"', b'"fa\xffke"')
    if MODE == "deaf":  # nothing the client sends from now on can arrive
        os.close(sys.stdin.fileno())
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.flush()
    if MODE == "deaf":
        time.sleep(30)


def answer(request: dict[str, object]) -> None:
    """Answer one request after the handshake: tools/list in two pages (the second batched
    with a notification), tools/call echoing its arguments."""
    params = request.get("params") or {}
    assert isinstance(params, dict)
    if MODE == "crash":  # the handshake went well; the first request brings it down
        sys.exit("crashed")
    if MODE == "stray":
        send({"id": 999, "error": {"code": -32600, "message": "no such request"}})
    if MODE in ("big", "huge") and request["method"] == "tools/list":
        size = 2**20 if MODE == "big" else 17 * 2**20
        send({"id": request["id"], "result": {"tools": [{"name": "a", "description": "x" * size}]}})
        return
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
