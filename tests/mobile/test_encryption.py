"""A lost tablet leaks nothing (issue #7): the store file and its WAL are ciphertext, the right PIN
opens them, a wrong one does not, wrong PINs lock without destroying anything, and a PIN change
rewraps the key without re-encrypting the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mobile import keystore as ks
from mobile.demo import load_demo
from mobile.store import DeviceStore, WrongKey, encrypt_plaintext_store, is_plaintext, store_files

PIN, PASSWORD = "482913", "correct horse battery"
CHEAP = ks.KdfParams(time_cost=1, memory_cost=1024)  # the lock logic, not the KDF cost, is under test here


def _pii(store: DeviceStore) -> list[bytes]:
    """Names, phones, addresses and access codes the demo day put on the device, as UTF-8 bytes."""
    needles: set[str] = set()
    for c in store.all("customer"):
        needles |= {c["name"], c["phone"], c["account_no"]}
    for c in store.all("customer_contact"):
        needles |= {c["phone"]}
    for p in store.all("premises"):
        needles |= {p["address"]}
    needles |= {"门禁密码", "独居老人"}
    return sorted(n.encode() for n in needles if n)


def _raw(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in store_files(path) if f.exists()}


def _open_encrypted(path: Path, pin: str = PIN) -> DeviceStore:
    keys = ks.Keystore(path)
    key = keys.unlock(pin) if keys.exists() else keys.create(pin, PASSWORD)
    return DeviceStore(path, key=key)


def test_the_raw_file_and_wal_hold_no_customer_bytes_and_plain_sqlite_cannot_read_them(tmp_path):
    path = tmp_path / "device.sqlite"
    store = _open_encrypted(path)
    load_demo(store, jobs=12)
    job = store.all("job")[0]
    store.create("note", {"job_id": job["id"], "author_name": "李建国", "text": "客户张伟说 13800000000 的表在厨房",
                          "written_at": "2026-11-27T08:00:00+00:00"})
    needles = _pii(store)
    assert len(needles) > 30
    raw = _raw(path)  # read while the store is open: the WAL holds the latest pages now
    assert raw.get("device.sqlite-wal"), "WAL mode is kept: the WAL must exist and hold frames"
    for name, data in raw.items():
        assert [n.decode() for n in needles if n in data] == [], name
        assert b"SQLite format 3" not in data[:100], name
        assert "客户张伟说".encode() not in data
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    assert store.encrypted and store.integrity_ok()
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()
    for name, data in _raw(path).items():  # after the checkpoint at close, too
        assert [n.decode() for n in needles if n in data] == [], name

    # The same day in a plaintext store does contain them: the search above can find what it looks for.
    plain = DeviceStore(tmp_path / "plain.sqlite")
    load_demo(plain, jobs=12)
    plain.close()
    assert all(n in (tmp_path / "plain.sqlite").read_bytes() for n in needles[:5])


def test_the_right_pin_opens_the_store_a_wrong_pin_does_not(tmp_path):
    path = tmp_path / "device.sqlite"
    store = _open_encrypted(path)
    load_demo(store, jobs=3)
    store.close()
    keys = ks.Keystore(path)
    with pytest.raises(ks.WrongSecret) as wrong:
        keys.unlock("000000")
    assert wrong.value.left == ks.MAX_PIN_ATTEMPTS - 1
    with pytest.raises(WrongKey):
        DeviceStore(path, key=b"\x00" * 32)  # a guessed key does not open it either
    store = DeviceStore(path, key=keys.unlock(PIN))
    assert store.count_rows("job") == 4 and keys.status()["pin_left"] == ks.MAX_PIN_ATTEMPTS  # 3 + an old visit
    store.close()
    # The key file holds no key in clear and names nothing about the customers.
    text = keys.path.read_text()
    assert set(json.loads(text)["slots"]) == {"pin", "password"} and PIN not in text


def test_wrong_pins_lock_the_store_without_destroying_it_and_the_password_reopens_it(tmp_path):
    path = tmp_path / "device.sqlite"
    keys = ks.Keystore(path, kdf=CHEAP)
    store = DeviceStore(path, key=keys.create(PIN, PASSWORD))
    load_demo(store, jobs=2)
    store.create("note", {"job_id": store.all("job")[0]["id"], "author_name": "t", "text": "only copy",
                          "written_at": "2026-11-27T08:00:00+00:00"})
    store.close()
    before = _raw(path)
    for left in range(ks.MAX_PIN_ATTEMPTS - 1, 0, -1):
        with pytest.raises(ks.WrongSecret) as wrong:
            keys.unlock("111111")
        assert wrong.value.left == left
    with pytest.raises(ks.Locked):
        keys.unlock("111111")
    with pytest.raises(ks.Locked):
        keys.unlock(PIN)  # locked: even the right PIN is refused now
    assert _raw(path) == before  # nothing was erased or rewritten
    with pytest.raises(ks.WrongSecret):
        keys.unlock_with_password("not it")
    key = keys.unlock_with_password(PASSWORD)
    store = DeviceStore(path, key=key)
    assert store.pending_count() == 1  # the captured fact survived the lock
    keys.set_pin(key, "907153")
    store.close()
    assert ks.Keystore(path).unlock("907153") == key


def test_changing_the_pin_rewraps_the_same_key_and_the_old_pin_stops_working(tmp_path):
    path = tmp_path / "device.sqlite"
    keys = ks.Keystore(path, kdf=CHEAP)
    key = keys.create(PIN)
    DeviceStore(path, key=key).close()
    db_bytes = path.read_bytes()
    keys.set_pin(key, "55554444")
    assert path.read_bytes() == db_bytes  # the store is not re-encrypted
    with pytest.raises(ks.WrongSecret):
        keys.unlock(PIN)
    assert keys.unlock("55554444") == key
    with pytest.raises(ValueError):
        keys.set_pin(key, "1234")  # too short: 6 digits at least
    assert not ks.valid_pin("12345a") and ks.valid_pin("123456")


def test_the_default_kdf_is_argon2id_with_64_mib(tmp_path):
    keys = ks.Keystore(tmp_path / "d.sqlite")
    keys.create(PIN)
    kdf = json.loads(keys.path.read_text())["kdf"]
    assert kdf == {"alg": "argon2id", "t": 3, "m": 65536, "p": 1}


def test_an_older_plaintext_store_is_encrypted_in_place_with_its_outbox(tmp_path):
    path = tmp_path / "device.sqlite"
    plain = DeviceStore(path)
    load_demo(plain, jobs=3)
    plain.create("note", {"job_id": plain.all("job")[0]["id"], "author_name": "t", "text": "queued before",
                          "written_at": "2026-11-27T08:00:00+00:00"})
    needles = _pii(plain)
    plain.close()
    assert is_plaintext(path)
    key = ks.Keystore(path, kdf=CHEAP).create(PIN)
    encrypt_plaintext_store(path, key)
    assert not is_plaintext(path)
    for name, data in _raw(path).items():
        assert [n for n in needles if n in data] == [], name
    store = DeviceStore(path, key=key)
    assert store.count_rows("job") == 4 and store.pending_count() == 1 and store.integrity_ok()
    store.close()


def test_destroying_the_key_leaves_the_store_unreadable(tmp_path):
    path = tmp_path / "device.sqlite"
    keys = ks.Keystore(path, kdf=CHEAP)
    DeviceStore(path, key=keys.create(PIN)).close()
    assert keys.destroy() and not keys.exists()
    with pytest.raises(ks.NoKey):
        keys.unlock(PIN)
