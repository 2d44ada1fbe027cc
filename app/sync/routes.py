"""Sync pages: status and history, sync now, rejected operations, conflicts, the
upstream setting, and (on an upstream) the enrolled nodes."""
import threading

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.node import CODE_PATTERNS, this_node
from app.core.security import can, require
from app.models import OutboxEntry, SyncConflict
from app.sync import client, peers, reasons, services, worker
from app.sync.forms import EnrollForm, UpstreamForm
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render

bp = Blueprint("sync", __name__, url_prefix="/sync")


@bp.before_app_request
def start_worker():
    """The background sync worker starts with the first request of the process."""
    worker.start(current_app._get_current_object())


@bp.app_context_processor
def sync_header():
    """The sync state every page's header shows to a signed-in user."""
    return {"sync_status": services.header_status()} if current_user.is_authenticated else {}


SHOWN = 50  # held and refused operations listed on the page (the counts say how many in all)


@bp.get("/")
def index():
    # The operations and conflicts name the node's records: shown to those who act on them
    # (a commissioner reads only their own records: app/core/security.py).
    acts = can("sync_now")
    return render("sync/index.html", "sync/_panel.html", state=services.status(),
                  runs=services.recent_runs(),
                  rejected=services.rejected_operations(SHOWN) if acts else [],
                  held=services.held_operations(SHOWN) if acts else [], explain=reasons.explain,
                  type_label=reasons.record_type, action_label=reasons.action,
                  conflicts=services.open_conflicts() if can("resolve_conflicts") else [],
                  upstream=client.upstream(), form=DeleteForm())


@bp.get("/status")
def status():
    """The header's sync status (htmx polls it while a sync runs)."""
    return render("sync/_status.html", sync_status=services.status())


@bp.post("/now")
@require("sync_now")
def now():
    if DeleteForm().validate_on_submit() and client.upstream() is not None:
        start_background(current_app._get_current_object(), "manual")
    return redirect(url_for("sync.index"))


def start_background(app, trigger: str) -> None:
    """Run one sync in a thread so that no page waits for the network."""
    def work():
        with app.app_context():
            g.actor = "sync"
            try:
                client.sync_once(trigger)
            except client.SyncError as exc:
                app.logger.info("sync: %s", exc)
            except Exception:  # noqa: BLE001 - recorded in the run; the thread must not die loudly
                app.logger.exception("sync failed")
    if client.PROGRESS.phase == "idle":
        client.PROGRESS.phase = "starting"
        threading.Thread(target=work, name="kepai-sync-now", daemon=True).start()


@bp.post("/rejected/<int:seq>")
@require("sync_now")
def rejected(seq: int):
    entry = db.session.get(OutboxEntry, seq)
    if entry is None or entry.rejected_at is None or not DeleteForm().validate_on_submit():
        abort(404)
    if request.form.get("do") == "discard":
        services.discard(entry)
        flash(_("The operation has been discarded."), "info")
    else:
        services.retry(entry)
        flash(_("The operation will be sent again at the next sync."), "info")
    return redirect(url_for("sync.index"))


@bp.post("/rejected/all")
@require("sync_now")
def rejected_all():
    """Send every refused operation again, or (after a confirmation page) discard them all."""
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400)
    count = client.rejected_count()
    if request.form.get("do") == "discard":
        if request.form.get("confirmed") != "yes":
            return render("sync/discard_all.html", form=form, count=count)
        flash(_("%(count)s operations have been discarded.", count=services.discard_all()), "info")
    else:
        flash(_("%(count)s operations will be sent again at the next sync.",
                count=services.retry_all()), "info")
    return redirect(url_for("sync.index"))


@bp.route("/conflicts/<int:conflict_id>", methods=["GET", "POST"])
@require("resolve_conflicts")
def conflict(conflict_id: int):
    found = db.session.get(SyncConflict, conflict_id)
    if found is None:
        abort(404)
    record = services.conflict_record(found)
    form = DeleteForm()
    if found.resolved_at is None and form.validate_on_submit():
        choices = {field: request.form.get(f"choice-{field}", "") for field in found.fields}
        missing = [f for f, side in choices.items() if side not in ("here", "there")]
        if missing:
            return invalid("sync/conflict.html", conflict=found, record=record, form=form,
                           missing=missing)
        services.resolve(found, record, choices, current_user.username)
        flash(_("The conflict is resolved; the choice travels with the next sync."), "success")
        return redirect(url_for("sync.index"))
    return render("sync/conflict.html", conflict=found, record=record, form=form, missing=[])


@bp.route("/upstream", methods=["GET", "POST"])
@require("manage_sync")
def upstream():
    settings = client.upstream()
    form = UpstreamForm(obj=settings)
    if request.method == "GET":
        form.token.data = ""
    if form.validate_on_submit():
        client.set_upstream(form.url.data, form.token.data)
        flash(_("The upstream is saved. Sync starts by itself when it is reachable."), "success")
        return redirect(url_for("sync.index"))
    if form.is_submitted():
        return invalid("sync/upstream.html", form=form, settings=settings)
    return render("sync/upstream.html", form=form, settings=settings)


@bp.route("/nodes", methods=["GET", "POST"])
@require("manage_sync")
def nodes():
    """The downstream nodes enrolled here; enrolling shows the new token once."""
    node = this_node()
    form = EnrollForm()
    token = None
    if form.validate_on_submit():
        code = form.code.data
        if not any(p.match(code) for p in CODE_PATTERNS.values()) \
                or not (code.startswith(node.code) and len(code) > len(node.code)):
            form.code.errors.append(_("Give the code of a node below this one (%(code)s…).",
                                      code=node.code))
        else:
            token = peers.enroll(code, form.name.data)[1]
    if form.is_submitted() and form.errors:
        return invalid("sync/nodes.html", form=form, peers=peers.all_peers(), token=None,
                       revoke=DeleteForm())
    return render("sync/nodes.html", form=form, peers=peers.all_peers(), token=token,
                  revoke=DeleteForm())


@bp.post("/nodes/<code>/revoke")
@require("manage_sync")
def revoke(code: str):
    if not DeleteForm().validate_on_submit() or peers.revoke(code) is None:
        abort(404)
    flash(_("The token of %(code)s is revoked. Enrol the node again to give it a new one.",
            code=code), "info")
    return redirect(url_for("sync.nodes"))


@bp.get("/totals")
def totals():
    """County by county: how many records each node below this one has sent."""
    kinds, rows = services.totals_by_node(current_user)
    return render("sync/totals.html", kinds=kinds, rows=rows)
