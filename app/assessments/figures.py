"""A commissioner's year in figures, computed from the records with grouped SQL: one
query per kind of record for every commissioner of a page at once.

Counted: live records only (deleted visits, trainings, agreements, payouts, targets
are not), of the node's subtree, dated within the year (1 January to 31 December,
both days included):
- visits the commissioner is among the commissioners of (by ``visited_on``): visits,
  service days (distinct dates), hours, villages (distinct), technologies and varieties
  (the visits' counts), service targets (distinct live ones) and of them 脱贫户/监测户;
- sessions held (status held) they trained at (by ``held_on``), and the people trained
  there (the roster when there is one, else the head counts: app/trainings/figures.py);
- agreements in force during the year that they are a live party to: in force, ended or
  terminated; started (or signed) by 31 December, or undated; not ended (or terminated)
  before 1 January;
- payouts paid to them in the year, in fen.
"""
from collections import defaultdict
from datetime import date

from sqlalchemy import case, distinct, func, or_, select

from app.assessments.vocab import FIGURES
from app.core.extensions import db
from app.core.node import subtree
from app.models import Agreement, AgreementParty, Payout, ServiceTarget, Training, Visit
from app.models.training import training_trainers
from app.models.visit import visit_commissioners, visit_targets
from app.trainings import figures as training_figures


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _empty() -> dict:
    return {key: 0 for key in FIGURES}


def _among(column, ids: list[str]):
    """``column IN ids``. For more than a few ids it is written as an expression, which
    no index answers: SQLite then walks the year's visits and tests each one's links,
    instead of looking up every (visit, commissioner) pair (a page of 25: 2x, a county's
    150: 3x faster). For a few (a sheet's one) the commissioner's index is the way in."""
    return column.concat("").in_(ids) if len(ids) > 10 else column.in_(ids)


def commissioner_figures(year: int, ids: list[str], node: str) -> dict[str, dict]:
    """{commissioner id: {figure: number}} for the year, over ``node``'s subtree."""
    first, last = year_bounds(year)
    result = {cid: _empty() for cid in ids}
    if not ids:
        return result
    vc = visit_commissioners.c
    live_visit = [Visit.deleted_at.is_(None), Visit.visited_on.between(first, last),
                  subtree(Visit.owner_node, node)]
    for cid, visits, days, hours, villages, tech, varieties in db.session.execute(
            select(vc.commissioner_id, func.count(distinct(Visit.id)),
                   func.count(distinct(Visit.visited_on)), func.sum(Visit.hours),
                   func.count(distinct(Visit.village_id)), func.sum(Visit.technology_count),
                   func.sum(Visit.variety_count))
            .join(Visit, Visit.id == vc.visit_id)
            .where(_among(vc.commissioner_id, ids), *live_visit).group_by(vc.commissioner_id)):
        row = result[cid]
        row.update(visits=visits, service_days=days, hours=round(float(hours or 0), 2),
                   villages=villages, technologies=int(tech or 0),
                   varieties=int(varieties or 0))
        row["technologies_varieties"] = row["technologies"] + row["varieties"]
    priority = case((or_(ServiceTarget.poverty_alleviated.is_(True),
                         ServiceTarget.monitored.is_(True)), ServiceTarget.id))
    vt = visit_targets.c
    for cid, targets, poor in db.session.execute(
            select(vc.commissioner_id, func.count(distinct(ServiceTarget.id)),
                   func.count(distinct(priority)))
            .join(Visit, Visit.id == vc.visit_id)
            .join(visit_targets, vt.visit_id == Visit.id)
            .join(ServiceTarget, ServiceTarget.id == vt.target_id)
            .where(_among(vc.commissioner_id, ids), ServiceTarget.deleted_at.is_(None), *live_visit)
            .group_by(vc.commissioner_id)):
        result[cid].update(targets=targets, priority_targets=poor)
    tt = training_trainers.c
    sessions = defaultdict(list)
    for cid, training_id in db.session.execute(
            select(tt.commissioner_id, tt.training_id)
            .join(Training, Training.id == tt.training_id)
            .where(tt.commissioner_id.in_(ids), Training.deleted_at.is_(None),
                   Training.status == "held", Training.held_on.between(first, last),
                   subtree(Training.owner_node, node))):
        sessions[cid].append(training_id)
    all_ids = sorted({t for found in sessions.values() for t in found})
    trainings = db.session.scalars(select(Training).where(Training.id.in_(all_ids))).all() \
        if all_ids else []
    people = {t: f.total for t, f in training_figures.for_sessions(trainings).items()}
    for cid, found in sessions.items():
        result[cid].update(trainings=len(found), people_trained=sum(people[t] for t in found))
    start = func.coalesce(Agreement.starts_on, Agreement.signed_on)
    end = func.coalesce(Agreement.terminated_on, Agreement.ends_on)
    for cid, agreements in db.session.execute(
            select(AgreementParty.commissioner_id, func.count(distinct(Agreement.id)))
            .join(Agreement, Agreement.id == AgreementParty.agreement_id)
            .where(AgreementParty.commissioner_id.in_(ids), AgreementParty.deleted_at.is_(None),
                   Agreement.deleted_at.is_(None),
                   Agreement.status.in_(("in_force", "ended", "terminated")),
                   or_(start.is_(None), start <= last), or_(end.is_(None), end >= first),
                   subtree(Agreement.owner_node, node))
            .group_by(AgreementParty.commissioner_id)):
        result[cid]["agreements"] = agreements
    for cid, fen in db.session.execute(
            select(Payout.payee_id, func.sum(Payout.amount_fen))
            .join(Agreement, Agreement.id == Payout.agreement_id)
            .where(Payout.payee_id.in_(ids), Payout.deleted_at.is_(None),
                   Agreement.deleted_at.is_(None), Payout.paid_on.between(first, last),
                   subtree(Payout.owner_node, node))
            .group_by(Payout.payee_id)):
        result[cid]["payouts_fen"] = int(fen or 0)
    return result


