"""Assessment pages. Station staff open 考核 → a year: one row per commissioner active in
the year, scored from the records; they fill a sheet's entered indicators, self-score and
proposed grade, and submit it (a frozen snapshot). A commissioner reads only their own
sheets (others' are 404) and may comment before submission. A league reviewer grades or
returns submitted sheets, seeing the snapshot beside today's figures. 不合格 puts the
commissioner on the list of proposed exits."""
import io
import math
from datetime import date

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user

from app.assessments import bp, export, scoring, services
from app.assessments.forms import CommentForm, EmptyForm, EvidenceForm, ReviewForm, StationPartForm
from app.assessments.vocab import FIGURES, FIGURES_BY_SUBJECT, GRADES, RULES, SOURCES, STATUSES, SUBJECTS
from app.core import attachments, cache, records
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404, reading_scope, require, writable
from app.models import AssessmentScheme, AssessmentSheet, Commissioner, Station
from app.web.htmx import render


def rule_text(indicator: dict) -> str:
    """An indicator's rule in words, with its numbers."""
    unit, rule = indicator.get("unit") or "", indicator.get("rule")
    if rule == "per_unit":
        return _("%(points)s per %(unit)s, up to %(max)s", points=indicator.get("points"),
                 unit=unit, max=indicator.get("max"))
    if rule == "threshold":
        return _("%(max)s at %(threshold)s %(unit)s or more; %(deduction)s off per %(unit)s short",
                 max=indicator.get("max"), threshold=indicator.get("threshold"), unit=unit,
                 deduction=indicator.get("deduction"))
    if rule == "fixed":
        return _("%(points)s when at least %(threshold)s %(unit)s", points=indicator.get("points"),
                 threshold=indicator.get("threshold"), unit=unit)
    if rule == "direct":
        return _("Score entered, up to %(max)s", max=indicator.get("max"))
    return rule or ""


def sheet_labels() -> dict:
    """{field: label} for a sheet's history."""
    return {"subject": _("Assessed"), "year": _("Year"), "commissioner": _("Commissioner"),
            "station": _("Workstation"), "scheme": _("Scored by"),
            "scheme_edition": _("Edition of the scheme"), "entered": _("Entered figures"),
            "self_score_c": _("Self-assessed score (hundredths)"),
            "proposed_grade": _("Proposed grade"), "summary": _("Summary of the year"),
            "typical_case": _("Typical case"), "commissioner_comment": _("The commissioner's comment"),
            "submission": _("Submission"), "submitted_at": _("Submitted at"),
            "snapshot": _("Figures as submitted"), "review_state": _("Review"),
            "reviewed_submission": _("Reviewed submission"), "final_grade": _("Final grade"),
            "reviewer_score_c": _("Reviewer's score (hundredths)"),
            "review_comment": _("Review comment"), "reviewed_at": _("Reviewed at"),
            "subsidy_fen": _("Post-subsidy (fen)"), "subsidy_recorded_at": _("Post-subsidy recorded at"),
            "owner_node": _("Node"), "deleted_at": _("Deleted")}


VOCAB = {"grades": GRADES, "rules": RULES, "sources": SOURCES, "statuses": STATUSES,
         "figures": FIGURES, "subjects": SUBJECTS, "rule_text": rule_text}


def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        abort(404)
    return year


@bp.get("/")
def index():
    this_year = date.today().year
    return render("assessments/index.html", years=list(range(this_year, this_year - 4, -1)),
                  sheets=services.own_sheets() if current_user.role == "commissioner" else [],
                  scheme=services.scheme_for("commissioner", this_year), **VOCAB)


