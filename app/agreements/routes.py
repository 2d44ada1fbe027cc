"""Agreement pages: list and export, record and edit, life-cycle steps, payouts, scans."""
from datetime import date

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.agreements import bp, export, listing, services, vocab
from app.agreements.forms import (
    AgreementForm,
    PayoutForm,
    ScanForm,
    TransitionForm,
    history_labels,
    payout_history_labels,
)
from app.core import attachments, records, spreadsheet
from app.core.i18n import gettext as _
from app.core.money import format_percent, format_yuan
from app.core.security import get_or_404, require
from app.models import Agreement
from app.web import options
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render
from app.web.pages import RecordPages, page_number

FILTERS = ("q", "status", "form", "cluster", "commissioner", "counterpart", "year", "attention",
           "show")


class _Shown:
    """Stands in for a vocabulary in the history macro: shows integers through ``show``
    (fen as yuan, basis points as per cent) instead of looking codes up."""

    def __init__(self, show):
        self.show = show

    def __contains__(self, value):
        return isinstance(value, int) and not isinstance(value, bool)

    def __getitem__(self, value):
        return self.show(value)


VOCAB = {"status": vocab.STATUSES, "form": vocab.FORMS, "profit_basis": vocab.BASES,
         "risk_basis": vocab.BASES, "kind": vocab.PAYOUT_KINDS,
         "valuation_fen": _Shown(format_yuan), "stake_bp": _Shown(lambda bp: format_percent(bp) + "%")}


# An agreement with its counterpart and cluster, in one statement; its parties and
# ledger as plain lines (listing.parties, listing.ledger) on its page.
RELATIONS = (joinedload(Agreement.counterpart), joinedload(Agreement.cluster))

pages = RecordPages(
    "agreements", Agreement, "agreement",
    get=lambda record_id, include_deleted: get_or_404(Agreement, record_id, options=RELATIONS,
                                                      include_deleted=include_deleted),
    created=lambda agreement: _("Agreement %(number)s has been recorded.", number=agreement.number))


def _args() -> dict:
    return pages.filter_args(FILTERS)


@bp.get("/")
def index():
    args = _args()
    page = listing.paginate(args, page_number())
    return pages.list(page, args, list_labels=vocab.list_labels(), **services.filter_options())


