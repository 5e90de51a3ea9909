"""Sync: pending changes, last sync, progress of a long pull, and the conflicts inbox in plain words."""

from __future__ import annotations

from kivy.factory import Factory

from mobile import i18n
from mobile.screens import BaseScreen
from mobile.viewmodels.sync_status import SyncViewModel


def _short(value: object) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


class SyncScreen(BaseScreen):
    """Status on top, the inbox below."""

    def refresh(self) -> None:
        vm, t, state = SyncViewModel(self.store), self.t, self.app.sync.state
        self.ids.pending.text = t("sync.pending", n=vm.pending())
        self.ids.parked.text = t("sync.parked", n=vm.parked())
        last = vm.last_sync()
        self.ids.last.text = t("sync.last", at=last) if last else t("sync.never")
        if state.running:
            self.ids.state.text = t("sync.running", n=state.pulled_rows)
        else:
            self.ids.state.text = t("sync.outcome." + state.outcome, detail=state.detail)
        self.ids.sync_now.disabled = state.running
        box = self.ids.inbox
        box.clear_widgets()
        entries = vm.inbox()
        if not entries:
            box.add_widget(Factory.Muted(text=t("sync.inbox_empty")))
        for e in entries:
            panel = Factory.Panel()
            explain = f"reason.{e.reason}" if i18n.has(f"reason.{e.reason}") else "reason.other"
            panel.add_widget(Factory.Warn(text=f"{t('inbox.' + e.kind)} · "
                                          + t("inbox.about", what=t("what." + e.what), ref=e.job_ref or "—")))
            panel.add_widget(Factory.Body(text=t(explain)))
            if e.field:
                panel.add_widget(Factory.Muted(text=f"{e.field}: " + t("inbox.values", server=_short(e.server_value),
                                                                      device=_short(e.device_value))))
            if e.server_message:
                panel.add_widget(Factory.Muted(text=e.server_message))
            box.add_widget(panel)
        self.app.refresh_pending()

    def sync_now(self) -> None:
        self.app.sync_now()
        self.refresh()

    def mark_read(self) -> None:
        SyncViewModel(self.store).store.mark_notices_seen()
        self.refresh()
