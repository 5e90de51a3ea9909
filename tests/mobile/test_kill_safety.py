"""Kill the app process (SIGKILL) in the middle of saving: on restart the encrypted store and its outbox
are intact (SQLCipher pages, WAL mode, one transaction per change plus its outbox entry)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from mobile.demo import DEMO_PIN, load_demo
from mobile.keystore import Keystore
from mobile.store import DeviceStore, is_plaintext

# The child saves visit facts as fast as it can, each save one batch (a note, an answer with a photo
# blob, the job's ETA), and reports every save that returned (= acknowledged to the technician).
WRITER = textwrap.dedent("""
    import sys
    from mobile.keystore import Keystore
    from mobile.store import DeviceStore
    store = DeviceStore(sys.argv[1], key=Keystore(sys.argv[1]).unlock(sys.argv[3]))
    job = sys.argv[2]
    i = 0
    while True:
        i += 1
        with store.batch() as b:
            b.create("note", {"job_id": job, "author_name": "t", "text": f"save {i}", "written_at": "2026-11-27T08:00:00+00:00"})
            photo = b"\\x89PNG\\r\\n\\x1a\\n" + str(i).encode() * 2000
            import hashlib
            b.create("checklist_answer", {"job_id": job, "item_key": f"k{i}", "value": {"value": i},
                     "photo_sha256": hashlib.sha256(photo).hexdigest(), "answered_at": "2026-11-27T08:00:00+00:00"},
                     blobs=[(photo, "image/png")])
            b.update("job", job, {"eta": f"2026-11-27T{i % 24:02d}:00:00+00:00"})
        print(i, flush=True)
""")


def test_sigkill_mid_save_leaves_store_and_outbox_intact(tmp_path: Path) -> None:
    path = tmp_path / "device.sqlite"
    keys = Keystore(path)
    store = DeviceStore(path, key=keys.create(DEMO_PIN))
    assert store.encrypted
    load_demo(store, jobs=3)
    job = store.all("job")[0]["id"]
    store.close()

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), job, DEMO_PIN], stdout=subprocess.PIPE, env=env,
                             text=True)
    acknowledged = 0
    deadline = time.monotonic() + 30
    while acknowledged < 40 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.strip():
            acknowledged = int(line)
    os.kill(child.pid, signal.SIGKILL)  # mid-save: the child is inside its next batch
    child.wait(10)
    rest = child.stdout.read().split()
    acknowledged = max([acknowledged, *map(int, rest)])
    assert acknowledged >= 40

    assert not is_plaintext(path)
    store = DeviceStore(path, key=keys.unlock(DEMO_PIN))
    try:
        assert store.integrity_ok()
        notes = sorted(int(n["text"].split()[1]) for n in store.for_job("note", job) if n["text"].startswith("save"))
        answers = sorted(a["value"]["value"] for a in store.for_job("checklist_answer", job))
        outbox = store.outbox_rows()
        queued_notes = sorted(int(json.loads(o["fields"])["text"].split()[1]) for o in outbox
                              if o["collection"] == "note" and json.loads(o["fields"]).get("text", "").startswith("save"))
        queued_etas = [o for o in outbox if o["collection"] == "job"]
        saved = len(notes)
        # Every acknowledged save is there; the one being written when killed is all there or not at all.
        assert saved in (acknowledged, acknowledged + 1)
        assert notes == answers == queued_notes == list(range(1, saved + 1))
        assert len(queued_etas) == saved
        for answer in store.for_job("checklist_answer", job):
            assert store.blob(answer["photo_sha256"]) is not None
        assert store.get("job", job)["eta"] == f"2026-11-27T{saved % 24:02d}:00:00+00:00"
        assert store.pending_count() == 3 * saved
        # The outbox survives a cache rebuild too.
        store.rebuild_cache()
        assert store.pending_count() == 3 * saved and len(store.for_job("note", job)) == saved
    finally:
        store.close()
