"""The roster of a session: attendees added, edited, removed and linked to service
targets on the session page; the sign-in sheet printed (HTML for A4, XLSX) and read
back after the session (preview first, nothing written until confirmed)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import files, spreadsheet
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404, require
from app.imports import services as upload_store
from app.imports.forms import ConfirmForm
from app.models import Training
from app.trainings import bp, export, services, sheet
from app.trainings.forms import AttendeeForm, LinkForm, SheetUploadForm
from app.trainings.routes import _detail
from app.trainings.vocab import CATEGORIES, MODES
from app.web import options
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render


def _attendee_form(obj=None) -> AttendeeForm:
    form = AttendeeForm(obj=obj)
    form.village_id.choices = [("", "—")] + options.villages()
    return form


def _attendee(training, attendee_id):
    attendee = services.attendee_of(training, attendee_id)
    if attendee is None:
        abort(404)
    return attendee


@bp.post("/<record_id>/attendees")
@require("edit_records")
def add_attendee(record_id):
    training = get_or_404(Training, record_id)
    form = _attendee_form()
    if form.validate_on_submit():
        problems = services.roster_errors(training, [form.data_for_save()])
        if not problems:
            attendee = services.add_attendee(training, form.data_for_save())
            flash(_("%(name)s has been added to the roster.", name=attendee.name), "success")
            if services.suggestions(attendee):
                return redirect(url_for("trainings.edit_attendee", record_id=record_id,
                                        attendee_id=attendee.id))
            return redirect(url_for("trainings.detail", record_id=record_id) + "#roster")
        form.name.errors.extend(problems)
    return _detail(training, 422, attendee_form=form)


@bp.route("/<record_id>/attendees/<attendee_id>", methods=["GET", "POST"])
@require("edit_records")
def edit_attendee(record_id, attendee_id):
    """One attendee: edit, and the service targets that may be the same person."""
    training = get_or_404(Training, record_id)
    attendee = _attendee(training, attendee_id)
    form = _attendee_form(attendee)
    if form.validate_on_submit():
        problems = services.roster_errors(training, [form.data_for_save()], replacing=attendee)
        if not problems:
            services.update_attendee(attendee, form.data_for_save())
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("trainings.detail", record_id=record_id) + "#roster")
        form.name.errors.extend(problems)
    context = dict(training=training, attendee=attendee, form=form, link_form=LinkForm(),
                   delete_form=DeleteForm(), suggestions=services.suggestions(attendee),
                   categories=CATEGORIES)
    if form.is_submitted():
        return invalid("trainings/attendee.html", **context)
    return render("trainings/attendee.html", **context)


@bp.post("/<record_id>/attendees/<attendee_id>/link")
@require("edit_records")
def link_attendee(record_id, attendee_id):
    """Link (or with an empty target, unlink) an attendee the user confirmed."""
    training = get_or_404(Training, record_id)
    attendee = _attendee(training, attendee_id)
    form = LinkForm()
    if not form.validate_on_submit() or not services.link(attendee, form.target_id.data or None):
        abort(404)
    flash(_("%(name)s is now linked to the service target.", name=attendee.name)
          if attendee.target_id else _("The link has been removed."), "success")
    return redirect(url_for("trainings.edit_attendee", record_id=record_id,
                            attendee_id=attendee_id))


@bp.post("/<record_id>/attendees/<attendee_id>/remove")
@require("edit_records")
def remove_attendee(record_id, attendee_id):
    training = get_or_404(Training, record_id)
    attendee = _attendee(training, attendee_id)
    if DeleteForm().validate_on_submit():
        problems = services.roster_errors(training, [], removing=attendee)
        if problems:
            for problem in problems:
                flash(str(problem), "error")
        else:
            services.remove_attendee(attendee)
            flash(_("%(name)s has been taken off the roster.", name=attendee.name), "success")
    return redirect(url_for("trainings.detail", record_id=record_id) + "#roster")


# The sign-in sheet


@bp.get("/<record_id>/sign-in")
def sign_in_sheet(record_id):
    """The print-ready A4 sign-in sheet (its own page: no navigation)."""
    training = get_or_404(Training, record_id)
    rows = min(max(request.args.get("rows", sheet.BLANK_ROWS, type=int), 10), 200)
    return render_template("trainings/sign_in.html", training=training, rows=rows,
                           header=sheet.header_lines(training), columns=sheet.COLUMNS,
                           modes=MODES)


@bp.get("/<record_id>/sign-in.xlsx")
def sign_in_xlsx(record_id):
    training = get_or_404(Training, record_id)
    return spreadsheet.response(sheet.xlsx(training), "签到表", current_user.node_code)


@bp.get("/<record_id>/roster.xlsx")
def roster_xlsx(record_id):
    """The roster in the sign-in sheet's columns: edited, it imports back (people
    already on the roster are reported unchanged)."""
    training = get_or_404(Training, record_id)
    rows = export.roster_rows(services.attendees(training),
                              phone=lambda a: a.phone if can("see_phone") else "")
    data = spreadsheet.xlsx("签到名单", export.ROSTER_COLUMNS, rows)
    return spreadsheet.response(data, f"签到名单_{training.held_on:%Y%m%d}", current_user.node_code)


def _kind(training) -> str:
    return f"training-roster-{training.id}"


def _import_page(training, form, status=200, **context):
    return render("trainings/import.html", status=status, training=training, form=form,
                  columns=sheet.COLUMNS, categories=sheet.category_labels(), **context)


@bp.route("/<record_id>/import", methods=["GET", "POST"])
@require("import_records")
def import_sheet(record_id):
    """Upload a filled sheet; it comes back as a preview with every row's errors, the
    people already on the roster and the new ones (nothing written yet)."""
    training = get_or_404(Training, record_id)
    form = SheetUploadForm()
    future = services.future_problem(training)
    if future:
        form.file.errors = [str(future)]
        return _import_page(training, form, 422 if form.is_submitted() else 200, future=True)
    if not form.validate_on_submit():
        return _import_page(training, form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    data = upload.stream.read(sheet.workbook.MAX_BYTES + 1)
    try:
        result = services.check_sheet(training, data)
    except sheet.FileProblem as problem:
        form.file.errors.append(str(problem))
        return _import_page(training, form, 422)
    token = upload_store.store(_kind(training), data, upload.filename or "") \
        if result.importable else None
    return _import_page(training, SheetUploadForm(formdata=None), 200 if result.ok else 422,
                        result=result, filename=files.safe_filename(upload.filename),
                        confirm=ConfirmForm(token=token) if token else None)


@bp.post("/<record_id>/import/confirm")
@require("import_records")
def confirm_import(record_id):
    """Write a previewed sheet: checked again, then its new rows in one transaction
    (with ``partial``, the user's choice, the invalid rows left out)."""
    training = get_or_404(Training, record_id)
    form = ConfirmForm()
    partial = request.form.get("partial") == "1"
    stored = upload_store.load(_kind(training), form.token.data) \
        if form.validate_on_submit() else None
    upload = SheetUploadForm(formdata=None)
    if stored is None:
        upload.file.errors = [_("This upload is no longer available. Upload the file again.")]
        return _import_page(training, upload, 422)
    data, filename = stored
    try:
        result = services.check_sheet(training, data)
    except sheet.FileProblem as problem:
        upload.file.errors = [str(problem)]
        return _import_page(training, upload, 422)
    if not result.importable or (result.invalid and not partial):  # changed since the preview
        upload_store.discard(form.token.data)
        return _import_page(training, upload, 422, result=result, filename=filename,
                            confirm=None)
    count = services.write_sheet(training, result, partial=partial)
    upload_store.discard(form.token.data)
    flash(_("%(count)s people have been added to the roster.", count=count), "success")
    if result.unchanged:
        flash(_("%(count)s people were already on the roster and are unchanged.",
                count=len(result.unchanged)), "info")
    if result.invalid:
        flash(_("%(count)s rows with errors were left out: correct them and import the "
                "sheet again.", count=len(result.invalid)), "warning")
    return redirect(url_for("trainings.detail", record_id=record_id) + "#roster")
