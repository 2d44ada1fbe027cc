"""A year's commissioner sheets as XLSX (考核汇总表): one row per commissioner, the
scheme's indicators as columns (scores as numbers), the totals and the grades; Chinese
headers and a frozen header row."""
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from app.assessments import scoring

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS = {"none": "未开始", "draft": "填写中", "submitted": "已报送，待审核", "returned": "已退回",
          "graded": "已评定"}
GRADE = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


def _number(text):
    value = scoring.dec(text)
    if value is None:
        return None
    return int(value) if value == value.to_integral() else value


def to_xlsx(year: int, scheme, rows, subject: str = "commissioner") -> bytes:
    indicators = scheme.indicator_list if scheme is not None else []
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年度考核" if subject == "commissioner" else f"{year}年度绩效评估"
    ws.append(["科技特派员" if subject == "commissioner" else "工作站", "状态"]
              + [i["name"] for i in indicators]
              + ["指标得分", "加分", "总分", "按得分等次", "自评分", "建议等次", "考核等次"]
              + (["后补助（元）"] if subject == "station" else []))
    for ev in rows:
        sheet = ev.sheet
        scores = ev.result["scores"]
        ws.append([ev.who.name, STATUS.get(ev.status, ev.status)]
                  + [_number(scores.get(i["key"])) for i in indicators]
                  + [_number(ev.result["base"]), _number(ev.result["bonus"]),
                     _number(ev.result["total"]), GRADE.get(ev.grade, ev.grade),
                     scoring.from_centi(sheet.self_score_c) if sheet else None,
                     GRADE.get(sheet.proposed_grade, "") if sheet else "",
                     GRADE.get(sheet.final_grade, "") if sheet and ev.status == "graded" else ""]
                  + ([scoring.from_centi(sheet.subsidy_fen) if sheet else None]
                     if subject == "station" else []))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, (int, Decimal)):
                cell.number_format = "0.##"
    ws.column_dimensions["A"].width = 14
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
