"""Plan targets: everyone on a node reads its targets and those its ancestors set;
league and region admins (``edit_goals``) add, edit, delete and restore their own node's.
The progress report is ``/reports/targets`` (a page, ``?format=json`` or ``?format=xlsx``)."""
import io

from flask import abort, jsonify, request, send_file
from flask_login import current_user

from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.security import can, writable
from app.goals import bp, export, report_bp, services
from app.goals.forms import GoalForm
from app.goals.vocab import INDICATORS
from app.models import PlanTarget
from app.reports import params
from app.reports.params import ReportError
from app.web.forms import field_labels
from app.web.htmx import render
from app.web.pages import RecordPages

FILTERS = ("q", "indicator", "show")
VOCAB = {"indicator": INDICATORS}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form(goal=None) -> GoalForm:
    form = GoalForm(obj=goal)
    form.scope.choices = services.scope_choices()
    if goal is not None and goal.scope not in dict(form.scope.choices):
        form.scope.choices.append((goal.scope, goal.scope))
    return form


pages = RecordPages(
    "goals", PlanTarget, "goal", form=_form, save=services.save, errors=services.errors,
    see_deleted="edit_goals", write="edit_goals", delete="edit_goals",
    created=lambda goal: _("The target has been recorded."))


def _own(record_id: str, deleted: bool = False) -> PlanTarget:
    """The goal if it is this node's own, else 403 (an ancestor's target is read-only)."""
    if not can("edit_goals"):
        abort(403)
    goal = pages.get(record_id, deleted=deleted)
    if not writable(goal):
        abort(403)
    return goal


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    return pages.list(services.filtered(args), args, indicators=INDICATORS)


@bp.get("/<record_id>")
def detail(record_id):
    goal = pages.shown(record_id)
    return pages.detail(goal, labels=field_labels(GoalForm), vocab=VOCAB, indicators=INDICATORS,
                        progress=services.progress(goal, current_user.node_code),
                        can_edit=can("edit_goals") and writable(goal))


bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
def edit(record_id):
    goal = _own(record_id)
    return pages.form_page(_form(goal), goal)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
def delete(record_id):
    return pages.confirm_delete(_own(record_id))


@bp.post("/<record_id>/restore")
def restore(record_id):
    return pages.restore(_own(record_id, deleted=True))


# ---------------------------------------------------------------- the report

def status_label(row: dict) -> str:
    if row["met"]:
        return _("Reached")
    return _("Overdue") if row["overdue"] else _("In progress")


@report_bp.get("/targets")
def targets_report():
    """Each target against its count, with the deadline, over the chosen node's records."""
    fmt = request.args.get("format", "html")
    try:
        if fmt not in ("html", "json", "xlsx"):
            raise ReportError(_("Unknown format: %(format)s.", format=fmt[:20]))
        scope = params.scope(request.args)
    except ReportError as problem:
        if problem.status == 404:
            abort(404)
        if fmt == "json":
            return jsonify({"error": str(problem)}), problem.status
        return render("goals/report.html", status=problem.status, rows=[], scope=None,
                      error=str(problem), args=request.args.to_dict())
    rows = services.report(scope.code)
    names = params.node_names({r["scope"] for r in rows} | {r["counted_over"] for r in rows})
    for row in rows:
        row["scope_name"] = names.get(row["scope"], row["scope"])
    if fmt == "xlsx":
        with force_locale("zh_CN"):
            for row in rows:
                row["indicator_label"] = str(INDICATORS.get(row["indicator"], row["indicator"]))
            content = export.to_xlsx(rows, status_label)
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True,
                         download_name=export.filename(scope.code))
    if fmt == "json":
        starts = [r["starts_on"] for r in rows if r["starts_on"]]
        ends = [r["deadline"] for r in rows]
        period = {"from": min(starts).isoformat() if starts else None,
                  "to": max(ends).isoformat() if ends else None, "label": _("Until the deadline")}
        plain = [{**r, "starts_on": r["starts_on"].isoformat() if r["starts_on"] else None,
                  "deadline": r["deadline"].isoformat()} for r in rows]
        return jsonify({"report": "targets", "period": period, "scope": scope.as_dict(),
                        "rows": plain, "totals": {"targets": len(rows),
                                                  "met": sum(r["met"] for r in rows),
                                                  "overdue": sum(r["overdue"] for r in rows)}})
    return render("goals/report.html", rows=rows, scope=scope, error=None,
                  args=request.args.to_dict(), status_label=status_label)
