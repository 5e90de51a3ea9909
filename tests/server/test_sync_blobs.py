"""PUT/HEAD/GET /api/v1/blobs/<sha256>: verified, typed by content, limited, idempotent, per company;
a mutation naming a blob is refused until the blob is uploaded."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import sqlalchemy as sa

from server.extensions import db
from server.visits.models import Blob
from tests.factories import in_hours, make_household, make_job
from tests.fixtures.sync import mutation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + bytes(100)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _put(tablet, data: bytes, sha: str | None = None, content_type: str = "application/octet-stream"):
    return tablet.client.put(f"/api/v1/blobs/{sha or _sha(data)}", data=data, headers=tablet.headers,
                             content_type=content_type)


def test_upload_is_verified_typed_by_content_and_idempotent(tablet, blobstore):
    for data, kind in ((PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")):
        resp = _put(tablet, data)
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json() == {"sha256": _sha(data), "content_type": kind, "size": len(data)}
        assert blobstore.get(str(tablet.company.id), _sha(data)) == data
    again = _put(tablet, PNG)
    assert again.status_code == 200 and again.get_json()["content_type"] == "image/png"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Blob)) == 3
    head = tablet.client.head(f"/api/v1/blobs/{_sha(PNG)}", headers=tablet.headers)
    assert head.status_code == 200 and head.headers["Content-Type"] == "image/png"
    got = tablet.client.get(f"/api/v1/blobs/{_sha(JPEG)}", headers=tablet.headers)
    assert got.status_code == 200 and got.data == JPEG


def test_wrong_hash_wrong_type_and_too_big_are_refused(tablet, blobstore, app):
    resp = _put(tablet, PNG, sha=_sha(JPEG))
    assert resp.status_code == 422 and resp.get_json()["reason"] == "hash_mismatch"
    # A script renamed .png is still a script: the name and the header do not matter.
    script = b"#!/bin/sh\nrm -rf /\n"
    resp = _put(tablet, script, content_type="image/png")
    assert resp.status_code == 415 and resp.get_json()["reason"] == "unsupported_blob_type"
    app.config["BLOB_MAX_BYTES"] = 1000
    try:
        big = PNG + bytes(2000)
        resp = _put(tablet, big)
        assert resp.status_code == 413 and resp.get_json()["reason"] == "blob_too_large"
    finally:
        app.config.pop("BLOB_MAX_BYTES")
    assert tablet.client.put("/api/v1/blobs/not-a-hash", data=PNG, headers=tablet.headers).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Blob)) == 0


def test_blobs_are_invisible_to_another_company(tablet, make_company, make_tablet, blobstore):
    assert _put(tablet, PNG).status_code == 201
    stranger = make_tablet(make_company("sync-z"), "tech-z")
    assert stranger.client.head(f"/api/v1/blobs/{_sha(PNG)}", headers=stranger.headers).status_code == 404
    assert stranger.client.get(f"/api/v1/blobs/{_sha(PNG)}", headers=stranger.headers).status_code == 404
    # Their own upload of the same bytes is theirs.
    assert _put(stranger, PNG).status_code == 201


def test_a_signature_naming_a_missing_blob_waits_for_the_upload(tablet, blobstore):
    job = make_job(tablet.company, make_household(tablet.company), technician=tablet.technician,
                   window_start=in_hours(1))
    fields = {"job_id": str(job.id), "purpose": "cleanup", "content_hash": "c" * 64, "signer_name": "张伟",
              "image_sha256": _sha(PNG), "signed_at": dt.datetime.now(dt.UTC).isoformat()}
    first = tablet.push([mutation("signature", uuid.uuid4(), "create", **fields)]).get_json()["results"][0]
    assert first["status"] == "rejected" and first["reason"] == "missing_blob"
    assert _put(tablet, PNG).status_code == 201
    second = tablet.push([mutation("signature", uuid.uuid4(), "create", **fields)]).get_json()["results"][0]
    assert second["status"] == "applied"
