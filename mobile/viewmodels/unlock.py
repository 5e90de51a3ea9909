"""The sign-in PIN: set at first sign-in, asked at every cold start, changed at will (issue #7).

No Kivy here: the unlock screen (mobile/screens/unlock.*) is a thin view over this. Opening the store
costs one Argon2id derivation (~0.2 s); a wrong PIN costs the same and counts toward the lock
(``mobile.keystore``: after 5 wrong PINs only the account password opens it, then a new PIN is
set; wrong secrets never erase anything).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobile.keystore import KdfParams, Keystore, Locked, NoKey, WrongSecret, valid_pin
from mobile.store import DeviceStore, encrypt_plaintext_store, is_plaintext
from mobile.wipe import erase_device

# What the screen shows: choose a PIN | enter it | enter the password (PIN locked) | choose a new PIN
# after the password (or after the current PIN, when changing it) | nothing opens it (support) |
# the current PIN before changing it.
MODES = ("setup", "pin", "password", "new_pin", "locked", "change_pin")


@dataclass(frozen=True)
class UnlockOutcome:
    """The result of one action: ``message`` is an i18n key (with ``values``); on success the store is open."""

    ok: bool
    message: str
    mode: str
    values: dict[str, Any] = field(default_factory=dict)
    store: DeviceStore | None = None
    key: bytes | None = None


class UnlockViewModel:
    """The PIN logic over one store path."""

    def __init__(self, store_path: str | Path, kdf: KdfParams | None = None) -> None:
        self.path = Path(store_path)
        self.keys = Keystore(self.path, kdf)

    def mode(self) -> str:
        """What the screen must ask for now."""
        if not self.keys.exists():
            return "setup"
        status = self.keys.status()
        if status["pin_left"] > 0:
            return "pin"
        if status["has_password"] and status["password_left"] > 0:
            return "password"
        return "locked"

    def needs_setup(self) -> bool:
        """No key yet: a new tablet (sign in, then choose a PIN) or an older app's plaintext store."""
        return not self.keys.exists()

    def legacy(self) -> bool:
        """An older app's unencrypted store is here: choosing a PIN encrypts it in place."""
        return not self.keys.exists() and is_plaintext(self.path)

    def _fail(self, message: str, **values: Any) -> UnlockOutcome:
        return UnlockOutcome(False, message, self.mode(), values)

    def _open(self, key: bytes, mode_after: str = "open") -> UnlockOutcome:
        store = DeviceStore(self.path, key=key)
        store.purge_departed()  # rows that left the scope while the app was closed mid-way
        return UnlockOutcome(True, "unlock.opened", mode_after, store=store, key=key)

    def setup(self, pin: str, confirm: str, password: str | None = None) -> UnlockOutcome:
        """Choose the PIN (first sign-in): a new data key; an older plaintext store is encrypted with it."""
        if not valid_pin(pin):
            return self._fail("unlock.pin_rule")
        if pin != confirm:
            return self._fail("unlock.pin_mismatch")
        if self.path.exists() and not is_plaintext(self.path):
            # Ciphertext without its key (a wipe interrupted after the key went): unreadable, finish erasing.
            erase_device(self.path)
        key = self.keys.create(pin, password)
        if is_plaintext(self.path):
            encrypt_plaintext_store(self.path, key)
        return self._open(key)

    def unlock(self, pin: str) -> UnlockOutcome:
        """Open the store with the PIN."""
        return self._try(self.keys.unlock, pin, "unlock.wrong_pin", "unlock.pin_locked", "open")

    def unlock_with_password(self, password: str) -> UnlockOutcome:
        """Open the store with the account password (PIN locked or forgotten); a new PIN must follow."""
        return self._try(self.keys.unlock_with_password, password, "unlock.wrong_password", "unlock.locked",
                         "new_pin")

    def _try(self, unwrap: Callable[[str], bytes], secret: str, wrong: str, locked: str,
             mode_after: str) -> UnlockOutcome:
        try:
            key = unwrap(secret)
        except WrongSecret as exc:
            return self._fail(wrong, left=exc.left)
        except Locked:
            return self._fail(locked)
        except NoKey:
            return self._fail("unlock.no_key")
        return self._open(key, mode_after=mode_after)

    def verify_pin(self, key: bytes, pin: str) -> UnlockOutcome:
        """Changing the PIN from the open app asks for the current one first, so a tablet left unlocked
        cannot be re-keyed by someone else. A wrong PIN counts toward the lock as at a cold start; once
        locked, the change is refused here and the next start asks for the account password."""
        try:
            current = self.keys.unlock(pin)
        except WrongSecret as exc:
            return UnlockOutcome(False, "unlock.wrong_pin", "change_pin", {"left": exc.left})
        except (Locked, NoKey):
            return UnlockOutcome(False, "unlock.change_locked", "change_pin")
        if current != key:  # another store's key file: never re-key this one with it
            return UnlockOutcome(False, "unlock.no_key", "change_pin")
        return UnlockOutcome(True, "unlock.change_new_hint", "new_pin", key=key)

    def new_pin(self, key: bytes, pin: str, confirm: str) -> UnlockOutcome:
        """Set a new PIN for the open store (after the password, or from the sync screen)."""
        if not valid_pin(pin):
            return UnlockOutcome(False, "unlock.pin_rule", "new_pin")
        if pin != confirm:
            return UnlockOutcome(False, "unlock.pin_mismatch", "new_pin")
        self.keys.set_pin(key, pin)
        return UnlockOutcome(True, "unlock.pin_changed", "open", key=key)

    def remember_password(self, key: bytes, password: str) -> None:
        """After an online sign-in: the current account password becomes the way back in."""
        if self.keys.exists():
            self.keys.set_password(key, password)
