"""Who is using the tablet: the device id, the signed-in technician, the server and its token."""

from __future__ import annotations

from typing import Any

from mobile.store import DeviceStore, new_id


class Session:
    """The device's identity and sign-in state, kept in the store's meta table (survives restarts)."""

    def __init__(self, store: DeviceStore) -> None:
        self.store = store

    @property
    def device_id(self) -> str:
        """This tablet's id, made once and kept (the server can revoke its token alone)."""
        ident = self.store.get_meta("device_id")
        if ident is None:
            ident = f"tablet-{new_id()}"
            self.store.set_meta(device_id=ident)
        return ident

    @property
    def token(self) -> str | None:
        """The bearer token from the last sign-in."""
        return self.store.get_meta("token")

    @property
    def server_url(self) -> str | None:
        """The server this tablet signed in to."""
        return self.store.get_meta("server_url")

    @property
    def signed_in(self) -> bool:
        """Whether the tablet holds a token (work goes on offline with it)."""
        return bool(self.token)

    def remember_login(self, server_url: str, token: str, user: dict[str, Any]) -> None:
        """Store what a successful sign-in returned."""
        # The company's time zone comes with the user: every window and deadline is shown in it.
        zone = {"timezone": str(user["timezone"])} if user.get("timezone") else {}
        self.store.set_meta(
            server_url=server_url, token=token, user_id=str(user.get("id") or ""),
            username=str(user.get("username") or ""), display_name=str(user.get("display_name") or ""), **zone,
        )

    def sign_out(self) -> None:
        """Forget the token (the outbox stays: it is sent after the next sign-in)."""
        self.store.set_meta(token=None)

    def technician(self) -> dict[str, Any]:
        """The signed-in technician's row (name, staff number for R5); a placeholder before the first pull."""
        user_id = self.store.get_meta("user_id")
        rows = self.store.all("technician")
        mine = [t for t in rows if user_id and str(t.get("user_id")) == user_id] or rows
        if mine:
            return mine[0]
        name = self.store.get_meta("display_name") or self.store.get_meta("username") or ""
        return {"id": None, "name": name, "staff_no": ""}
