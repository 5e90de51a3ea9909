"""The device store's key: a random data key, kept on disk only wrapped by the technician's PIN.

The store (``device.sqlite``) is a SQLCipher 4 database encrypted with a random 256-bit **data key**.
The data key never touches the disk in clear: the key file beside the store (``device.sqlite.key``,
JSON) holds it *wrapped* once per secret:

- ``pin``: the PIN the technician chose at first sign-in (6–12 digits), asked at every cold start;
- ``password``: the technician's account password of the last online sign-in, the way back in after
  too many wrong PINs or a forgotten PIN (it works offline: it only unwraps the key).

Wrapping: ``kek = Argon2id(secret, salt, t=3, m=64 MiB, p=1, 64 bytes)``; the wrapped key is
``data_key XOR kek[:32]`` and ``HMAC-SHA256(kek[32:], wrapped)`` tells a wrong secret from a right one
before the store is opened. A fresh random salt is drawn at every (re)wrap, so a key stream is never
reused. Changing the PIN rewraps the same data key (the store is not re-encrypted).

Wrong secrets: after ``MAX_PIN_ATTEMPTS`` wrong PINs in a row the PIN is refused and only the
password unlocks (then a new PIN is set); after ``MAX_PASSWORD_ATTEMPTS`` wrong passwords as well the
store stays locked until support resets the counter. **A wrong secret never destroys data**: the
outbox may hold the day's only copy of what was captured in a customer's home. The counter is written
before each attempt (a kill mid-attempt counts it). It is a guard against guessing at the screen; it
is not what stops an attacker who copies the files — that is the Argon2id cost per guess (~0.2 s and
64 MiB here), which is why PINs are at least 6 digits. On a real Android build the KEK should come
from the hardware-backed Keystore; see docs/protocol.md §13.

Crypto-erase (``destroy``): overwrite the key file with random bytes, fsync, delete. Without the
data key the store file is random bytes, whatever flash wear-levelling kept of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw

KEY_SUFFIX = ".key"
MAX_PIN_ATTEMPTS = 5
MAX_PASSWORD_ATTEMPTS = 5
PIN_LENGTH = (6, 12)
FORMAT = 1
_MAC_LABEL = b"fieldsync-store-key-v1"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost (OWASP: at least m=19 MiB, t=2; this is stronger and ~0.2 s on a tablet core)."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024  # KiB
    parallelism: int = 1


class KeystoreError(Exception):
    """Base of the key file's errors."""


class WrongSecret(KeystoreError):
    """The PIN or password does not unwrap the key; ``left`` attempts remain before the lock."""

    def __init__(self, slot: str, left: int) -> None:
        super().__init__(f"wrong {slot}; {left} attempt(s) left")
        self.slot, self.left = slot, left


class Locked(KeystoreError):
    """Too many wrong attempts for this kind of secret; ``slot`` says which one is locked."""

    def __init__(self, slot: str) -> None:
        super().__init__(f"too many wrong {slot} attempts: locked")
        self.slot = slot


class NoKey(KeystoreError):
    """There is no key file (a new tablet, or one that was wiped)."""


def valid_pin(pin: str) -> bool:
    """6–12 digits."""
    return pin.isdigit() and pin.isascii() and PIN_LENGTH[0] <= len(pin) <= PIN_LENGTH[1]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


def _kek(secret: str, salt: bytes, kdf: KdfParams) -> bytes:
    return hash_secret_raw(secret.encode("utf-8"), salt, time_cost=kdf.time_cost, memory_cost=kdf.memory_cost,
                           parallelism=kdf.parallelism, hash_len=64, type=Type.ID)


def _wrap(data_key: bytes, secret: str, kdf: KdfParams) -> dict[str, str]:
    salt = secrets.token_bytes(16)
    kek = _kek(secret, salt, kdf)
    wrapped = bytes(a ^ b for a, b in zip(data_key, kek[:32], strict=True))
    mac = hmac.new(kek[32:], _MAC_LABEL + wrapped, hashlib.sha256).digest()
    return {"salt": _b64(salt), "wrapped": _b64(wrapped), "mac": _b64(mac)}


def _unwrap(slot: dict[str, str], secret: str, kdf: KdfParams) -> bytes | None:
    kek = _kek(secret, _unb64(slot["salt"]), kdf)
    wrapped = _unb64(slot["wrapped"])
    mac = hmac.new(kek[32:], _MAC_LABEL + wrapped, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, _unb64(slot["mac"])):
        return None
    return bytes(a ^ b for a, b in zip(wrapped, kek[:32], strict=True))


def key_path(store_path: str | Path) -> Path:
    """Where the key file of a store lives (beside it)."""
    return Path(str(store_path) + KEY_SUFFIX)


