"""The filtered session list as XLSX or CSV, with Chinese headers and the figures of
every session (dates as dates, figures as numbers: app/core/spreadsheet.py); and a
session's roster in the columns of the sign-in sheet, so that an exported roster,
edited, imports back."""
from app.core.extensions import db
from app.core.spreadsheet import Column
from app.trainings import figures, sheet
from app.trainings.vocab import CATEGORIES, FILE_CATEGORIES, FILE_MODES, FILE_STATUSES

HEADERS = [("培训名称", "text"), ("日期", "date"), ("学时", "number"), ("地点", "text"),
           ("方式", "text"), ("组织工作站", "text"), ("授课人", "text"), ("产业集群", "text"),
           ("一级带一级", "text"), ("状态", "text"), ("参训人数", "int"), ("女性", "int"),
           ("少数民族", "int"), ("脱贫户", "int"), ("数据来源", "text")]
SOURCE = {"roster": "签到名单", "counts": "分类人数", "": ""}


def columns() -> list[Column]:
    return [Column(h, kind) for h, kind in HEADERS] + \
        [Column(label, "int") for label in FILE_CATEGORIES.values()]


def rows(stmt) -> list[list]:
    """One list of cells per session of the select."""
    trainings = db.session.scalars(stmt).all()
    found = figures.for_sessions(trainings)
    out = []
    for t in trainings:
        f = found[t.id]
        out.append([
            t.title, t.held_on, t.hours, sheet.place_of(t) or "",
            FILE_MODES.get(t.mode, t.mode), t.station.name if t.station else "",
            sheet.trainer_names(t), t.cluster.name if t.cluster else "",
            "是" if t.trainer_of_trainers else "否", FILE_STATUSES.get(t.status, t.status),
            f.total if f.source else None, f.women, f.minorities, f.poverty, SOURCE[f.source],
        ] + [f.by_category.get(c, 0) if f.source else None for c in CATEGORIES])
    return out


ROSTER_COLUMNS = [Column("序号", "int", width=6), Column("姓名"), Column("性别", width=6),
                  Column("民族"), Column("嘎查/村"), Column("电话", width=14), Column("类别"),
                  Column("脱贫户", width=8)]


def roster_rows(attendees, phone=lambda a: a.phone) -> list[list]:
    """The roster in the sign-in sheet's columns (序号 … 类别, then 脱贫户); ``phone``
    gives the number as the user may see it."""
    sexes = {"male": "男", "female": "女"}
    return [[number, a.name, sexes.get(a.sex, ""), a.ethnicity or "",
             a.village.full_name if a.village else (a.village_text or ""), phone(a),
             FILE_CATEGORIES.get(a.category, "其他"), "是" if a.poverty_alleviated else "否"]
            for number, a in enumerate(attendees, start=1)]
