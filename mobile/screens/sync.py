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
        self._parked(vm, box)
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

    # -- parked changes: retry, send to the office, discard (a fact only after a confirmation) --
    confirming = ""  # the parked change whose discard waits for the technician's confirmation

    def _parked(self, vm: SyncViewModel, box: object) -> None:
        changes = vm.parked_changes()
        if not changes:
            return
        t = self.t
        box.add_widget(Factory.Heading(text=t("parked.title")))
        for i, c in enumerate(changes):
            panel = Factory.Panel()
            explain = f"reason.{c.reason}" if i18n.has(f"reason.{c.reason}") else "reason.other"
            panel.add_widget(Factory.Warn(text=t("inbox.about", what=t("what." + c.what), ref=c.job_ref or "—")
                                          + " · " + t("parked.when", when=c.when)))
            panel.add_widget(Factory.Body(text=t(explain)))
            panel.add_widget(Factory.Muted(text="; ".join(f"{k}: {v}" for k, v in c.changes)))
            if c.server_message:
                panel.add_widget(Factory.Muted(text=c.server_message))
            row = Factory.BoxLayout(size_hint_y=None, height="64dp", spacing="10dp")
            if self.confirming == c.mutation_id:
                panel.add_widget(Factory.Warn(text=t("parked.confirm_text")))
                self._button(row, "DangerButton", "parked.confirm_discard", f"confirm-{i}",
                             lambda m=c.mutation_id: self._act(vm.discard(m, confirmed=True)))
                self._button(row, "QuietButton", "parked.keep", f"keep-{i}", lambda: self._act(""))
            else:
                if c.can_retry:
                    self._button(row, "BigButton", "parked.retry", f"retry-{i}",
                                 lambda m=c.mutation_id: self._act(vm.retry(m)))
                if c.can_send:
                    self._button(row, "BigButton", "parked.send", f"send-{i}",
                                 lambda m=c.mutation_id: self._act(vm.send_to_office(m, self.app.lang)))
                self._button(row, "DangerButton", "parked.discard", f"discard-{i}",
                             lambda m=c.mutation_id: self._discard(vm, m))
            panel.add_widget(row)
            box.add_widget(panel)

    @staticmethod
    def _button(row: object, kind: str, key: str, fs_id: str, action: object) -> None:
        from kivy.app import App

        button = getattr(Factory, kind)(text=App.get_running_app().t(key))
        button.fs_id = fs_id
        button.bind(on_release=lambda *_: action())
        row.add_widget(button)

    def _discard(self, vm: SyncViewModel, mutation_id: str) -> None:
        outcome = vm.discard(mutation_id)
        if outcome == "parked.confirm_needed":
            self.confirming = mutation_id
            self.refresh()
            return
        self._act(outcome)

    def _act(self, outcome: str) -> None:
        self.confirming = ""
        self.refresh()
        if outcome:
            self.say(outcome)

    def sign_out(self) -> None:
        """Forget the token; the outbox and the data stay (the PIN still guards them)."""
        if self.app.session is not None:
            self.app.session.sign_out()
        self.app.go("login")

    def sync_now(self) -> None:
        self.app.sync_now()
        self.refresh()

    def mark_read(self) -> None:
        SyncViewModel(self.store).store.mark_notices_seen()
        self.refresh()
