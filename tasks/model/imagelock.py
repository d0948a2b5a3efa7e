"""`.devcontainer/images.lock.json`: the digest of every image the stack builds, as pushed to
the registry. `invoke images.lock` writes it; with it, the client configs start each stdio MCP
server from its pinned image (`registry/name@sha256:...`), the same for everyone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.errors import StackError
from tasks.model.schemas import IMAGES_LOCK, validate
from tasks.model.source import load_jsonc, read_text

LOCK_FILE = "images.lock.json"
_FIX = "rewrite it with `invoke images.lock`, or delete it to use the local images"


@dataclass(frozen=True)
class ImageLock:
    """The pushed images: registry prefix, the profile they were built with, and each image's
    local tag and pinned reference."""

    path: Path
    registry: str
    profile: str
    images: dict[str, tuple[str, str]]

    def pinned(self, tag: str) -> str | None:
        """The pinned reference of the image whose local name is `tag`, if it is locked."""
        return next((ref for local, ref in self.images.values() if local == tag), None)


def lock_document(registry: str, profile: str, images: dict[str, tuple[str, str]]) -> str:
    """The text of a lock file (what `load_lock` reads back)."""
    data: dict[str, Any] = {
        "$comment": "Written by `invoke images.lock`; do not edit. `invoke mcp.config` pins the "
        "stdio MCP servers to these digests.",
        "registry": registry,
        "profile": profile,
        "images": {name: {"tag": tag, "ref": ref} for name, (tag, ref) in sorted(images.items())},
    }
    return json.dumps(data, indent=2) + "\n"


def load_lock(path: Path) -> ImageLock:
    """Read and validate the lock file; every problem is one `StackError` naming the key."""
    try:
        json.loads(read_text(path, "image lock"))
    except json.JSONDecodeError as error:
        raise StackError(path, f"not valid JSON ({error.msg})", _FIX, line=error.lineno) from None
    doc = load_jsonc(path, "image lock")
    validate(doc, doc.data, IMAGES_LOCK, _FIX)
    images = {name: (item["tag"], item["ref"]) for name, item in doc.data["images"].items()}
    return ImageLock(path, doc.data["registry"], doc.data["profile"], images)
