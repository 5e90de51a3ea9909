"""One visit: the household file (R12) on the left, the visit's actions and their state on the right."""

from __future__ import annotations

from kivy.factory import Factory

from mobile import i18n
from mobile.screens import BaseScreen
from mobile.viewmodels.job import JobDetailViewModel
from mobile.viewmodels.visit import VisitViewModel
from sync.domain.jobs import JobStatus

DONE = (JobStatus.COMPLETED, JobStatus.COULD_NOT_COMPLETE, JobStatus.CLOSED, JobStatus.CANCELLED)


class JobScreen(BaseScreen):
    """The household file and the visit's steps."""

    def _lines(self, column, entries: list[tuple[str, str]]) -> None:
        column.clear_widgets()
        for style, text in entries:
            if text:
                column.add_widget(getattr(Factory, style)(text=text))

    def refresh(self) -> None:
        if not self.job_id:
            return
        vm = JobDetailViewModel(self.store)
        f = vm.load(self.job_id)
        visit = VisitViewModel(self.store, self.job_id)
        job, c, p = f.job, f.customer, f.premises
        t = self.t
        entries: list[tuple[str, str]] = [
            ("Heading", f"{job.get('ref', '')} · {t('job_type.' + str(job.get('job_type')))}"),
            ("Body", t("job.window", window=f"{vm.hm(job.get('window_start'))}–{vm.hm(job.get('window_end'))}")
             + "  ·  " + t("status." + str(job.get("status")))),
            ("Body", job.get("description", "")),
        ]
        if job.get("eta"):
            entries.append(("Warn", t("job.eta", eta=vm.hm(job["eta"]))))
        arrival = visit.arrival()
        if arrival:
            entries.append(("Good", t(f"job.arrival.{arrival.verdict}", at=vm.hm(job.get("arrived_at")),
                                      m=arrival.minutes)))
        for o in f.outages:
            entries.append(("Warn", t("job.outage", area=o.get("area_description", ""), start=vm.day_hm(o.get("starts_at")),
                                      end=vm.day_hm(o.get("ends_at")), reason=o.get("reason", ""))))
        entries += [("Heading", t("job.customer")), ("Body", f"{c.get('name', '')} · {c.get('account_no', '')}"),
                    ("Body", t("job.phone", phone=c.get("phone", ""))), ("Body", p.get("address", ""))]
        if c.get("special_care"):
            entries.append(("Warn", t("job.special_care", reason=c.get("special_care_reason", ""))))
        if p.get("access_notes"):
            entries.append(("Body", t("job.access", notes=p["access_notes"])))
        entries += [("Body", t("job.contact", **{k: x.get(k, "") for k in ("relation", "name", "phone")}))
                    for x in f.contacts]
        entries.append(("Heading", t("job.meters")))
        for m in f.meters:
            style = {"overdue": "Warn", "due_soon": "Warn"}.get(m["calibration"], "Body")
            entries.append((style, t("job.meter_line", serial=m.get("serial", ""), model=m.get("model", ""),
                                     due=m.get("calibration_due_on", "")) + f" · {t('calibration.' + m['calibration'])}"))
        if f.appliances:
            entries.append(("Heading", t("job.appliances")))
            entries += [("Body", f"{self._kind(a.get('kind', ''))} · {a.get('brand', '')} {a.get('model', '')}")
                        for a in f.appliances]
        entries.append(("Heading", t("job.hazards")))
        entries += [("Warn", t("job.hazard_line", severity=t("severity." + h["severity"]),
                               description=h.get("description", ""), deadline=vm.day_hm(h.get("rectify_by"))))
                    for h in f.open_hazards] or [("Muted", t("job.no_hazards"))]
        entries.append(("Heading", t("job.history")))
        entries += self._history(vm, f) or [("Muted", t("history.none"))]
        if f.notes:
            entries.append(("Heading", t("job.notes")))
            entries += [("Body", f"{n.get('author_name', '')}: {n.get('text', '')}") for n in f.notes]
        self._lines(self.ids.file, entries)
        self._actions(visit)

    def _history(self, vm: JobDetailViewModel, f) -> list[tuple[str, str]]:  # noqa: ANN001
        """Earlier visits at the household: the server's history rows, then older jobs held here."""
        t, out = self.t, []
        for h in f.history:
            outcome = f"history.outcome.{h.outcome}"
            out.append(("Body", t("history.line", date=vm.day_hm(h.finished)[:10], type=self._type(h.job_type),
                                  outcome=t(outcome) if i18n.has(outcome) else h.outcome)
                        + (f"  ·  {t('history.by', name=h.technician_name)}" if h.technician_name else "")))
            details = []
            for key, values in h.details:
                if key == "history.fee":
                    values = {"amount": i18n.money(values["cents"])}
                elif key == "history.cnc" and i18n.has(f"cnc.{values['reason']}"):
                    values = {"reason": t(f"cnc.{values['reason']}")}
                details.append(t(key, **values))
            if details:
                out.append(("Muted", "    " + t("history.sep").join(details)))
        out += [("Body", t("job.history_line", date=vm.day_hm(j.get("window_start"))[:10],
                           type=self._type(j.get("job_type")), status=t("status." + str(j.get("status")))))
                for j in f.earlier_visits]
        return out

    def _type(self, job_type: object) -> str:
        key = f"job_type.{job_type}"
        return self.t(key) if i18n.has(key) else str(job_type or "")

    def _kind(self, kind: str) -> str:
        key = f"appliance.{kind}"
        return self.t(key) if i18n.has(key) else kind

    def _actions(self, visit: VisitViewModel) -> None:
        job = visit.job
        status = job.get("status")
        arrived = bool(job.get("arrived_at"))
        finished = status in DONE
        ids = self.ids
        ids.late.disabled = arrived or finished
        ids.check_in.disabled = arrived or finished
        for name in ("checklist", "hazard", "cleanup", "finish"):
            ids[name].disabled = not arrived
        ids.quote.disabled = not arrived or finished or not job.get("chargeable")
        ids.meter.disabled = not arrived or finished or not self.store.where("meter", premises_id=job.get("premises_id"))
        ids.start_work.disabled = not arrived or finished or status == JobStatus.IN_PROGRESS
        steps = []
        for step in visit.steps():
            mark = "[OK]" if step.done else "[  ]"
            reason = f" — {self.t('gate.' + step.blocked_reason)}" if step.blocked_reason and not step.done else ""
            steps.append(f"{mark} {self.t('step.' + step.key)}{reason}")
        ids.steps.text = "\n".join(steps)

    def check_in(self) -> None:
        VisitViewModel(self.store, self.job_id).check_in()
        self.refresh()
        self.app.refresh_pending()

    def start_work(self) -> None:
        gate = VisitViewModel(self.store, self.job_id).start_work()
        if not gate:
            self.say("gate." + (gate.reason or "approval_required"))
        else:
            self.message = ""
        self.refresh()
        self.app.refresh_pending()
