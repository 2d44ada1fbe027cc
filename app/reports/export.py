"""A report as an XLSX workbook: Chinese headers, a frozen header row, numbers as
numbers (money in yuan with two decimals, shares as percentages), the totals last, and
a second sheet that says what the report covers (its dates as dates)."""
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"money": "#,##0.00", "percent": "0.0", "float": "0.##", "int": "0"}


def filename(report) -> str:
    return f"report-{report.name}-{report.period.start.isoformat()}-{report.period.end.isoformat()}.xlsx"


def _cell(value, kind):
    if value is None:
        return None
    if kind == "money":
        return Decimal(int(value)) / 100
    return value


def to_xlsx(report) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = report.title[:31]
    headers = list(report.key_labels) + [c.label for c in report.columns]
    ws.append(headers)
    for row in report.rows:
        ws.append(list(row["labels"]) + [_cell(row.get(c.key), c.kind) for c in report.columns])
    ws.append(["合计"] + [None] * (len(report.key_labels) - 1)
              + [_cell(report.totals.get(c.key), c.kind) for c in report.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    first = len(report.key_labels) + 1
    for index, column in enumerate(report.columns, start=first):
        for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = FORMATS[column.kind]
    for index, header in enumerate(headers, start=1):
        values = [header] + [r["labels"][index - 1] if index < first else ""
                             for r in report.rows]
        width = max(len(str(v)) for v in values)
        ws.column_dimensions[get_column_letter(index)].width = min(40, max(10, 2 * width + 2))
    ws.freeze_panes = "A2"
    about = wb.create_sheet("说明")
    for label, value in (("报表", report.title), ("分组", report.breakdown_label),
                         ("起始日期", report.period.start), ("截止日期", report.period.end),
                         ("范围", f"{report.scope.name}（{report.scope.code}）")):
        about.append([label, value])
    for (cell,) in about.iter_rows(min_row=3, max_row=4, min_col=2, max_col=2):
        cell.number_format = "yyyy-mm-dd"
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 40
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
