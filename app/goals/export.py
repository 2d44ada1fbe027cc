"""The target progress report as XLSX: Chinese headers, a frozen header row, numbers
as numbers and deadlines as dates."""
import io

from openpyxl import Workbook
from openpyxl.styles import Font

HEADERS = ("指标", "目标表述", "范围", "计入范围", "目标值", "完成数", "完成率(%)", "起算日期",
           "截止日期", "剩余天数", "状态")


def to_xlsx(rows: list[dict], status_label) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "目标进度"
    ws.append(list(HEADERS))
    for r in rows:
        ws.append([r["indicator_label"], r["wording"], r["scope_name"], r["counted_over"] or "",
                   r["target"], r["count"], r["progress"], r["starts_on"], r["deadline"],
                   r["days_left"], status_label(r)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2):
        row[6].number_format = "0.0"
        for cell in (row[7], row[8]):
            cell.number_format = "yyyy-mm-dd"
    for letter, width in zip("ABCDEFGHIJK", (28, 50, 14, 12, 8, 8, 10, 12, 12, 10, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
