"""The conflicts inbox: each conflict sync recorded (G6) with both values, the rule applied and who
must look; resolving goes through the sync service's own function, as POST /conflicts/<id>/resolve."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for

from server.auth.models import Role
from server.console import bp
from server.console.actions import load, require_role, run
from server.console.frame import refusal
from server.console.i18n import t
from server.console.session import console_login_required
from server.errors import not_found
from server.extensions import db
from server.jobs.models import Job

LIMIT = 100
RESOLVERS = (Role.DISPATCHER,)


def _sync() -> dict[str, Any] | None:
    """The sync package's conflict model, schema and resolve function, when they exist yet."""
    try:
        from server.sync.models import ConflictStatus, SyncConflict
    except ImportError:
        return None
    if not sa.inspect(db.engine).has_table(SyncConflict.__tablename__):
        return None
    parts: dict[str, Any] = {"model": SyncConflict, "status": ConflictStatus, "resolve": None, "schema": None,
                             "acknowledge_only": frozenset()}
    try:
        from server.sync.conflict_service import ACKNOWLEDGE_ONLY, resolve_conflict
        from server.sync.schemas import ResolveConflictSchema
    except ImportError:
        return parts
    parts["resolve"] = resolve_conflict  # the API's own rules and audit; ``run`` commits once
    parts["schema"] = ResolveConflictSchema
    parts["acknowledge_only"] = ACKNOWLEDGE_ONLY
    return parts


def shown(value: Any) -> str:
    """A conflict value as the dispatcher reads it (JSON for structures, '—' for none)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _listing(sync: dict[str, Any], status: str) -> tuple[list, dict]:
    model = sync["model"]
    stmt = sa.select(model).where(model.company_id == g.user.company_id)
    stmt = stmt.where(model.status == sync["status"](status))
    rows = list(db.session.execute(stmt.order_by(model.created_at.desc()).limit(LIMIT)).scalars())
    job_ids = {r.job_id for r in rows if r.job_id}
    jobs = {}
    if job_ids:
        jobs = {j.id: j for j in db.session.execute(
            sa.select(Job).where(Job.id.in_(job_ids), Job.company_id == g.user.company_id)).scalars()}
    return rows, jobs


@bp.route("/conflicts")
@console_login_required
def conflicts(error: Any = None, status_code: int = 200):
    """Open conflicts (or resolved ones with ``?status=resolved``), newest first."""
    sync = _sync()
    status = "resolved" if request.args.get("status") == "resolved" else "open"
    if sync is None:
        return render_template("console/conflicts.html", available=False, rows=[], jobs={}, status=status,
                               can_resolve=False, shown=shown, error=error, acknowledge_only=()), status_code
    rows, jobs = _listing(sync, status)
    return render_template(
        "console/conflicts.html", available=True, rows=rows, jobs=jobs, status=status, shown=shown, error=error,
        can_resolve=sync["resolve"] is not None and g.user.role in (*RESOLVERS, Role.ADMIN),
        resolver_ready=sync["resolve"] is not None, acknowledge_only=sync["acknowledge_only"],
    ), status_code


@bp.route("/conflicts/<uuid:conflict_id>/resolve", methods=["POST"])
@console_login_required
@require_role(*RESOLVERS)
def resolve(conflict_id: uuid.UUID):
    """Resolve one conflict through the sync service (keep the server's value or take the device's)."""
    sync = _sync()
    if sync is None or sync["resolve"] is None:
        abort(404)

    def change():
        body = load(sync["schema"](), {
            "resolution": request.form.get("resolution", ""), "note": request.form.get("note", ""),
        })
        conflict = db.session.get(sync["model"], conflict_id)
        if conflict is None or conflict.company_id != g.user.company_id:
            raise not_found("conflict", conflict_id)
        return sync["resolve"](conflict, body["resolution"], note=body.get("note", ""), user=g.user)

    _, error = run(change)
    if error:
        return conflicts(error=refusal(error), status_code=error.status)
    flash(t("conflicts.resolved"), "ok")
    return redirect(url_for("console.conflicts"), code=303)
