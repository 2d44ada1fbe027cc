"""The service target list as plain lines: a page's ids (records.paginate_ids, the count
remembered until the data changes), then their lines with their village and township in
one statement built once and read at once.

A page of 25 ORM targets with their villages and townships as records cost more than the
rest of the page; a line needs a few columns.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.core import records
from app.core.database import AtOnce
from app.core.extensions import db
from app.models import Place, ServiceTarget
from app.models.reference import full_place_name
from app.targets import services

ORDER = (ServiceTarget.name, ServiceTarget.id)


@dataclass
class TargetRow:
    """What a line of the list shows of a service target."""
    id: str
    name: str
    kind: str
    contact_name: str
    phone: str
    poverty_alleviated: bool
    monitored: bool
    village: str | None  # the village's full name (with its township), or None


_Village = aliased(Place, name="line_village")
_Township = aliased(Place, name="line_township")
_LINES = AtOnce(select(ServiceTarget.id, ServiceTarget.name, ServiceTarget.kind,
                       ServiceTarget.contact_name, ServiceTarget.phone,
                       ServiceTarget.poverty_alleviated, ServiceTarget.monitored,
                       _Village.name, _Village.level, _Township.name)
                .select_from(ServiceTarget)
                .outerjoin(_Village, _Village.id == ServiceTarget.village_id)
                .outerjoin(_Township, _Township.id == _Village.parent_id)
                .where(ServiceTarget.id.in_(bindparam("ids", expanding=True))))


def _line(row) -> TargetRow:
    *columns, village, level, township = row
    return TargetRow(*columns, village=full_place_name(village, level, township)
                     if village is not None else None)


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the targets matching ``args`` as list lines, in the list's order."""
    found = records.paginate_ids(services.conditions(args), ORDER, page,
                                 ("target-count", tuple(sorted(args.items()))), per_page)
    lines = {row[0]: _line(row) for row in _LINES.rows(db.session, ids=found.items)} \
        if found.items else {}
    found.items = [lines[i] for i in found.items if i in lines]
    return found
