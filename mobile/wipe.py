"""Erase a tablet that was reported lost (401 ``device_revoked`` with ``details.wipe`` true).

Order matters: the key goes first (crypto-erase: from that instant the store file and its WAL are
random bytes to anyone, whatever flash keeps of them), then the store files, then any media folder
beside the store. The unsent outbox goes too, deliberately: the tablet is assumed to be in a
thief's hands, its token is dead so nothing could be sent anyway, and the server's revoke answer
tells the dispatcher the tablet's last contact and last change received (docs/protocol.md §13).
A normal sign-out, an expired token or a revocation without ``wipe`` erases nothing.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from mobile.keystore import Keystore
from mobile.store import DeviceStore, store_files

MEDIA_DIR = "media"  # photos or exports the app might keep beside the store: erased with it


def _shred(path: Path) -> None:
    """Overwrite a file with random bytes before deleting it (for a store that had no key)."""
    size = path.stat().st_size
    with open(path, "r+b") as out:
        out.write(secrets.token_bytes(size))
        out.flush()
        os.fsync(out.fileno())


def erase_device(store_path: str | Path, store: DeviceStore | None = None) -> list[str]:
    """Crypto-erase and delete everything the app keeps for this store; returns what was erased."""
    path = Path(store_path)
    erased: list[str] = []
    if Keystore(path).destroy():
        erased.append("key")
    if store is not None:
        store.close()
    for file in [*store_files(path), *store_files(path.with_name(path.name + ".encrypting"))]:
        if file.exists():
            if "key" not in erased:  # no key to destroy: a plaintext store is overwritten first
                _shred(file)
            file.unlink()
            erased.append(file.name)
    media = path.parent / MEDIA_DIR
    if media.is_dir():
        shutil.rmtree(media)
        erased.append(MEDIA_DIR)
    return erased