class Keystore:
    """The key file of one device store."""

    def __init__(self, store_path: str | Path, kdf: KdfParams | None = None) -> None:
        self.path = key_path(store_path)
        self.kdf = kdf or KdfParams()

    # -- file ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the store has a key (else: a new or wiped tablet)."""
        return self.path.exists()

    def _read(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NoKey(str(self.path)) from None
        if doc.get("format") != FORMAT:
            raise KeystoreError(f"unknown key file format {doc.get('format')!r}")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        """Atomically: write a temporary file, fsync it, rename over, fsync the folder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(doc, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def _params(self, doc: dict[str, Any]) -> KdfParams:
        kdf = doc["kdf"]
        return KdfParams(kdf["t"], kdf["m"], kdf["p"])

    # -- state --------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What the unlock screen needs: attempts left for the PIN and the password, and whether a
        password slot exists."""
        doc = self._read()
        return {
            "pin_left": max(0, MAX_PIN_ATTEMPTS - doc.get("failed_pin", 0)),
            "password_left": max(0, MAX_PASSWORD_ATTEMPTS - doc.get("failed_password", 0)),
            "has_password": "password" in doc["slots"],
        }

    # -- create, unlock, rewrap -----------------------------------------------------------------
    def create(self, pin: str, password: str | None = None) -> bytes:
        """A new random data key wrapped by ``pin`` (and ``password``); returns the data key."""
        if not valid_pin(pin):
            raise ValueError("a PIN is 6 to 12 digits")
        data_key = secrets.token_bytes(32)
        slots = {"pin": _wrap(data_key, pin, self.kdf)}
        if password:
            slots["password"] = _wrap(data_key, password, self.kdf)
        kdf = {"alg": "argon2id", "t": self.kdf.time_cost, "m": self.kdf.memory_cost, "p": self.kdf.parallelism}
        self._write({"format": FORMAT, "kdf": kdf, "slots": slots, "failed_pin": 0, "failed_password": 0})
        return data_key

    def unlock(self, pin: str) -> bytes:
        """The data key, if ``pin`` is right. Raises WrongSecret or Locked (nothing is erased)."""
        return self._unlock("pin", pin, MAX_PIN_ATTEMPTS)

    def unlock_with_password(self, password: str) -> bytes:
        """The data key from the account password (after a locked or forgotten PIN)."""
        return self._unlock("password", password, MAX_PASSWORD_ATTEMPTS)

    def _unlock(self, slot: str, secret: str, limit: int) -> bytes:
        doc = self._read()
        counter = f"failed_{slot}"
        if slot not in doc["slots"]:
            raise Locked(slot)
        if doc.get(counter, 0) >= limit:
            raise Locked(slot)
        doc[counter] = doc.get(counter, 0) + 1
        self._write(doc)  # counted before trying: killing the app mid-attempt does not reset it
        data_key = _unwrap(doc["slots"][slot], secret, self._params(doc))
        if data_key is None:
            left = limit - doc[counter]
            if left <= 0:
                raise Locked(slot)
            raise WrongSecret(slot, left)
        doc[counter] = 0
        if slot == "password":
            doc["failed_pin"] = 0  # the password proves the technician: the PIN may be tried (or reset) again
        self._write(doc)
        return data_key

    def set_pin(self, data_key: bytes, pin: str) -> None:
        """Rewrap the (unlocked) data key under a new PIN; the store is not re-encrypted."""
        if not valid_pin(pin):
            raise ValueError("a PIN is 6 to 12 digits")
        doc = self._read()
        doc["slots"]["pin"] = _wrap(data_key, pin, self._params(doc))
        doc["failed_pin"] = 0
        self._write(doc)

    def set_password(self, data_key: bytes, password: str) -> None:
        """Rewrap the data key under the account password of the latest online sign-in."""
        doc = self._read()
        doc["slots"]["password"] = _wrap(data_key, password, self._params(doc))
        doc["failed_password"] = 0
        self._write(doc)

    def reset_attempts(self) -> None:
        """Support's way out of a full lock (documented; it needs access to the tablet's files)."""
        doc = self._read()
        doc["failed_pin"] = doc["failed_password"] = 0
        self._write(doc)

    # -- crypto-erase ---------------------------------------------------------------------------
    def destroy(self) -> bool:
        """Overwrite the key file with random bytes, fsync and delete it; True when there was one."""
        found = False
        for path in (self.path, self.path.with_name(self.path.name + ".tmp")):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            found = True
            with open(path, "r+b") as out:
                out.write(secrets.token_bytes(max(size, 512)))
                out.flush()
                os.fsync(out.fileno())
            path.unlink()
        if found:
            _fsync_dir(self.path.parent)
        return found


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
