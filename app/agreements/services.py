"""Agreement rules and writes, in one place: the life cycle (draft → signed → in force →
ended, or → terminated with a reason), the commissioner parties and their shares, and
the payout ledger (only while signed or in force, and within the term unless a reason
is given). Each ``*_errors`` function returns {field: message}; an empty dict means the
write may go ahead. Views call these and never write.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, extract, func, select
from sqlalchemy.orm import selectinload

from app.core import cache, records
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import node_scoped, reading_scope, scoped
from app.models import Agreement, AgreementParty, Cluster, Commissioner, Payout, ServiceTarget, utcnow
from app.web.options import OptionList

TRANSITIONS = {
    "draft": ("signed",),
    "signed": ("in_force", "terminated"),
    "in_force": ("ended", "terminated"),
    "ended": (),
    "terminated": (),
}
PAYABLE = ("signed", "in_force")
ENDING_SOON_DAYS = 60
SILENT_DAYS = 365


# --- the life cycle ------------------------------------------------------------------

def allowed_steps(agreement: Agreement) -> tuple[str, ...]:
    return TRANSITIONS.get(agreement.status, ())


def step_date(agreement: Agreement, to: str) -> date:
    """The date a step is proposed with: what the agreement already says, else today."""
    return {"signed": agreement.signed_on, "in_force": agreement.starts_on,
            "ended": agreement.ends_on}.get(to) or date.today()


def transition_errors(agreement: Agreement, to: str, on: date | None, reason: str) -> dict:
    """What stops ``agreement`` from moving to ``to`` on ``on``."""
    if to not in allowed_steps(agreement):
        return {"to": _l("This agreement cannot go from its present status to that one.")}
    errors = {}
    if on is None:
        return {"on": _l("Enter the date.")}
    if on > date.today():
        errors["on"] = _l("The date cannot be in the future.")
    if to == "signed":
        if not agreement.parties:
            errors["to"] = _l("Name at least one commissioner party before signing.")
        elif sum(p.share_bp for p in agreement.parties) != 10000:
            errors["to"] = _l("The commissioners' shares must add up to 100%.")
        if agreement.counterpart_id is None:
            errors["to"] = _l("Choose the service target before signing.")
    elif to == "in_force":
        if agreement.signed_on and on < agreement.signed_on:
            errors["on"] = _l("An agreement comes into force on or after its signing.")
        if agreement.ends_on and on > agreement.ends_on:
            errors["on"] = _l("An agreement comes into force before its end date.")
    elif to == "ended":
        if agreement.ends_on and on < agreement.ends_on:
            errors["on"] = _l("An agreement that stops before its end date is terminated, "
                              "with a reason.")
        if agreement.starts_on and on < agreement.starts_on:
            errors["on"] = _l("An agreement ends after it starts.")
    elif to == "terminated":
        if not (reason or "").strip():
            errors["reason"] = _l("Enter the reason for the termination.")
        if agreement.signed_on and on < agreement.signed_on:
            errors["on"] = _l("An agreement is terminated after its signing.")
    return errors


def transition(agreement: Agreement, to: str, on: date, reason: str = "") -> Agreement:
    """Move the agreement one step (the caller checked ``transition_errors``)."""
    data = {"status": to}
    if to == "signed":
        data["signed_on"] = on
    elif to == "in_force":
        data["starts_on"] = on
    elif to == "ended":
        data["ends_on"] = agreement.ends_on or on
    elif to == "terminated":
        data.update(terminated_on=on, termination_reason=reason.strip())
    return records.update(agreement, data)


# --- the agreement and its parties -----------------------------------------------------

def errors(data: dict, agreement: Agreement | None = None) -> dict:
    """Rules across fields of the agreement form: parties and shares, term, number."""
    errors = {}
    parties = data.get("parties") or []
    ids = [cid for cid, _share in parties]
    if not parties:
        errors["parties"] = _l("Name at least one commissioner party.")
    elif len(set(ids)) != len(ids):
        errors["parties"] = _l("Each commissioner is a party once.")
    elif sum(share for _cid, share in parties) != 10000:
        errors["parties"] = _l("The commissioners' shares must add up to 100%.")
    elif len(_scoped_ids(Commissioner, ids)) != len(set(ids)):
        errors["parties"] = _l("Choose commissioners from the roster.")
    if agreement is not None and not errors:
        paid = {p.payee_id for p in agreement.payouts}
        if paid - set(ids):
            errors["parties"] = _l("A commissioner who has payouts in the ledger stays a party.")
    if data.get("counterpart_id") and not _scoped_ids(ServiceTarget, [data["counterpart_id"]]):
        errors["counterpart_id"] = _l("Choose a service target from the list.")
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts and ends and ends < starts:
        errors["ends_on"] = _l("The end date cannot come before the start date.")
    if data.get("signed_on") and ends and ends < data["signed_on"]:
        errors["ends_on"] = _l("The end date cannot come before the signing date.")
    number = (data.get("number") or "").strip()
    if number:
        clash = node_scoped(Agreement).where(Agreement.number == number)
        if agreement is not None:
            clash = clash.where(Agreement.id != agreement.id)
        if db.session.scalar(select(exists(clash.subquery().select()))):
            errors["number"] = _l("Another agreement already has this number.")
    return errors


def _scoped_ids(model, ids) -> set[str]:
    if not ids:
        return set()
    return set(db.session.scalars(scoped(model).with_only_columns(model.id)
                                  .where(model.id.in_(ids))))


def next_number(owner_node: str, on: date | None = None) -> str:
    """The next paper number of the node: ``LY<year>-<sequence>``."""
    prefix = f"LY{(on or date.today()).year}-"
    taken = db.session.scalar(select(func.count()).where(
        Agreement.owner_node == owner_node, Agreement.number.startswith(prefix)))
    sequence = taken + 1
    while db.session.scalar(select(func.count()).where(
            Agreement.owner_node == owner_node, Agreement.number == f"{prefix}{sequence:04d}")):
        sequence += 1
    return f"{prefix}{sequence:04d}"


def save(agreement: Agreement | None, data: dict, owner_node: str) -> Agreement:
    """Create or update an agreement and its parties in one commit. ``data["parties"]``
    is [(commissioner id, share in basis points)]. The agreement is flushed before its
    parties so that its outbox entry comes first (sync applies parents first)."""
    data = dict(data)
    parties = data.pop("parties")
    data["number"] = (data.get("number") or "").strip() or \
        (agreement.number if agreement else next_number(owner_node, data.get("signed_on")))
    if agreement is None:
        agreement = Agreement(status="draft", owner_node=owner_node)
        db.session.add(agreement)
    records.apply(agreement, data)
    db.session.flush()
    _set_parties(agreement, parties)
    db.session.commit()
    return agreement


def _set_parties(agreement: Agreement, parties: list[tuple[str, int]]) -> None:
    """Make the live parties exactly ``parties``: shares updated in place, a removed
    party soft-deleted (a tombstone travels), a returning one restored."""
    existing = db.session.scalars(select(AgreementParty).where(
        AgreementParty.agreement_id == agreement.id)
        .order_by(AgreementParty.deleted_at.is_not(None))).all()
    by_commissioner = {}
    for party in existing:
        by_commissioner.setdefault(party.commissioner_id, party)
    for commissioner_id, share in parties:
        party = by_commissioner.pop(commissioner_id, None)
        if party is None:
            db.session.add(AgreementParty(agreement_id=agreement.id, commissioner_id=commissioner_id,
                                          share_bp=share, owner_node=agreement.owner_node))
        else:
            party.share_bp, party.deleted_at = share, None
    for party in existing:
        if party.commissioner_id in by_commissioner and party.deleted_at is None:
            party.deleted_at = utcnow()


# --- the ledger --------------------------------------------------------------------------

def payout_errors(agreement: Agreement, data: dict) -> dict:
    """What stops a payout (new or changed) from entering the ledger."""
    errors = {}
    if agreement.status not in PAYABLE:
        errors["paid_on"] = _l("Payouts are recorded only while the agreement is signed or in force.")
    if data.get("payee_id") not in {p.commissioner_id for p in agreement.parties}:
        errors["payee_id"] = _l("The payee must be one of the agreement's commissioners.")
    amount = data.get("amount_fen")
    if amount is not None and amount <= 0:
        errors["amount_fen"] = _l("The amount must be more than zero.")
    paid = data.get("paid_on")
    if paid and not errors.get("paid_on"):
        start = agreement.starts_on or agreement.signed_on
        outside = (start and paid < start) or (agreement.ends_on and paid > agreement.ends_on)
        if outside and not (data.get("out_of_term_reason") or "").strip():
            errors["out_of_term_reason"] = _l(
                "This date is outside the agreement's term: give the reason to record it anyway.")
    return errors


def same_payout(agreement: Agreement, data: dict, payout: Payout | None = None) -> Payout | None:
    """A live payout of the agreement with the same date, amount and payee as ``data``
    (other than ``payout`` itself): most likely the same payment entered twice."""
    stmt = select(Payout).where(
        Payout.agreement_id == agreement.id, Payout.deleted_at.is_(None),
        Payout.paid_on == data.get("paid_on"), Payout.amount_fen == data.get("amount_fen"),
        Payout.payee_id == data.get("payee_id"))
    if payout is not None:
        stmt = stmt.where(Payout.id != payout.id)
    return db.session.scalars(stmt.limit(1)).first()


def save_payout(agreement: Agreement, payout: Payout | None, data: dict) -> Payout:
    data = dict(data)
    start = agreement.starts_on or agreement.signed_on
    inside = not ((start and data["paid_on"] < start) or
                  (agreement.ends_on and data["paid_on"] > agreement.ends_on))
    if inside:
        data["out_of_term_reason"] = ""
    if payout is None:
        return records.create(Payout(agreement_id=agreement.id), data,
                              owner_node=agreement.owner_node)
    return records.update(payout, data)


def payout_of(agreement: Agreement, payout_id: str) -> Payout | None:
    return db.session.scalar(scoped(Payout).where(Payout.id == payout_id,
                                                  Payout.agreement_id == agreement.id))


def _live_payouts():
    """Payouts that count: live, of a live agreement."""
    return (select(Payout).join(Agreement, Agreement.id == Payout.agreement_id)
            .where(Payout.deleted_at.is_(None), Agreement.deleted_at.is_(None)))


def totals_by_year(payouts) -> list[tuple[int, int]]:
    """[(year, fen)] of an agreement's payouts (its ledger), oldest year first."""
    totals: dict[int, int] = {}
    for payout in payouts:
        totals[payout.paid_on.year] = totals.get(payout.paid_on.year, 0) + payout.amount_fen
    return sorted(totals.items())


