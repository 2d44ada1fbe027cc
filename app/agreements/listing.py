"""The agreement list, the home page's attention list and an agreement's ledger as plain
columns, the counts remembered until the data changes (app/core/cache.py).

A page of ORM agreements with their counterpart, cluster, parties and the parties'
commissioners cost several times what the page's queries do; a line needs a few columns.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, func, select

from app.agreements import services
from app.core import cache, records
from app.core.database import AtOnce
from app.core.extensions import db
from app.core.security import reading_scope, scoped
from app.models import Agreement, AgreementParty, Commissioner, Payout, ServiceTarget

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
    paid_fen: int = 0  # paid so far (payouts not deleted)


@dataclass
class PartyLine:
    """A commissioner party of an agreement, as its page shows it."""
    commissioner_id: str
    commissioner: str  # the commissioner's name
    share_bp: int


@dataclass
class PayoutLine:
    """A payout of the agreement's ledger, as its page shows it."""
    id: str
    paid_on: date
    kind: str
    payee_id: str
    payee: str  # the commissioner's name
    amount_fen: int
    note: str
    out_of_term_reason: str


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the agreements matching ``args`` as list lines."""
    found = records.paginate_ids(services.conditions(args), ORDER, page,
                                 ("agreement-count", date.today(), tuple(sorted(args.items()))),
                                 per_page)
    found.items = rows(found.items)
    return found


# Built once (database.AtOnce): a page's lines, with the counterpart's name and what has
# been paid so far, and the parties' names and shares.
_LINES = AtOnce(
    select(Agreement.id, Agreement.number, Agreement.title, Agreement.form, Agreement.status,
           Agreement.starts_on, Agreement.ends_on, ServiceTarget.name,
           select(func.coalesce(func.sum(Payout.amount_fen), 0))
           .where(Payout.agreement_id == Agreement.id, Payout.deleted_at.is_(None))
           .correlate(Agreement).scalar_subquery())
    .select_from(Agreement).outerjoin(ServiceTarget, ServiceTarget.id == Agreement.counterpart_id)
    .where(Agreement.id.in_(bindparam("ids", expanding=True))))
_PARTIES = AtOnce(
    select(AgreementParty.agreement_id, Commissioner.name, AgreementParty.commissioner_id,
           AgreementParty.share_bp)
    .outerjoin(Commissioner, Commissioner.id == AgreementParty.commissioner_id)
    .where(AgreementParty.agreement_id.in_(bindparam("ids", expanding=True)),
           AgreementParty.deleted_at.is_(None)))


def rows(ids: list, parties: bool = True) -> list[AgreementRow]:
    """The agreements ``ids`` as lines, in that order: one statement for the lines (with
    the counterpart's name and the fen paid so far), one for the parties' names and
    shares, each read at once (database.AtOnce)."""
    if not ids:
        return []
    by_id = {}
    for row in _LINES.rows(db.session, ids=list(ids)):
        line = by_id[row[0]] = AgreementRow(*row[:8], parties=[], paid_fen=int(row[8] or 0))
        line.starts_on = date.fromisoformat(line.starts_on) if line.starts_on else None
        line.ends_on = date.fromisoformat(line.ends_on) if line.ends_on else None
    if parties and by_id:
        for agreement_id, name, commissioner_id, share in sorted(
                _PARTIES.rows(db.session, ids=list(by_id)), key=lambda row: -(row[3] or 0)):
            by_id[agreement_id].parties.append((name or commissioner_id, share))
    return [by_id[i] for i in ids if i in by_id]


_PAYOUTS = AtOnce(
    select(Payout.id, Payout.paid_on, Payout.kind, Payout.payee_id, Commissioner.name,
           Payout.amount_fen, Payout.note, Payout.out_of_term_reason, Payout.created_at)
    .outerjoin(Commissioner, Commissioner.id == Payout.payee_id)
    .where(Payout.agreement_id == bindparam("agreement_id"), Payout.deleted_at.is_(None)))


def parties(agreement_id: str) -> list[PartyLine]:
    """The agreement's commissioner parties, largest share first, read at once."""
    found = sorted(_PARTIES.rows(db.session, ids=[agreement_id]), key=lambda row: (-(row[3] or 0), row[1] or ""))
    return [PartyLine(commissioner_id, name or commissioner_id, share)
            for _, name, commissioner_id, share in found]


def ledger(agreement_id: str) -> list[PayoutLine]:
    """The agreement's payouts in the order they were paid (those of a day in the order
    they were recorded), read at once: an agreement's page showed them as ORM payouts
    with their payees, a row of the database apiece."""
    found = sorted(_PAYOUTS.rows(db.session, agreement_id=agreement_id),
                   key=lambda row: (row[1], row[8] or "", row[0]))
    return [PayoutLine(id_, date.fromisoformat(paid_on), kind, payee_id, name or payee_id,
                       int(amount), note or "", reason or "")
            for id_, paid_on, kind, payee_id, name, amount, note, reason, _ in found]


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
