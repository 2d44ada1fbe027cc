"""The filtered agreement list as a spreadsheet (XLSX) or CSV (UTF-8 with a BOM so Excel
reads the Chinese), with Chinese headers whatever the interface language, and amounts
as yuan text with two decimals (exact: never a float in a cell)."""
import csv
import io

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.agreements import services, vocab
from app.core.extensions import db
from app.core.money import format_percent, format_yuan


def _headers() -> list[str]:
    return [_("Agreement number"), _("Title"), _("Status"), _("Form"),
            _("Service target (counterpart)"), _("Commissioner parties"), _("Industry cluster"),
            _("Valuation (yuan)"), _("Stake (per cent)"), _("Signed on"), _("Starts on"), _("Ends on"),
            _("Paid so far (yuan)"), _("Reason for the termination")]


def rows(stmt) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the agreements ``stmt`` selects, all as text."""
    agreements = db.session.scalars(stmt).all()
    paid = services.paid_totals(a.id for a in agreements)
    with force_locale("zh_CN"):
        headers = _headers()
        body = [[
            a.number, a.title, str(vocab.STATUSES.get(a.status, a.status)),
            str(vocab.FORMS.get(a.form, a.form)), a.counterpart.name if a.counterpart else "",
            "、".join(f"{p.commissioner}（{format_percent(p.share_bp)}%）" for p in a.parties),
            a.cluster.name if a.cluster else "", format_yuan(a.valuation_fen),
            format_percent(a.stake_bp), _iso(a.signed_on), _iso(a.starts_on), _iso(a.ends_on),
            format_yuan(paid.get(a.id, 0)), a.termination_reason or ""]
            for a in agreements]
    return headers, body


def _iso(value) -> str:
    return value.isoformat() if value else ""


def to_csv(headers, body) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(body)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headers, body) -> bytes:
    book = Workbook()
    sheet = book.active
    with force_locale("zh_CN"):
        sheet.title = _("Agreements")[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJKLMN", (14, 30, 10, 16, 24, 30, 10, 16, 8, 12, 12, 12, 16, 20), strict=False):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
