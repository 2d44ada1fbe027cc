"""The filtered visit list as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads
Chinese) and XLSX, with Chinese column headings whatever the interface language;
dates as dates and figures as numbers (app/core/spreadsheet.py)."""
from flask import Response
from flask_login import current_user

from app.core import spreadsheet
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.spreadsheet import Column
from app.visits import vocab

WHAT = "服务记录"


def _columns():
    return [
        (_("Number"), "text", lambda v: v.number),
        (_("Date"), "date", lambda v: v.visited_on),
        (_("Start time"), "text", lambda v: v.start_time),
        (_("End time"), "text", lambda v: v.end_time),
        (_("Hours"), "number", lambda v: v.hours),
        (_("Commissioners"), "text", lambda v: "、".join(c.name for c in v.commissioners)),
        (_("Service targets"), "text", lambda v: "、".join(t.name for t in v.targets)),
        (_("Station"), "text", lambda v: v.station.name if v.station else ""),
        (_("Village"), "text", lambda v: v.village.full_name if v.village else ""),
        (_("Location"), "text", lambda v: v.location),
        (_("Latitude"), "coordinate", lambda v: v.latitude),
        (_("Longitude"), "coordinate", lambda v: v.longitude),
        (_("Industry cluster"), "text", lambda v: v.cluster.name if v.cluster else ""),
        (_("Production stage"), "text", lambda v: str(vocab.STAGES.get(v.stage, v.stage))),
        (_("Service types"), "text", lambda v: "、".join(str(vocab.SERVICE_TYPES.get(c, c))
                                                for c in v.service_type_list)),
        (_("How"), "text", lambda v: str(vocab.MODES.get(v.mode, v.mode))),
        (_("Problem"), "text", lambda v: v.problem),
        (_("What was done"), "text", lambda v: v.action),
        (_("Result"), "text", lambda v: v.result),
        (_("Technologies introduced"), "text", lambda v: v.technologies),
        (_("Number of technologies"), "int", lambda v: v.technology_count),
        (_("Varieties introduced"), "text", lambda v: v.varieties),
        (_("Number of varieties"), "int", lambda v: v.variety_count),
        (_("People reached"), "int", lambda v: v.people_reached),
        (_("Follow-up date"), "date", lambda v: v.follow_up_on or
         (_("Yes") if v.follow_up else "")),
        (_("Review"), "text", lambda v: str(vocab.REVIEW_STATES.get(v.review_state, v.review_state))),
    ]


def _table(rows) -> tuple[list[Column], list[list]]:
    """The columns, then one list of cells per visit (in Chinese)."""
    with force_locale("zh_CN"):
        columns = _columns()
        return ([Column(title, kind) for title, kind, _cell in columns],
                [[cell(visit) for _title, _kind, cell in columns] for visit in rows])


def csv_response(rows) -> Response:
    columns, body = _table(rows)
    return spreadsheet.response(spreadsheet.csv_bytes(columns, body), WHAT,
                                current_user.node_code, "csv")


def xlsx_response(rows) -> Response:
    columns, body = _table(rows)
    return spreadsheet.response(spreadsheet.xlsx(WHAT, columns, body), WHAT,
                                current_user.node_code)
