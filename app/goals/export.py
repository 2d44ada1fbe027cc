"""The target progress report as XLSX (app/core/spreadsheet.py): Chinese headers, a
frozen header row, numbers as numbers and deadlines as dates."""
from app.core import spreadsheet
from app.core.spreadsheet import Column

COLUMNS = (Column("指标", width=28), Column("目标表述", width=50), Column("范围", width=14),
           Column("计入范围", width=12), Column("目标值", "int"), Column("完成数", "int"),
           Column("完成率(%)", "percent"), Column("起算日期", "date"), Column("截止日期", "date"),
           Column("剩余天数", "int"), Column("状态"))
HEADERS = tuple(c.header for c in COLUMNS)


def filename(scope_code: str) -> str:
    return spreadsheet.filename("目标进度", scope_code)


def to_xlsx(rows: list[dict], status_label) -> bytes:
    body = [[r["indicator_label"], r["wording"], r["scope_name"], r["counted_over"] or "",
             r["target"], r["count"], r["progress"], r["starts_on"], r["deadline"],
             r["days_left"], status_label(r)] for r in rows]
    return spreadsheet.xlsx("目标进度", COLUMNS, body)
