"""The place list as plain lines: a page's ids (records.paginate_ids, the count
remembered until the data changes), then their lines in one query read at once.

A page of 25 ORM places with their townships and counties (three queries, the count a
fourth) cost more than the rest of the page; a line needs a few columns.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.core import records
from app.core.database import AtOnce
from app.core.extensions import db
from app.models import Place
from app.places import services


@dataclass
class PlaceRow:
    """What a line of the list shows of a place."""
    id: str
    name: str
    level: str
    code: str | None
    deleted_at: str | None
    parent: str | None  # the name of the place it belongs to
    grandparent: str | None  # and of the one that belongs to (a village's county)


_Parent = aliased(Place, name="line_parent")
_Grandparent = aliased(Place, name="line_grandparent")
_LINES = AtOnce(select(Place.id, Place.name, Place.level, Place.code, Place.deleted_at,
                       _Parent.name, _Grandparent.name)
                .select_from(Place).outerjoin(_Parent, _Parent.id == Place.parent_id)
                .outerjoin(_Grandparent, _Grandparent.id == _Parent.parent_id)
                .where(Place.id.in_(bindparam("ids", expanding=True))))


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the places matching ``args`` as list lines, in the list's order."""
    stmt, order = services.conditions(args)
    found = records.paginate_ids(stmt, order, page, ("place-count", tuple(sorted(args.items()))),
                                 per_page)
    lines = {row[0]: PlaceRow(*row) for row in _LINES.rows(db.session, ids=found.items)} \
        if found.items else {}
    found.items = [lines[i] for i in found.items if i in lines]
    return found
