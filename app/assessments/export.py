"""A year's commissioner sheets as XLSX (考核汇总表): one row per commissioner, the
scheme's indicators as columns (scores as numbers), the totals and the grades; Chinese
headers and a frozen header row and name column (app/core/spreadsheet.py)."""
from app.assessments import scoring
from app.core import spreadsheet
from app.core.spreadsheet import Column

XLSX = spreadsheet.XLSX
STATUS = {"none": "未开始", "draft": "填写中", "submitted": "已报送，待审核", "returned": "已退回",
          "graded": "已评定"}
GRADE = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


def _number(text):
    value = scoring.dec(text)
    if value is None:
        return None
    return int(value) if value == value.to_integral() else value


def filename(year: int, node_code: str, subject: str = "commissioner") -> str:
    what = f"{year}年度考核" if subject == "commissioner" else f"{year}年度绩效评估"
    return spreadsheet.filename(what, node_code)


def to_xlsx(year: int, scheme, rows, subject: str = "commissioner") -> bytes:
    indicators = scheme.indicator_list if scheme is not None else []
    title = f"{year}年度考核" if subject == "commissioner" else f"{year}年度绩效评估"
    columns = ([Column("科技特派员" if subject == "commissioner" else "工作站", width=14),
                Column("状态")]
               + [Column(i["name"], "number") for i in indicators]
               + [Column(h, "number") for h in ("指标得分", "加分", "总分")]
               + [Column("按得分等次"), Column("自评分", "number"), Column("建议等次"),
                  Column("考核等次")]
               + ([Column("后补助（元）", "money")] if subject == "station" else []))
    body = []
    for ev in rows:
        sheet = ev.sheet
        scores = ev.result["scores"]
        body.append([ev.who.name, STATUS.get(ev.status, ev.status)]
                    + [_number(scores.get(i["key"])) for i in indicators]
                    + [_number(ev.result["base"]), _number(ev.result["bonus"]),
                       _number(ev.result["total"]), GRADE.get(ev.grade, ev.grade),
                       scoring.from_centi(sheet.self_score_c) if sheet else None,
                       GRADE.get(sheet.proposed_grade, "") if sheet else "",
                       GRADE.get(sheet.final_grade, "") if sheet and ev.status == "graded" else ""]
                    + ([sheet.subsidy_fen if sheet else None] if subject == "station" else []))
    return spreadsheet.xlsx(title, columns, body, freeze="B2")