@bp.get("/<int:year>")
def year_page(year):
    if request.args.get("format") == "xlsx":
        def workbook():  # written once until the data changes
            scheme, rows, _total = services.year_rows(_year(year))
            return export.to_xlsx(year, scheme, rows)
        content = cache.remembered(("assessment-year-xlsx", year, *reading_scope()), workbook)
        return send_file(io.BytesIO(content), mimetype=export.XLSX, as_attachment=True,
                         download_name=export.filename(year, current_user.node_code))
    # a page of the table at a time, as every list (a league's year has hundreds of
    # commissioners; only the page's are scored); the workbook holds them all
    size = current_app.config["PAGE_SIZE"]
    number = max(1, request.args.get("page", 1, type=int))
    scheme, rows, total = services.year_rows(_year(year), window=slice((number - 1) * size,
                                                                        number * size))
    if number > 1 and not rows and total:  # past the end: the last page
        number = math.ceil(total / size)
        scheme, rows, total = services.year_rows(year, window=slice((number - 1) * size,
                                                                     number * size))
    page = records.Page(items=rows, page=number, per_page=size, total=total)
    return render("assessments/year.html", year=year, scheme=scheme, rows=rows, page=page,
                  form=EmptyForm(), scoring=scoring, **VOCAB)


@bp.post("/<int:year>/open/<commissioner_id>")
@require("prepare_assessments")
def open_sheet(year, commissioner_id):
    return _open(Commissioner, commissioner_id, year)


@bp.post("/<int:year>/open-station/<station_id>")
@require("prepare_assessments")
def open_station_sheet(year, station_id):
    return _open(Station, station_id, year)


