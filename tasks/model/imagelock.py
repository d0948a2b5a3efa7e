"""`.devcontainer/images.lock.json`: the digest of every image the stack builds, as pushed to
the registry. `invoke images.lock` writes it; with it, the client configs start each stdio MCP
server from its pinned image (`registry/name@sha256:...`), the same for everyone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.schemas import IMAGES_LOCK, validate
from tasks.model.source import Document, load_json

LOCK_FILE = "images.lock.json"
_FIX = (
    "delete it, then run `invoke images.lock` to pin the pushed images again (or keep it "
    "deleted to use the local images)"
)


@dataclass(frozen=True)
class ImageLock:
    """The pushed images: registry prefix, the profile they were built with, and each image's
    local tag and pinned reference."""

    path: Path
    registry: str
    profile: str
    images: dict[str, tuple[str, str]]
    doc: Document | None = None

    def line(self, *keys: str) -> int | None:
        """Line of a key path in the file (None when unknown)."""
        return self.doc.line_of(*keys) if self.doc else None

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
    doc = load_json(path, "image lock", _FIX)
    validate(doc, doc.data, IMAGES_LOCK, _FIX)
    images = {name: (item["tag"], item["ref"]) for name, item in doc.data["images"].items()}
    return ImageLock(path, doc.data["registry"], doc.data["profile"], images, doc)
