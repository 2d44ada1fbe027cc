"""The station list as XLSX (app/core/spreadsheet.py): the form's fields as Chinese
columns, the date as a date, the contact phone only for those who may see it."""
from app.core import choices
from app.core.security import can
from app.core.spreadsheet import Column

COLUMNS = [Column("名称"), Column("类型"), Column("依托单位"), Column("依托单位类型"),
           Column("所在旗县"), Column("地址"), Column("联系人"), Column("联系电话"),
           Column("建站日期", "date"), Column("产业集群"), Column("备注", width=30)]


def rows(stations) -> list[list]:
    phone = can("see_phone")
    return [[s.name, str(choices.STATION_KINDS.get(s.kind, s.kind)),
             s.host_org, str(choices.HOST_ORG_TYPES.get(s.host_org_type, s.host_org_type or "")),
             s.county.name if s.county else "", s.address, s.contact_name,
             s.contact_phone if phone else "", s.established_on,
             "、".join(c.name for c in s.clusters), s.notes] for s in stations]