def totals_by_payee(payouts) -> list[tuple[str, int, int]]:
    """[(payee, year, fen)] of an agreement's payouts (its ledger) by payee and year, by
    the payee's name; ``payee`` is what the payout names (a name, or a Commissioner)."""
    totals: dict[tuple, int] = {}
    people = {}
    for payout in payouts:
        key = (payout.payee_id, payout.paid_on.year)
        totals[key] = totals.get(key, 0) + payout.amount_fen
        people[payout.payee_id] = payout.payee
    return sorted(((people[person], year, total) for (person, year), total in totals.items()),
                  key=lambda r: (str(r[0]), r[1]))


def paid_totals(agreement_ids) -> dict[str, int]:
    """{agreement id: fen paid so far} for the given agreements."""
    ids = list(agreement_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Payout.agreement_id, func.sum(Payout.amount_fen)).where(
        Payout.agreement_id.in_(ids), Payout.deleted_at.is_(None))
        .group_by(Payout.agreement_id)).all()
    return {aid: int(total) for aid, total in rows}


@dataclass
class PartyTo:
    """An agreement as a commissioner's page lists it."""
    id: str
    number: str
    title: str
    counterpart: str | None  # the service target's name
    status: str


def commissioner_summary(commissioner: Commissioner) -> dict:
    """The commissioner's live agreements and what was paid to them, by year, remembered
    until the data changes (app/core/cache.py): two statements built and read on every
    view took a quarter of the commissioner's page."""
    return cache.remembered(("commissioner-agreements", commissioner.id, *reading_scope()),
                            lambda: _commissioner_summary(commissioner.id))


