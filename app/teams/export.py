"""The service team list as XLSX (app/core/spreadsheet.py): name, cluster, leader,
members and notes, in Chinese."""
from app.core.spreadsheet import Column

COLUMNS = [Column("名称"), Column("产业集群"), Column("负责人"), Column("成员人数", "int"),
           Column("成员", width=40), Column("备注", width=30)]


def rows(teams) -> list[list]:
    return [[t.name, t.cluster.name if t.cluster else "", t.leader.name if t.leader else "",
             len(t.members), "、".join(m.name for m in t.members), t.notes] for t in teams]
