"""Training session pages: list, export, record, detail with figures, edit, delete,
restore, head counts and evidence attachments."""
from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.core import attachments, records, spreadsheet
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404, require
from app.models import Attachment, Place, Training
from app.trainings import bp, export, figures, listing, services, vocab
from app.trainings.forms import AttachmentForm, AttendeeForm, CountsForm, TrainingForm, history_labels
from app.web import options
from app.web.forms import DeleteForm
from app.web.htmx import render
from app.web.pages import RecordPages, page_number

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VOCAB = {"mode": vocab.MODES, "status": vocab.STATUSES, "head_counts": vocab.CATEGORIES}


def _form(training=None) -> TrainingForm:
    form = TrainingForm(obj=training)
    stations = options.stations()
    form.village_id.choices = [("", "—")] + options.villages()
    form.station_id.choices = [("", "—")] + stations
    form.cluster_id.choices = [("", "—")] + options.clusters()
    form.trainer_ids.choices = options.commissioners()
    form.trainer_ids.render_kw = {"size": 8}
    if training is None and not form.is_submitted():
        form.held_on.data = date.today()
        form.hours.data = 2
        if len(stations) == 1:
            form.station_id.data = stations[0][0]
    if training is not None and not form.is_submitted():
        form.trainer_ids.data = [c.id for c in training.trainers]
    return form


# A session with what its page shows of it (village and township, station, cluster) in
# one query, where loading each when the page came to it took four; its trainers and
# roster are read as lines (listing.trainers, listing.roster).
_WITH_RELATIONS = (joinedload(Training.village).joinedload(Place.parent),
                   joinedload(Training.station), joinedload(Training.cluster))

pages = RecordPages(
    "trainings", Training, "training", form=_form, save=services.save, errors=services.errors,
    get=lambda record_id, include_deleted: get_or_404(
        Training, record_id, include_deleted=include_deleted, options=_WITH_RELATIONS),
    name=lambda training: training.title,
    created=lambda training: _("Training session %(title)s has been recorded.",
                               title=training.title))


def _args() -> dict:
    """The list's filters (dates parsed by the service); deleted ones only for who may."""
    args = services.parse_args(request.args)
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    return args


@bp.get("/")
def index():
    args = _args()
    page = listing.paginate(args, page_number())
    return pages.list(page, args, figures=figures.for_sessions(page.items), vocab=vocab,
                      list_labels=vocab.list_labels(), commissioners=options.commissioners(),
                      clusters=options.clusters())


@bp.get("/export.<fmt>")
def export_list(fmt):
    """The filtered list (every page) as XLSX or CSV, with Chinese headers."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    table = export.rows(services.filtered(_args()))
    data = spreadsheet.xlsx("培训", export.columns(), table) if fmt == "xlsx" \
        else spreadsheet.csv_bytes(export.columns(), table)
    return spreadsheet.response(data, "培训", current_user.node_code, fmt)


def _detail(training, status=200, attendee_form=None, counts_form=None, attachment_form=None,
            problems=None):
    roster = listing.roster(training.id)
    shown = figures.from_roster(roster)
    differ = figures.disagreements(shown, training)
    if not shown.source:
        shown = figures.from_counts(training)
    if attendee_form is None:
        attendee_form = AttendeeForm(formdata=None)
    attendee_form.village_id.choices = [("", "—")] + options.villages()
    if counts_form is None:
        counts_form = CountsForm(formdata=None)
        for code, people in (training.head_counts or {}).items():
            if f"count_{code}" in counts_form:
                counts_form[f"count_{code}"].data = people
        for key in figures.EXTRA:
            counts_form[key].data = getattr(training, key)
    return render("trainings/detail.html", status=status, training=training, roster=roster,
                  trainers=listing.trainers(training.id),
                  figures=shown, differ=services.describe(differ) if differ else "",
                  attendee_form=attendee_form, counts_form=counts_form,
                  attachment_form=attachment_form or AttachmentForm(formdata=None),
                  attachments=attachments.for_record(training), problems=problems or [],
                  history=records.history(training), vocab=vocab, labels=history_labels(),
                  history_vocab=VOCAB, present=attachments.present,
                  roster_labels=_roster_labels())


def _roster_labels() -> dict:
    """The roster's codes as translated text, once per page (not once a row)."""
    from app.core import choices
    return {"sexes": vocab.ByCode({k: str(v) for k, v in choices.SEXES.items()}),
            "categories": vocab.ByCode({k: str(v) for k, v in vocab.CATEGORIES.items()})}


@bp.get("/<record_id>")
def detail(record_id):
    return _detail(pages.shown(record_id))


@bp.post("/<record_id>/counts")
@require("edit_records")
def counts(record_id):
    """Head counts by category, for a session without a roster (or agreeing with it)."""
    training = get_or_404(Training, record_id)
    form = CountsForm()
    if form.validate_on_submit():
        errors = services.count_errors(training, form.counts(), form.extra())
        for name, message in errors.items():
            form[name].errors.append(message)
        if not errors:
            services.save_counts(training, form.counts(), form.extra())
            flash(_("The head counts have been saved."), "success")
            return redirect(url_for("trainings.detail", record_id=record_id) + "#counts")
    return _detail(training, 422, counts_form=form)


@bp.post("/<record_id>/attachments")
@require("edit_records")
def attach(record_id):
    """Evidence: a sign-in sheet scan, photos, slides as PDF."""
    training = get_or_404(Training, record_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            kind = "photo" if form.kind.data == "photo" else form.kind.data
            records.attach(training, form.file.data, kind, form.caption.data or "")
        except attachments.AttachmentError as problem:
            form.file.errors.append(str(problem))
        else:
            flash(_("The file has been attached."), "success")
            return redirect(url_for("trainings.detail", record_id=record_id) + "#evidence")
    return _detail(training, 422, attachment_form=form)


@bp.post("/<record_id>/attachments/<attachment_id>/delete")
@require("delete_records")
def detach(record_id, attachment_id):
    training = get_or_404(Training, record_id)
    attachment = get_or_404(Attachment, attachment_id)
    if attachment.record_id != training.id or not DeleteForm().validate_on_submit():
        return redirect(url_for("trainings.detail", record_id=record_id))
    records.soft_delete(attachment)
    flash(_("The file has been removed."), "success")
    return redirect(url_for("trainings.detail", record_id=record_id) + "#evidence")


# The shared write pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