def station_figures(year: int, stations: list) -> dict[str, dict]:
    """{station id: {figure: number}} for the year: the records of the station's node
    (its ``owner_node``), counted as for a commissioner; service days are distinct
    (commissioner, date) pairs; sites are the station's live sites by kind; the share
    of 脱贫户/监测户 is of the distinct live targets served, in per cent (one decimal)."""
    from app.assessments.vocab import STATION_FIGURES
    from app.models import Commissioner, Site
    first, last = year_bounds(year)
    result = {s.id: {key: 0 for key in STATION_FIGURES} for s in stations}
    by_node = defaultdict(list)
    for station in stations:
        by_node[station.owner_node].append(station.id)
    nodes = list(by_node)
    if not nodes:
        return result

    def spread(rows, names):
        for node, *values in rows:
            for station_id in by_node.get(node, ()):
                result[station_id].update({n: v or 0 for n, v in zip(names, values, strict=True)})

    started = func.coalesce(Commissioner.dispatched_on, Commissioner.recognised_on)
    spread(db.session.execute(
        select(Commissioner.owner_node, func.count(Commissioner.id))
        .where(Commissioner.owner_node.in_(nodes), Commissioner.deleted_at.is_(None),
               or_(started.is_(None), started <= last),
               or_(Commissioner.exited_on.is_(None), Commissioner.exited_on >= first))
        .group_by(Commissioner.owner_node)), ("commissioners",))
    live_visit = [Visit.deleted_at.is_(None), Visit.visited_on.between(first, last),
                  Visit.owner_node.in_(nodes)]
    spread(db.session.execute(select(Visit.owner_node, func.count(Visit.id))
                              .where(*live_visit).group_by(Visit.owner_node)), ("visits",))
    vc = visit_commissioners.c
    pairs = select(Visit.owner_node.label("node"), vc.commissioner_id, Visit.visited_on) \
        .join(Visit, Visit.id == vc.visit_id).where(*live_visit).distinct().subquery()
    spread(db.session.execute(select(pairs.c.node, func.count()).group_by(pairs.c.node)),
           ("service_days",))
    priority = case((or_(ServiceTarget.poverty_alleviated.is_(True),
                         ServiceTarget.monitored.is_(True)), ServiceTarget.id))
    vt = visit_targets.c
    spread(db.session.execute(
        select(Visit.owner_node, func.count(distinct(ServiceTarget.id)), func.count(distinct(priority)))
        .join(visit_targets, vt.visit_id == Visit.id)
        .join(ServiceTarget, ServiceTarget.id == vt.target_id)
        .where(ServiceTarget.deleted_at.is_(None), *live_visit).group_by(Visit.owner_node)),
        ("targets", "priority_targets"))
    held = db.session.scalars(select(Training).where(
        Training.owner_node.in_(nodes), Training.deleted_at.is_(None), Training.status == "held",
        Training.held_on.between(first, last))).all()
    people = training_figures.for_sessions(held)
    sessions = defaultdict(lambda: [0, 0])
    for training in held:
        sessions[training.owner_node][0] += 1
        sessions[training.owner_node][1] += people[training.id].total
    spread(((node, n, p) for node, (n, p) in sessions.items()), ("trainings", "people_trained"))
    kinds = {"trial_station": "trial_stations", "industry_base": "industry_bases",
             "service_point": "service_points"}
    for station_id, kind, n in db.session.execute(
            select(Site.station_id, Site.kind, func.count(Site.id))
            .where(Site.station_id.in_([s.id for s in stations]), Site.deleted_at.is_(None))
            .group_by(Site.station_id, Site.kind)):
        if kind in kinds:
            result[station_id][kinds[kind]] = n
    start = func.coalesce(Agreement.starts_on, Agreement.signed_on)
    end = func.coalesce(Agreement.terminated_on, Agreement.ends_on)
    spread(db.session.execute(
        select(Agreement.owner_node, func.count(Agreement.id))
        .where(Agreement.owner_node.in_(nodes), Agreement.deleted_at.is_(None),
               Agreement.status.in_(("in_force", "ended", "terminated")),
               or_(start.is_(None), start <= last), or_(end.is_(None), end >= first))
        .group_by(Agreement.owner_node)), ("agreements",))
    spread(db.session.execute(
        select(Payout.owner_node, func.sum(Payout.amount_fen))
        .join(Agreement, Agreement.id == Payout.agreement_id)
        .where(Payout.owner_node.in_(nodes), Payout.deleted_at.is_(None),
               Agreement.deleted_at.is_(None), Payout.paid_on.between(first, last))
        .group_by(Payout.owner_node)), ("payouts_fen",))
    for row in result.values():
        row["payouts_fen"] = int(row["payouts_fen"])
        row["priority_share"] = round(100 * row["priority_targets"] / row["targets"], 1) \
            if row["targets"] else 0
    return result