def _commissioner_summary(commissioner_id: str) -> dict:
    """The agreements as lines (a few columns, read at once, numbered in the database's
    order): 24 ORM agreements with their counterparts cost more than the rest of the page."""
    order = (Agreement.signed_on.desc(), Agreement.number)
    stmt = scoped(Agreement).where(Agreement.id.in_(
        select(AgreementParty.agreement_id).where(
            AgreementParty.commissioner_id == commissioner_id,
            AgreementParty.deleted_at.is_(None)))) \
        .outerjoin(ServiceTarget, ServiceTarget.id == Agreement.counterpart_id) \
        .with_only_columns(Agreement.id, Agreement.number, Agreement.title, ServiceTarget.name,
                           Agreement.status, func.row_number().over(order_by=order))
    agreements = [PartyTo(*row[:-1]) for row in
                  sorted(rows_at_once(db.session, stmt), key=lambda row: row[-1])]
    year = extract("year", Payout.paid_on)
    stmt = (_live_payouts().with_only_columns(year, func.sum(Payout.amount_fen))
            .where(Payout.payee_id == commissioner_id).group_by(year))
    by_year = sorted((int(y), int(total)) for y, total in rows_at_once(db.session, stmt))
    return {"agreements": agreements, "by_year": by_year,
            "total": sum(total for _y, total in by_year)}


