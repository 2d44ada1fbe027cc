"""The agreement list and the home page's attention list as plain columns, their counts
remembered until the data changes (app/core/cache.py).

A page of ORM agreements with their counterpart, cluster, parties and the parties'
commissioners cost several times what the page's queries do; a line needs a few columns.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.agreements import services
from app.core import cache, records
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.security import reading_scope, scoped
from app.models import Agreement, AgreementParty, Commissioner, ServiceTarget

ORDER = (Agreement.signed_on.desc().nulls_last(), Agreement.number.desc(), Agreement.id)


@dataclass
class AgreementRow:
    """What a line of the list (or of the attention list) shows of an agreement."""
    id: str
    number: str
    title: str
    form: str
    status: str
    starts_on: date | None
    ends_on: date | None
    counterpart: str | None  # the service target's name
    parties: list  # [(commissioner's name, share in basis points)], largest share first


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the agreements matching ``args`` as list lines."""
    found = records.paginate_ids(services.conditions(args), ORDER, page,
                                 ("agreement-count", date.today(), tuple(sorted(args.items()))),
                                 per_page)
    found.items = rows(found.items)
    return found


def rows(ids: list, parties: bool = True) -> list[AgreementRow]:
    """The agreements ``ids`` as lines, in that order: one query with the counterpart's
    name, one for the parties' names and shares, each read at once
    (database.rows_at_once)."""
    if not ids:
        return []
    stmt = select(Agreement.id, Agreement.number, Agreement.title, Agreement.form,
                  Agreement.status, Agreement.starts_on, Agreement.ends_on, ServiceTarget.name) \
        .select_from(Agreement).outerjoin(ServiceTarget, ServiceTarget.id == Agreement.counterpart_id) \
        .where(Agreement.id.in_(ids))
    by_id = {}
    for row in rows_at_once(db.session, stmt):
        line = by_id[row[0]] = AgreementRow(*row, parties=[])
        line.starts_on = date.fromisoformat(line.starts_on) if line.starts_on else None
        line.ends_on = date.fromisoformat(line.ends_on) if line.ends_on else None
    if parties and by_id:
        names = select(AgreementParty.agreement_id, Commissioner.name, AgreementParty.commissioner_id,
                       AgreementParty.share_bp) \
            .outerjoin(Commissioner, Commissioner.id == AgreementParty.commissioner_id) \
            .where(AgreementParty.agreement_id.in_(by_id), AgreementParty.deleted_at.is_(None))
        for agreement_id, name, commissioner_id, share in sorted(
                rows_at_once(db.session, names), key=lambda row: -(row[3] or 0)):
            by_id[agreement_id].parties.append((name or commissioner_id, share))
    return [by_id[i] for i in ids if i in by_id]


def attention(today: date | None = None, limit: int = 8) -> dict:
    """{kind: (count, the first ``limit`` agreements as lines)} for the home page,
    remembered per node and day until the data changes."""
    today = today or date.today()

    def compute():
        found = {}
        for kind in ("overdue", "ending_soon", "silent"):
            stmt = scoped(Agreement).where(services.attention_condition(kind, today))
            count = db.session.scalar(select(func.count()).select_from(
                stmt.with_only_columns(Agreement.id).subquery()))
            ids = db.session.scalars(stmt.with_only_columns(Agreement.id).order_by(
                Agreement.ends_on, Agreement.number).limit(limit)).all() if count else []
            found[kind] = (count, rows(ids, parties=False))
        return found
    return cache.remembered(("agreement-attention", *reading_scope(), today, limit), compute)
