"""The filtered visit list as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads
Chinese) and XLSX, with Chinese column headings whatever the interface language."""
import csv
import io
from datetime import date

from flask import Response
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from app.visits import vocab


def _columns():
    return [
        (_("Number"), lambda v: v.number),
        (_("Date"), lambda v: v.visited_on.isoformat()),
        (_("Start time"), lambda v: v.start_time),
        (_("End time"), lambda v: v.end_time),
        (_("Hours"), lambda v: v.hours if v.hours is not None else ""),
        (_("Commissioners"), lambda v: "、".join(c.name for c in v.commissioners)),
        (_("Service targets"), lambda v: "、".join(t.name for t in v.targets)),
        (_("Station"), lambda v: v.station.name if v.station else ""),
        (_("Village"), lambda v: v.village.full_name if v.village else ""),
        (_("Location"), lambda v: v.location),
        (_("Latitude"), lambda v: v.latitude if v.latitude is not None else ""),
        (_("Longitude"), lambda v: v.longitude if v.longitude is not None else ""),
        (_("Industry cluster"), lambda v: v.cluster.name if v.cluster else ""),
        (_("Production stage"), lambda v: str(vocab.STAGES.get(v.stage, v.stage))),
        (_("Service types"), lambda v: "、".join(str(vocab.SERVICE_TYPES.get(c, c))
                                                for c in v.service_type_list)),
        (_("How"), lambda v: str(vocab.MODES.get(v.mode, v.mode))),
        (_("Problem"), lambda v: v.problem),
        (_("What was done"), lambda v: v.action),
        (_("Result"), lambda v: v.result),
        (_("Technologies introduced"), lambda v: v.technologies),
        (_("Number of technologies"), lambda v: v.technology_count),
        (_("Varieties introduced"), lambda v: v.varieties),
        (_("Number of varieties"), lambda v: v.variety_count),
        (_("People reached"), lambda v: v.people_reached),
        (_("Follow-up date"), lambda v: v.follow_up_on.isoformat() if v.follow_up_on else
         (_("Yes") if v.follow_up else "")),
        (_("Review"), lambda v: str(vocab.REVIEW_STATES.get(v.review_state, v.review_state))),
    ]


def _table(rows):
    """Headings, then one list of cells per visit (in Chinese)."""
    with force_locale("zh_CN"):
        columns = _columns()
        yield [title for title, _cell in columns]
        for visit in rows:
            yield [_safe(cell(visit)) for _title, cell in columns]


def _safe(value):
    """Text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _filename(ext: str) -> str:
    return f"visits-{date.today().isoformat()}.{ext}"


def csv_response(rows) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for line in _table(rows):
        writer.writerow(line)
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={_filename('csv')}"})


def xlsx_response(rows) -> Response:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("服务记录")
    for line in _table(rows):
        sheet.append(line)
    out = io.BytesIO()
    workbook.save(out)
    return Response(out.getvalue(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={_filename('xlsx')}"})
