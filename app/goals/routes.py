"""Plan targets: everyone on a node reads its targets and those its ancestors set;
league and region admins (``edit_goals``) add, edit, delete and restore their own node's.
The progress report is ``/reports/targets`` (a page, ``?format=json`` or ``?format=xlsx``)."""
import io

from flask import abort, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.core import records
from app.core.security import can, get_or_404, require, writable
from app.goals import bp, export, report_bp, services
from app.goals.forms import GoalForm
from app.goals.vocab import INDICATORS
from app.models import PlanTarget
from app.reports import params
from app.reports.params import ReportError
from app.web import record_pages
from app.web.forms import field_labels
from app.web.htmx import invalid, render

FILTERS = ("indicator", "show")
VOCAB = {"indicator": INDICATORS}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form(goal=None) -> GoalForm:
    form = GoalForm(obj=goal)
    form.scope.choices = services.scope_choices()
    if goal is not None and goal.scope not in dict(form.scope.choices):
        form.scope.choices.append((goal.scope, goal.scope))
    return form


def _checked(form: GoalForm) -> bool:
    if not form.validate_on_submit():
        return False
    errors = services.goal_errors(form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


def _own(goal: PlanTarget) -> PlanTarget:
    """403 unless the goal is this node's own (an ancestor's target is read-only here)."""
    if not writable(goal):
        abort(403)
    return goal


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("edit_goals"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("goals/index.html", "goals/_results.html", page=page, args=args,
                  indicators=INDICATORS)


@bp.route("/new", methods=["GET", "POST"])
@require("edit_goals")
def new():
    form = _form()
    if _checked(form):
        goal = services.save(None, form.data_for_save())
        flash(_("The target has been recorded."), "success")
        return redirect(url_for("goals.detail", record_id=goal.id))
    respond = invalid if form.is_submitted() else render
    return respond("goals/form.html", form=form, goal=None)


@bp.get("/<record_id>")
def detail(record_id):
    goal = get_or_404(PlanTarget, record_id, include_deleted=can("edit_goals"))
    return render("goals/detail.html", goal=goal, history=records.history(goal), vocab=VOCAB,
                  labels=field_labels(GoalForm), indicators=INDICATORS,
                  progress=services.progress(goal, current_user.node_code),
                  editable=can("edit_goals") and writable(goal))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_goals")
def edit(record_id):
    goal = _own(get_or_404(PlanTarget, record_id))
    form = _form(goal)
    if _checked(form):
        services.save(goal, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("goals.detail", record_id=goal.id))
    respond = invalid if form.is_submitted() else render
    return respond("goals/form.html", form=form, goal=goal)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("edit_goals")
def delete(record_id):
    goal = _own(get_or_404(PlanTarget, record_id))
    return record_pages.confirm_delete(goal, "goals")


@bp.post("/<record_id>/restore")
@require("edit_goals")
def restore(record_id):
    goal = _own(get_or_404(PlanTarget, record_id, include_deleted=True))
    return record_pages.restore(goal, "goals")


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
                         download_name=f"report-targets-{scope.code}.xlsx")
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