def _open(model, record_id: str, year: int):
    """Open (make if need be) the year's sheet of one of the node's own commissioners
    or stations, and go to it."""
    who = get_or_404(model, record_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not writable(who):
        abort(403)
    sheet = services.open_sheet(who, _year(year))
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


def _evidence_form(evaluation, form=None) -> EvidenceForm:
    form = form or EvidenceForm(formdata=None)
    form.indicator.choices = [("", "—")] + [
        (i["name"], i["name"]) for i in evaluation.scheme["indicators"] if i.get("source") == "entered"]
    return form


def _sheet_page(sheet, status=200, part=None, review=None, comment=None, errors=None,
                evidence=None):
    evaluation = services.evaluate(sheet)
    part = part or StationPartForm(formdata=None, data={
        "self_score": scoring.plain(scoring.from_centi(sheet.self_score_c)) or "",
        "proposed_grade": sheet.proposed_grade, "summary": sheet.summary,
        "typical_case": sheet.typical_case})
    review = review or ReviewForm(formdata=None, data={
        "final_grade": sheet.final_grade, "review_comment": sheet.review_comment,
        "reviewer_score": scoring.plain(scoring.from_centi(sheet.reviewer_score_c)) or ""})
    comment = comment or CommentForm(formdata=None, data={
        "commissioner_comment": sheet.commissioner_comment})
    own = current_user.role == "commissioner" and sheet.subject == "commissioner" \
        and current_user.commissioner_id == sheet.commissioner_id
    may_subsidise = current_user.role == "region_admin" and sheet.subject == "station" \
        and sheet.status == "graded" and sheet.final_grade == "excellent" \
        and sheet.station is not None and sheet.station.kind == "grassroots"
    return render("assessments/sheet.html", status=status, sheet=sheet, ev=evaluation,
                  part=part, review=review, comment=comment, errors=errors or {},
                  entered=request.form if errors else (sheet.entered or {}),
                  may_prepare=can("prepare_assessments") and writable(sheet) and sheet.editable,
                  may_comment=own and sheet.editable,
                  may_review=_may_grade(sheet) and sheet.status == "submitted",
                  may_subsidise=may_subsidise, subsidy_text=request.form.get("subsidy", "")
                  if errors else "",
                  button=EmptyForm(), history=records.history(sheet), labels=sheet_labels(),
                  scoring=scoring,
                  evidence=_evidence_form(evaluation, evidence),
                  files=attachments.for_record(sheet),
                  **{**VOCAB, "figures": FIGURES_BY_SUBJECT[sheet.subject]})


def _may_grade(sheet: AssessmentSheet) -> bool:
    """A league grades commissioner sheets, the region station sheets; never its own."""
    if not can("grade_assessments") or writable(sheet):
        return False
    return sheet.subject != "station" or current_user.role == "region_admin"


def _editable_sheet(record_id) -> AssessmentSheet:
    sheet = get_or_404(AssessmentSheet, record_id)
    if not writable(sheet):
        abort(403)
    return sheet


@bp.get("/sheets/<record_id>")
def sheet(record_id):
    return _sheet_page(get_or_404(AssessmentSheet, record_id))


@bp.post("/sheets/<record_id>")
@require("prepare_assessments")
def save(record_id):
    sheet = _editable_sheet(record_id)
    form = StationPartForm()
    if not form.validate_on_submit():
        return _sheet_page(sheet, 422, part=form, errors={"form": _("Please correct the marked fields.")})
    problem = services.not_editable(sheet)
    if problem:
        return _sheet_page(sheet, 409, part=form, errors={"form": problem})
    evaluation = services.evaluate(sheet)
    errors, data = services.station_part_errors(sheet, evaluation.scheme, request.form)
    if errors:
        for name in ("self_score", "proposed_grade", "summary", "typical_case"):
            if name in errors:
                form[name].errors = [*form[name].errors, errors[name]]
        return _sheet_page(sheet, 422, part=form, errors=errors)
    services.save_station_part(sheet, data)
    flash(_("Your changes have been saved."), "success")
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


@bp.post("/sheets/<record_id>/submit")
@require("prepare_assessments")
def submit(record_id):
    sheet = _editable_sheet(record_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    problem = services.not_editable(sheet)
    if problem:
        return _sheet_page(sheet, 409, errors={"form": problem})
    evaluation = services.evaluate(sheet)
    errors = services.submit_errors(sheet, evaluation)
    if errors:
        return _sheet_page(sheet, 422, errors={"form": " ".join(str(m) for m in errors.values()),
                                               **errors})
    services.submit(sheet, evaluation)
    flash(_("The sheet has been submitted; its figures are kept as they are now."), "success")
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


@bp.post("/sheets/<record_id>/evidence")
@require("prepare_assessments")
def add_evidence(record_id):
    """A file of evidence for the sheet (while the station may still change it)."""
    sheet = _editable_sheet(record_id)
    problem = services.not_editable(sheet)
    if problem:
        return _sheet_page(sheet, 409, errors={"form": problem})
    form = _evidence_form(services.evaluate(sheet), EvidenceForm())
    if form.validate_on_submit():
        try:
            records.attach(sheet, form.file.data, kind="document",
                           caption=form.indicator.data or "")
        except attachments.AttachmentError as error:
            form.file.errors.append(str(error))
        else:
            flash(_("The file has been attached."), "success")
            return redirect(url_for("assessments.sheet", record_id=sheet.id))
    return _sheet_page(sheet, 422, evidence=form, errors={"evidence": True})


@bp.post("/sheets/<record_id>/comment")
def comment(record_id):
    sheet = get_or_404(AssessmentSheet, record_id)
    if current_user.role != "commissioner" or current_user.commissioner_id != sheet.commissioner_id:
        abort(403)
    form = CommentForm()
    if not form.validate_on_submit():
        return _sheet_page(sheet, 422, comment=form, errors={"form": _("Please correct the marked fields.")})
    problem = services.not_editable(sheet)
    if problem:
        return _sheet_page(sheet, 409, comment=form, errors={"form": problem})
    services.comment(sheet, form.commissioner_comment.data or "")
    flash(_("Your comment has been saved."), "success")
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


@bp.post("/sheets/<record_id>/review")
@require("grade_assessments")
def review(record_id):
    sheet = get_or_404(AssessmentSheet, record_id)
    if not _may_grade(sheet):
        abort(403)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _sheet_page(sheet, 422, review=form, errors={"form": _("Please correct the marked fields.")})
    errors, data = services.review_errors(sheet, request.form)
    if errors:
        for name in ("final_grade", "reviewer_score", "review_comment"):
            if name in errors:
                form[name].errors = [*form[name].errors, errors[name]]
        return _sheet_page(sheet, 422, review=form, errors=errors)
    services.review(sheet, data)
    flash(_("The sheet has been graded.") if data["review_state"] == "graded"
          else _("The sheet has been returned to the station."), "success")
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


@bp.post("/sheets/<record_id>/subsidy")
def subsidy(record_id):
    """The region records an excellent grassroots station's post-subsidy (exact money)."""
    if current_user.role != "region_admin":
        abort(403)
    sheet = get_or_404(AssessmentSheet, record_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    errors, fen = services.subsidy_errors(sheet, request.form.get("subsidy", ""))
    if errors:
        return _sheet_page(sheet, 422, errors=errors)
    services.record_subsidy(sheet, fen)
    flash(_("The post-subsidy has been recorded."), "success")
    return redirect(url_for("assessments.sheet", record_id=sheet.id))


@bp.get("/<int:year>/stations")
def stations_page(year):
    if current_user.role == "commissioner":
        abort(404)
    scheme, rows = services.station_rows(_year(year))
    if request.args.get("format") == "xlsx":
        content = export.to_xlsx(year, scheme, rows, subject="station")
        return send_file(io.BytesIO(content), mimetype=export.XLSX, as_attachment=True,
                         download_name=export.filename(year, current_user.node_code, "station"))
    return render("assessments/stations.html", year=year, scheme=scheme, rows=rows,
                  form=EmptyForm(), scoring=scoring,
                  **{**VOCAB, "figures": FIGURES_BY_SUBJECT["station"]})


@bp.get("/review")
@require("grade_assessments")
def review_list():
    year = request.args.get("year", type=int)
    sheets = services.to_review(year)
    return render("assessments/review.html", sheets=sheets, year=year, **VOCAB)


@bp.get("/exits")
def exits():
    if current_user.role == "commissioner":
        abort(404)
    return render("assessments/exits.html", sheets=services.proposed_exits(), **VOCAB)


@bp.get("/schemes/<record_id>")
def scheme(record_id):
    found = get_or_404(AssessmentScheme, record_id)
    return render("assessments/scheme.html", scheme=found, scoring=scoring, form=EmptyForm(),
                  **{**VOCAB, "figures": FIGURES_BY_SUBJECT.get(found.subject, FIGURES)})


# ---------------------------------------------------------------- schemes

BLANK_ROWS = 2


@bp.get("/schemes/")
def schemes():
    return render("assessments/schemes.html", schemes=services.schemes(), **VOCAB)


@bp.post("/schemes/<record_id>/copy")
@require("edit_schemes")
def copy_scheme(record_id):
    found = get_or_404(AssessmentScheme, record_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    copy = services.copy_scheme(found)
    flash(_("A copy for your node has been made; change it here."), "success")
    return redirect(url_for("assessments.edit_scheme", record_id=copy.id))


@bp.route("/schemes/<record_id>/edit", methods=["GET", "POST"])
@require("edit_schemes")
def edit_scheme(record_id):
    found = get_or_404(AssessmentScheme, record_id)
    if not writable(found):
        abort(403)
    rows = len(found.indicator_list) + BLANK_ROWS
    form = EmptyForm()
    errors, values = {}, None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        rows = min(request.form.get("rows", type=int) or rows, 60)
        errors, data = services.scheme_form_errors(request.form, rows, found)
        if not errors:
            services.save_scheme(found, data)
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("assessments.scheme", record_id=found.id))
        values = request.form
    return render("assessments/scheme_form.html", status=422 if errors else 200, scheme=found,
                  form=form, errors=errors, values=values, rows=rows, scoring=scoring,
                  **{**VOCAB, "figures": FIGURES_BY_SUBJECT.get(found.subject, FIGURES)})
