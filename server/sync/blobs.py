"""PUT/HEAD/GET /api/v1/blobs/<sha256>: content-addressed uploads (signature images, photos).

An upload is verified against the hash in its URL, typed by its content's magic bytes (PNG, JPEG,
WebP — never by a name or a header the client chose), limited in size, idempotent, and visible
only to the uploader's company. The ``blob`` row is written after the bytes are durably stored, so
``has_blob`` (and so a mutation referencing it) never sees a half-stored file.
"""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from server.auth.service import company_id, requires
from server.blobstore import blob_store
from server.errors import ApiError, not_found
from server.extensions import db
from server.visits.models import Blob
from sync.records import BlobRef
from sync.wire import BlobRefSchema

blp = Blueprint("blobs", __name__, url_prefix="/api/v1/blobs", description="Signature images and photos")

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The image type the bytes are, by their magic numbers; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _sha(sha256: str) -> str:
    if not SHA256_RE.match(sha256):
        raise ApiError(404, "not_found", "a blob is named by the lower-case hex SHA-256 of its bytes")
    return sha256


def _row(sha256: str) -> Blob | None:
    return db.session.execute(
        sa.select(Blob).where(Blob.company_id == company_id(), Blob.sha256 == sha256)
    ).scalar_one_or_none()


@blp.route("/<sha256>")
class BlobView(MethodView):
    """One blob of the caller's company."""

    @requires()
    @blp.response(200, BlobRefSchema)
    @blp.alt_response(201, schema=BlobRefSchema, description="stored now")
    @blp.alt_response(413, description="larger than BLOB_MAX_BYTES")
    @blp.alt_response(415, description="not a PNG, JPEG or WebP image")
    @blp.alt_response(422, description="the bytes do not hash to the URL's sha256")
    def put(self, sha256: str):
        """Upload the bytes whose SHA-256 is ``sha256`` (200 if already stored, 201 when stored now)."""
        sha256 = _sha(sha256)
        limit = int(current_app.config.get("BLOB_MAX_BYTES", DEFAULT_MAX_BYTES))
        if request.content_length is not None and request.content_length > limit:
            raise ApiError(413, "blob_too_large", f"a blob may be at most {limit} bytes",
                           details={"max_bytes": limit})
        data = request.get_data(cache=False)
        if len(data) > limit:
            raise ApiError(413, "blob_too_large", f"a blob may be at most {limit} bytes", details={"max_bytes": limit})
        if not data:
            raise ApiError(422, "empty_blob", "the request body is empty")
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise ApiError(422, "hash_mismatch", "the bytes do not match the SHA-256 in the URL",
                           details={"expected": sha256, "actual": actual})
        kind = sniff(data)
        if kind is None:
            raise ApiError(415, "unsupported_blob_type", "only PNG, JPEG and WebP images are accepted",
                           details={"accepted": ["image/png", "image/jpeg", "image/webp"]})
        existing = _row(sha256)
        if existing is not None:
            return BlobRef(existing.sha256, existing.content_type, existing.size)
        blob_store().put(str(company_id()), sha256, data)
        try:
            with db.session.begin_nested():
                db.session.add(Blob(company_id=company_id(), sha256=sha256, content_type=kind, size=len(data)))
        except sa.exc.IntegrityError:
            pass  # a concurrent upload of the same bytes won; the result is the same
        db.session.commit()
        return BlobRef(sha256, kind, len(data)), 201

    @requires()
    @blp.response(200, description="the blob is stored (Content-Type and Content-Length of the blob)")
    def head(self, sha256: str):
        """Whether this company holds the blob (404 otherwise)."""
        row = _row(_sha(sha256))
        if row is None:
            raise not_found("blob", sha256)
        return Response(status=200, headers={"Content-Type": row.content_type, "X-Blob-Size": str(row.size)})

    @requires()
    @blp.response(200, description="the bytes")
    def get(self, sha256: str):
        """The blob's bytes (for the console: a signature, a photo)."""
        row = _row(_sha(sha256))
        data = blob_store().get(str(company_id()), sha256) if row is not None else None
        if data is None:
            raise not_found("blob", sha256)
        return Response(data, mimetype=row.content_type, headers={"Cache-Control": "private, max-age=86400"})