@bp.get("/export.<fmt>")
def export_list(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    columns, body = export.rows(services.filtered(_args()))
    return _download(columns, body, "利益共同体", export.sheet_title("agreements"), fmt)


@bp.get("/ledger.<fmt>")
def export_ledger(fmt):
    """The payouts of the filtered agreements (every page): the ledger to add up."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    columns, body = export.ledger(services.filtered(_args()))
    return _download(columns, body, "兑付台账", export.sheet_title("ledger"), fmt)


def _download(columns, body, what, title, fmt):
    data = spreadsheet.xlsx(title, columns, body) if fmt == "xlsx" \
        else spreadsheet.csv_bytes(columns, body)
    return spreadsheet.response(data, what, current_user.node_code, fmt)


def _form(agreement=None) -> AgreementForm:
    form = AgreementForm(obj=agreement)
    commissioners = [("", "—")] + options.commissioners()
    for row in form.parties:
        row.form.commissioner_id.choices = commissioners
    form.counterpart_id.choices = [("", "—")] + options.service_targets()
    form.cluster_id.choices = [("", "—")] + options.clusters()
    return form


def _checked(form: AgreementForm, agreement=None) -> bool:
    """Validate the fields and the rules across them; errors land next to the fields
    (the party rows' errors in ``form.party_errors``)."""
    form.party_errors = []
    valid = form.validate_on_submit()
    if not form.is_submitted():
        return False
    rows, form.party_errors = form.party_rows()
    if form.party_errors or not valid:
        return False
    errors = services.errors(form.data_for_save(), agreement)
    for name, message in errors.items():
        if name == "parties":
            form.party_errors.append(message)
        else:
            form[name].errors.append(message)
    return not errors


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    form = _form()
    return pages.form_page(form, None, checked=_checked(form), save=lambda _none, data:
                           services.save(None, data, current_user.node_code))


def _detail_context(agreement, payout_form=None, scan_form=None):
    parties, payouts = listing.parties(agreement.id), listing.ledger(agreement.id)
    return {
        "agreement": agreement, "history": records.history(agreement), "vocab": VOCAB,
        "labels": history_labels(), "parties": parties, "payouts": payouts,
        "steps": services.allowed_steps(agreement),
        "by_year": services.totals_by_year(payouts),
        "by_payee": services.totals_by_payee(payouts),
        "paid": sum(p.amount_fen for p in payouts),
        "payout_form": payout_form or _payout_form(agreement, parties=parties),
        "scan_form": scan_form or ScanForm(),
        "scans": attachments.for_record(agreement), "present": attachments.present,
        "payable": agreement.status in services.PAYABLE,
    }


@bp.get("/<record_id>")
def detail(record_id):
    return render("agreements/detail.html", **_detail_context(pages.shown(record_id)))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    agreement = pages.get(record_id)
    form = _form(agreement)
    return pages.form_page(form, agreement, checked=_checked(form, agreement), save=lambda
                           record, data: services.save(record, data, record.owner_node))


@bp.route("/<record_id>/step/<to>", methods=["GET", "POST"])
@require("edit_records")
def step(record_id, to):
    """Confirm one life-cycle step (with its date, and a reason to terminate)."""
    agreement = get_or_404(Agreement, record_id)
    if to not in vocab.STATUSES:
        abort(404)
    form = TransitionForm()
    if not form.is_submitted():
        form.on.data = services.step_date(agreement, to)
    elif form.validate():
        errors = services.transition_errors(agreement, to, form.on.data, form.reason.data or "")
        if not errors:
            services.transition(agreement, to, form.on.data, form.reason.data or "")
            flash(_("The agreement is now: %(status)s.", status=vocab.STATUSES[to]), "success")
            return redirect(url_for("agreements.detail", record_id=record_id))
        form.step_errors = [m for k, m in errors.items() if k == "to"]
        for name in ("on", "reason"):
            if name in errors:
                form[name].errors.append(errors[name])
    page = invalid if form.is_submitted() else render
    return page("agreements/step.html", form=form, agreement=agreement, to=to,
                allowed=to in services.allowed_steps(agreement))


# --- the ledger --------------------------------------------------------------------------

def _payout_form(agreement, payout=None, parties=None) -> PayoutForm:
    """The payout form, its payees the agreement's parties (``parties``: as lines, when
    the caller has read them)."""
    form = PayoutForm(obj=payout)
    if payout is None and not form.is_submitted():
        form.paid_on.data = date.today()
    form.payee_id.choices = [(p.commissioner_id, str(p.commissioner))
                             for p in (agreement.parties if parties is None else parties)]
    return form


def _payout_checked(form: PayoutForm, agreement, payout=None) -> bool:
    """The payout's rules; then, for a payout identical to one already recorded (same
    date, amount and payee), a warning: nothing is written until the user confirms."""
    form.same_as = None
    if not form.validate_on_submit():
        return False
    errors = services.payout_errors(agreement, form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    if errors:
        return False
    form.same_as = services.same_payout(agreement, form.data_for_save(), payout)
    return form.same_as is None or form.same_again.data


@bp.post("/<record_id>/payouts")
@require("edit_records")
def add_payout(record_id):
    agreement = get_or_404(Agreement, record_id)
    form = _payout_form(agreement)
    if _payout_checked(form, agreement):
        services.save_payout(agreement, None, form.data_for_save())
        flash(_("The payout has been recorded."), "success")
        return redirect(url_for("agreements.detail", record_id=record_id) + "#ledger")
    return invalid("agreements/detail.html", **_detail_context(agreement, payout_form=form))


@bp.route("/<record_id>/payouts/<payout_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit_payout(record_id, payout_id):
    agreement = get_or_404(Agreement, record_id)
    payout = services.payout_of(agreement, payout_id) or abort(404)
    form = _payout_form(agreement, payout)
    if _payout_checked(form, agreement, payout):
        services.save_payout(agreement, payout, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("agreements.detail", record_id=record_id) + "#ledger")
    page = invalid if form.is_submitted() else render
    return page("agreements/payout_form.html", form=form, agreement=agreement, payout=payout,
                history=records.history(payout), labels=payout_history_labels(), vocab=VOCAB)


@bp.route("/<record_id>/payouts/<payout_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete_payout(record_id, payout_id):
    agreement = get_or_404(Agreement, record_id)
    payout = services.payout_of(agreement, payout_id) or abort(404)
    form = DeleteForm()
    if form.validate_on_submit():
        records.soft_delete(payout)
        flash(_("The payout has been deleted."), "success")
        return redirect(url_for("agreements.detail", record_id=record_id) + "#ledger")
    return render("records/confirm_delete.html", form=form, record=payout,
                  back=url_for("agreements.detail", record_id=record_id))


@bp.post("/<record_id>/scans")
@require("edit_records")
def add_scan(record_id):
    agreement = get_or_404(Agreement, record_id)
    form = ScanForm()
    if form.validate_on_submit():
        try:
            records.attach(agreement, form.file.data, kind="document",
                           caption=form.caption.data or "")
        except attachments.AttachmentError as error:
            form.file.errors.append(str(error))
        else:
            flash(_("The file has been attached."), "success")
            return redirect(url_for("agreements.detail", record_id=record_id) + "#scans")
    return invalid("agreements/detail.html", **_detail_context(agreement, scan_form=form))


# The shared delete and restore pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
