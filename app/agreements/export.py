"""The filtered agreement list, and the payout ledger of those agreements, as XLSX or
CSV, with Chinese headers whatever the interface language (app/core/spreadsheet.py:
money in yuan as numbers with two decimals from integer fen, shares as percentages,
dates as dates)."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.agreements import services, vocab
from app.core.extensions import db
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.money import format_percent
from app.core.spreadsheet import Column
from app.models import Payout


def _columns() -> list[Column]:
    return [Column(_("Agreement number")), Column(_("Title"), width=30), Column(_("Status")),
            Column(_("Form")), Column(_("Service target (counterpart)")),
            Column(_("Commissioner parties"), width=30), Column(_("Industry cluster")),
            Column(_("Valuation (yuan)"), "money"), Column(_("Stake (per cent)"), "bp"),
            Column(_("Signed on"), "date"), Column(_("Starts on"), "date"),
            Column(_("Ends on"), "date"), Column(_("Paid so far (yuan)"), "money"),
            Column(_("Reason for the termination"))]


def rows(stmt) -> tuple[list[Column], list[list]]:
    """(columns, rows) of the agreements ``stmt`` selects: money in fen, shares in
    basis points, dates as dates (the sheet writer formats them)."""
    agreements = db.session.scalars(stmt).all()
    paid = services.paid_totals(a.id for a in agreements)
    with force_locale("zh_CN"):
        columns = _columns()
        body = [[
            a.number, a.title, str(vocab.STATUSES.get(a.status, a.status)),
            str(vocab.FORMS.get(a.form, a.form)), a.counterpart.name if a.counterpart else "",
            "、".join(f"{p.commissioner}（{format_percent(p.share_bp)}%）" for p in a.parties),
            a.cluster.name if a.cluster else "", a.valuation_fen, a.stake_bp,
            a.signed_on, a.starts_on, a.ends_on, paid.get(a.id, 0), a.termination_reason or ""]
            for a in agreements]
    return columns, body


def _ledger_columns() -> list[Column]:
    return [Column(_("Agreement number")), Column(_("Title"), width=30),
            Column(_("Date paid"), "date"), Column(_("Kind of payout")), Column(_("Paid to")),
            Column(_("Amount (yuan)"), "money"), Column(_("Note"), width=30),
            Column(_("Reason for a payout outside the term"), width=30)]


def ledger(stmt) -> tuple[list[Column], list[list]]:
    """(columns, rows) of the payouts of the agreements ``stmt`` selects: one row a
    payout, by agreement, then date."""
    agreements = db.session.scalars(stmt).all()
    order = {a.id: index for index, a in enumerate(agreements)}
    payouts = db.session.scalars(
        select(Payout).where(Payout.agreement_id.in_(list(order)), Payout.deleted_at.is_(None))
        .options(selectinload(Payout.payee), selectinload(Payout.agreement))).all() if order else []
    payouts.sort(key=lambda p: (order[p.agreement_id], p.paid_on, p.id))
    with force_locale("zh_CN"):
        columns = _ledger_columns()
        body = [[p.agreement.number, p.agreement.title, p.paid_on,
                 str(vocab.PAYOUT_KINDS.get(p.kind, p.kind)), p.payee.name if p.payee else "",
                 p.amount_fen, p.note or "", p.out_of_term_reason or ""] for p in payouts]
    return columns, body


def sheet_title(what: str) -> str:
    with force_locale("zh_CN"):
        return _("Payout ledger") if what == "ledger" else _("Agreements")
