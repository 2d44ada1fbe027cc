"""The commissioner list as plain lines: a page's ids (records.paginate_ids, the count
remembered until the data changes), then their lines and their clusters' names, each in
one statement built once and read at once.

A page of 25 ORM commissioners (thirty columns each, with their clusters as records)
cost more than the rest of the page; a line needs a few columns.
"""
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.commissioners import services
from app.core import records
from app.core.database import AtOnce
from app.core.extensions import db
from app.models import Commissioner

ORDER = (Commissioner.name, Commissioner.id)


@dataclass
class CommissionerRow:
    """What a line of the list shows of a commissioner."""
    id: str
    name: str
    kind: str
    level: str
    sending_org: str
    phone: str
    status: str
    three_areas_talent: bool
    hotline_expert: bool
    clusters: list  # the names of their industry clusters, in the clusters' order


_LINES = AtOnce(select(Commissioner.id, Commissioner.name, Commissioner.kind, Commissioner.level,
                       Commissioner.sending_org, Commissioner.phone, Commissioner.status,
                       Commissioner.three_areas_talent, Commissioner.hotline_expert)
                .where(Commissioner.id.in_(bindparam("ids", expanding=True))))


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the commissioners matching ``args`` as list lines, in the list's order."""
    found = records.paginate_ids(services.conditions(args), ORDER, page,
                                 ("commissioner-count", tuple(sorted(args.items()))), per_page)
    if not found.items:
        return found
    clusters = services.cluster_names(found.items)
    lines = {row[0]: CommissionerRow(*row, clusters=clusters[row[0]])
             for row in _LINES.rows(db.session, ids=found.items)}
    found.items = [lines[i] for i in found.items if i in lines]
    return found
