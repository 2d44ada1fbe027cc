"""The commissioner and service-target lists as XLSX in the columns of their import
templates (app/imports/columns.py), so that a list exported, edited and imported again
round-trips: the same Chinese headers, vocabularies as their Chinese labels, yes/no as
是/否, clusters, villages and stations by name, dates as dates, long digit strings as
text. A phone or ID number the user may not see whole is left blank (a masked one
would not import)."""
from app.core.i18n import force_locale
from app.core.security import can
from app.core.spreadsheet import Column
from app.imports.columns import Spec
from app.imports.workbook import NO, YES, header_of

KINDS = {"date": "date", "int": "int"}


def columns(spec: Spec) -> list[Column]:
    return [Column(header_of(c), KINDS.get(c.kind, "text")) for c in spec.columns]


def _value(column, record):
    value = getattr(record, column.field.removesuffix("_ids").removesuffix("_id")
                    if column.kind in ("clusters", "villages", "village", "station")
                    else column.field, None)
    if column.kind == "vocab":
        return str(column.vocab.get(value, value or "")) if value else ""
    if column.kind == "bool":
        return YES if value else NO
    if column.kind == "clusters":
        return "、".join(c.name for c in record.clusters)
    if column.kind == "villages":
        return "、".join(v.full_name for v in record.villages)
    if column.kind in ("village", "station"):
        return getattr(value, "full_name", None) or getattr(value, "name", "") if value else ""
    if column.field == "phone" and not can("see_phone"):
        return ""
    if column.field == "id_number" and not can("see_id_number"):
        return ""
    return value


def rows(spec: Spec, records) -> list[list]:
    with force_locale("zh_CN"):
        return [[_value(c, record) for c in spec.columns] for record in records]
