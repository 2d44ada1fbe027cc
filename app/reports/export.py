"""A report as an XLSX workbook (app/core/spreadsheet.py): Chinese headers, a frozen
header row, numbers as numbers (money in yuan with two decimals, shares as
percentages), the totals last, and a second sheet that says what the report covers
(its dates as dates)."""
from openpyxl.styles import Font

from app.core import spreadsheet
from app.core.spreadsheet import Column

XLSX = spreadsheet.XLSX
KINDS = {"money": "money", "percent": "percent", "float": "number", "int": "int"}


def filename(report) -> str:
    """``报表_<name>_<start>_<end>-<scope code>-<today>.xlsx``."""
    period = f"{report.period.start:%Y%m%d}_{report.period.end:%Y%m%d}"
    return spreadsheet.filename(f"报表_{report.name}_{period}", report.scope.code)


def to_xlsx(report) -> bytes:
    columns = [Column(label, width=None) for label in report.key_labels] + \
        [Column(c.label, KINDS[c.kind]) for c in report.columns]
    rows = [list(row["labels"]) + [row.get(c.key) for c in report.columns] for row in report.rows]
    rows.append(["合计"] + [None] * (len(report.key_labels) - 1)
                + [report.totals.get(c.key) for c in report.columns])
    book = spreadsheet.new_book()
    ws = spreadsheet.add_sheet(book, report.title, columns, rows, first=True)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    about = [("报表", report.title), ("分组", report.breakdown_label),
             ("起始日期", report.period.start), ("截止日期", report.period.end),
             ("范围", f"{report.scope.name}（{report.scope.code}）")]
    spreadsheet.add_sheet(book, "说明", [Column("项目", width=12), Column("内容", "auto", width=40)],
                          [list(pair) for pair in about], freeze="")
    return spreadsheet.to_bytes(book)
