"""Where blob bytes live: the filesystem under the app's DATA_DIR by default.

A BlobStore keeps bytes under a key (company id + SHA-256); the database's ``blob`` row says the
upload completed and was verified. Another implementation (object storage, S3-style ``put_object``
/ ``head_object`` / ``get_object``) only has to provide the same three methods.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app


class BlobStore(Protocol):
    """Content-addressed bytes, per company."""

    def put(self, company: str, sha256: str, data: bytes) -> None:
        """Store the bytes durably (atomically: a reader never sees half a file). Idempotent."""

    def exists(self, company: str, sha256: str) -> bool:
        """Whether the bytes are stored."""

    def get(self, company: str, sha256: str) -> bytes | None:
        """The bytes, or None."""


class FilesystemBlobStore:
    """Files at ``root/<company>/<aa>/<sha256>``, written to a temporary file, fsynced, then renamed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, company: str, sha256: str) -> Path:
        if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise ValueError("not a sha256 hex digest")
        return self.root / company / sha256[:2] / sha256

    def put(self, company: str, sha256: str, data: bytes) -> None:
        path = self._path(company, sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def exists(self, company: str, sha256: str) -> bool:
        return self._path(company, sha256).is_file()

    def get(self, company: str, sha256: str) -> bytes | None:
        path = self._path(company, sha256)
        return path.read_bytes() if path.is_file() else None


def blob_store(app: Flask | None = None) -> BlobStore:
    """The app's blob store (``app.extensions['blobstore']``, else files under DATA_DIR/blobs)."""
    app = app or current_app
    store = app.extensions.get("blobstore")
    if store is None:
        store = FilesystemBlobStore(Path(app.config["DATA_DIR"]) / "blobs")
        app.extensions["blobstore"] = store
    return store