# --- the attention list and finding ---------------------------------------------------------

def attention_condition(kind: str, today: date | None = None):
    """The SQL condition for one kind of agreement that needs attention."""
    today = today or date.today()
    if kind == "ending_soon":
        return (Agreement.status.in_(PAYABLE) & (Agreement.ends_on >= today)
                & (Agreement.ends_on <= today + timedelta(days=ENDING_SOON_DAYS)))
    if kind == "overdue":
        return (Agreement.status == "in_force") & (Agreement.ends_on < today)
    if kind == "silent":
        year_ago = today - timedelta(days=SILENT_DAYS)
        recent = select(Payout.id).where(Payout.agreement_id == Agreement.id,
                                         Payout.deleted_at.is_(None), Payout.paid_on > year_ago)
        return ((Agreement.status == "in_force")
                & (func.coalesce(Agreement.starts_on, Agreement.signed_on) <= year_ago)
                & ~exists(recent))
    raise ValueError(kind)


def filtered(args: dict):
    """The list's select for the filters in ``args`` (the query string), agreements
    with their relations loaded, in the list's order (for exports)."""
    return conditions(args).options(
        selectinload(Agreement.counterpart), selectinload(Agreement.cluster),
        selectinload(Agreement.parties).selectinload(AgreementParty.commissioner)
    ).order_by(Agreement.signed_on.desc().nulls_last(), Agreement.number.desc(), Agreement.id)


def conditions(args: dict):
    """The select of the agreements matching the filters in ``args``, unordered."""
    stmt = scoped(Agreement, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        for word in records.search_words(q):  # every word, each in one of these
            people = select(AgreementParty.agreement_id).join(Commissioner).where(
                AgreementParty.deleted_at.is_(None), records.matching(word, Commissioner.name))
            targets = select(ServiceTarget.id).where(records.matching(word, ServiceTarget.name))
            stmt = stmt.where(records.matching(word, Agreement.number, Agreement.title)
                              | Agreement.id.in_(people) | Agreement.counterpart_id.in_(targets))
    for key, column in (("status", Agreement.status), ("form", Agreement.form),
                        ("cluster", Agreement.cluster_id), ("counterpart", Agreement.counterpart_id)):
        if args.get(key):
            stmt = stmt.where(column == args[key])
    if args.get("commissioner"):
        stmt = stmt.where(Agreement.id.in_(select(AgreementParty.agreement_id).where(
            AgreementParty.commissioner_id == args["commissioner"],
            AgreementParty.deleted_at.is_(None))))
    year = str(args.get("year") or "")
    if year.isdigit() and 1900 < int(year) < 3000:
        stmt = stmt.where(Agreement.signed_on >= date(int(year), 1, 1),
                          Agreement.signed_on < date(int(year) + 1, 1, 1))
    if args.get("attention") == "any":
        stmt = stmt.where(attention_condition("overdue") | attention_condition("ending_soon")
                          | attention_condition("silent"))
    elif args.get("attention") in ("ending_soon", "silent", "overdue"):
        stmt = stmt.where(attention_condition(args["attention"]))
    return stmt


def filter_options() -> dict:
    """What the list's filters offer, as OptionLists: clusters, commissioners who are
    parties, counterparts and signing years in use (remembered until the data changes)."""
    return cache.remembered(("agreement-filters", *reading_scope()), _read_filter_options)


def _read_filter_options() -> dict:
    party_ids = select(AgreementParty.commissioner_id).where(AgreementParty.deleted_at.is_(None))
    counterpart_ids = scoped(Agreement).with_only_columns(Agreement.counterpart_id)
    years = db.session.scalars(scoped(Agreement).with_only_columns(
        extract("year", Agreement.signed_on)).where(Agreement.signed_on.is_not(None)).distinct())
    return {
        "clusters": OptionList(db.session.execute(scoped(Cluster).with_only_columns(
            Cluster.id, Cluster.name).order_by(Cluster.sort_order))),
        "commissioners": OptionList(db.session.execute(scoped(Commissioner).with_only_columns(
            Commissioner.id, Commissioner.name).where(Commissioner.id.in_(party_ids))
            .order_by(Commissioner.name))),
        "counterparts": OptionList(db.session.execute(scoped(ServiceTarget).with_only_columns(
            ServiceTarget.id, ServiceTarget.name).where(ServiceTarget.id.in_(counterpart_ids))
            .order_by(ServiceTarget.name))),
        "years": OptionList((y, y) for y in sorted({int(y) for y in years}, reverse=True)),
    }
