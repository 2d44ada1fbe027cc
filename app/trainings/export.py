"""The filtered session list as XLSX or CSV (UTF-8 with BOM, so that Excel shows the
Chinese), with Chinese headers and the figures of every session."""
import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from app.core.extensions import db
from app.trainings import figures, sheet
from app.trainings.vocab import CATEGORIES, FILE_CATEGORIES, FILE_MODES, FILE_STATUSES

HEADERS = ["培训名称", "日期", "学时", "地点", "方式", "组织工作站", "授课人", "产业集群",
           "一级带一级", "状态", "参训人数", "女性", "少数民族", "脱贫户", "数据来源"]
SOURCE = {"roster": "签到名单", "counts": "分类人数", "": ""}


def _blank(value):
    return "" if value is None else value


def rows(stmt) -> list[list]:
    """One list of cells per session of the select, headers first."""
    trainings = db.session.scalars(stmt).all()
    found = figures.for_sessions(trainings)
    out = [HEADERS + list(FILE_CATEGORIES.values())]
    for t in trainings:
        f = found[t.id]
        out.append([
            t.title, t.held_on.isoformat(), t.hours, sheet.place_of(t) or "",
            FILE_MODES.get(t.mode, t.mode), t.station.name if t.station else "",
            sheet.trainer_names(t), t.cluster.name if t.cluster else "",
            "是" if t.trainer_of_trainers else "否", FILE_STATUSES.get(t.status, t.status),
            f.total if f.source else "", _blank(f.women), _blank(f.minorities),
            _blank(f.poverty), SOURCE[f.source],
        ] + [f.by_category.get(c, 0) if f.source else "" for c in CATEGORIES])
    return out


def to_xlsx(table) -> bytes:
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "培训"
    for row in table:
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_csv(table) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(table)
    return ("\ufeff" + text.getvalue()).encode("utf-8")
