"""What each role's home page shows, read from the records (never written here).

- a commissioner: my visits this month and this year, and the follow-ups due (a visit
  marked for follow-up whose date is within ``FOLLOW_UP_DAYS`` or past, until a later
  visit to one of the same service targets exists);
- station staff and admins: this year's figures against last year's (the standard
  reports' totals, so the two never disagree), trainings still planned after their date,
  visits the league marked as having issues, and the sync state;
- a league or region: each enrolled node's last sync and what it reported waiting,
  this year's figures per node below, and the assessment sheets awaiting its review.
A commissioner also sees their latest assessment sheet; a station its proposed exits.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from app.assessments import services as assessments
from app.core import cache
from app.core.extensions import db
from app.core.security import can, reading_scope, scoped
from app.models import Training, Visit
from app.models.visit import visit_commissioners, visit_targets
from app.reports import services as reports
from app.reports.params import ReportError
from app.sync import peers

FOLLOW_UP_DAYS = 7
SHOWN = 8  # lines listed per section; the count says how many in all


@dataclass
class Figure:
    """One figure of this year beside last year's."""
    key: str
    label: str
    this_year: float
    last_year: float
    kind: str = "int"

    @property
    def change(self) -> float:
        return self.this_year - self.last_year


YEAR_FIGURES = (("services", "visits"), ("services", "service_days"),
                ("services", "commissioners"), ("services", "targets"),
                ("trainings", "sessions"), ("trainings", "people"),
                ("agreements", "agreements"), ("agreements", "payout_fen"))


def year_figures(user, today: date) -> list[Figure]:
    """This year's totals of the standard reports beside last year's, for the user's
    own node (a commissioner's: their own records)."""
    totals = {}
    for year in (today.year, today.year - 1):
        for name in dict.fromkeys(report for report, _key in YEAR_FIGURES):
            try:
                report = reports.build(name, {"year": str(year), "by": "node"}, user)
            except ReportError:
                return []
            for column in report.columns:
                totals[(year, name, column.key)] = (column, report.totals.get(column.key) or 0)
    figures = []
    for name, key in YEAR_FIGURES:
        column, now = totals[(today.year, name, key)]
        figures.append(Figure(key, str(column.label), now, totals[(today.year - 1, name, key)][1],
                              column.kind))
    return figures


def _mine(commissioner_id: str):
    return Visit.id.in_(select(visit_commissioners.c.visit_id).where(
        visit_commissioners.c.commissioner_id == commissioner_id))


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Visit.id).subquery())) or 0


def my_visit_counts(user, today: date) -> dict:
    """{"month": n, "year": n}: the user's own live visits in this month and year
    (remembered until the data changes, app/core/cache.py)."""
    def counts():
        mine = scoped(Visit, user).where(_mine(user.commissioner_id or ""))
        return {"month": _count(mine.where(Visit.visited_on >= today.replace(day=1),
                                           Visit.visited_on <= today)),
                "year": _count(mine.where(Visit.visited_on >= date(today.year, 1, 1),
                                          Visit.visited_on <= today))}
    return cache.remembered(("home-my-visits", *reading_scope(user), today), counts)


def _followed_up():
    """True for a visit when a later live visit served one of its service targets."""
    first, second = aliased(visit_targets), aliased(visit_targets)
    later = aliased(Visit)
    return exists(select(1).select_from(first)
                  .join(second, second.c.target_id == first.c.target_id)
                  .join(later, and_(later.id == second.c.visit_id, later.deleted_at.is_(None)))
                  .where(first.c.visit_id == Visit.id, later.visited_on > Visit.visited_on))


def follow_ups_due(user, today: date, limit: int = SHOWN) -> tuple[int, list[Visit]]:
    """The user's visits whose follow-up is due within ``FOLLOW_UP_DAYS`` or overdue and
    not yet done, earliest first: (how many in all, the first ``limit``)."""
    return _first(("home-follow-ups", today), user, Visit, lambda: scoped(Visit, user).where(
        _mine(user.commissioner_id or ""), Visit.follow_up.is_(True),
        Visit.follow_up_on.is_not(None),
        Visit.follow_up_on <= today + timedelta(days=FOLLOW_UP_DAYS), ~_followed_up()),
        (Visit.follow_up_on, Visit.number), limit)


def _first(key: tuple, user, model, selected, order: tuple, limit: int) -> tuple[int, list]:
    """(how many records ``selected()`` selects, the first ``limit`` in
    ``order``). The count and the ids are remembered until the data changes
    (app/core/cache.py): counting a busy commissioner's follow-ups or a county's visits
    with issues takes tens of ms, and building the first's select a few."""
    def found():
        stmt = selected()
        count = db.session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(model.id).subquery())) or 0
        return count, db.session.scalars(stmt.with_only_columns(model.id).order_by(*order)
                                         .limit(limit)).all() if count else []
    count, ids = cache.remembered((*key, *reading_scope(user), limit), found)
    records = {r.id: r for r in db.session.scalars(select(model).where(model.id.in_(ids)))} \
        if ids else {}
    return count, [records[i] for i in ids if i in records]


def trainings_past_their_date(user, today: date, limit: int = SHOWN) -> tuple[int, list]:
    """Sessions still marked planned whose date has passed: held (record it) or cancelled."""
    return _first(("home-late-trainings", today), user, Training, lambda: scoped(Training, user).where(
        Training.status == "planned", Training.held_on < today), (Training.held_on,), limit)


def visits_with_issues(user, limit: int = SHOWN) -> tuple[int, list[Visit]]:
    """Visits the league's review marked as having issues, latest first."""
    return _first(("home-visit-issues",), user, Visit, lambda: scoped(Visit, user).where(
        Visit.review_state == "has_issues"), (Visit.visited_on.desc(), Visit.number.desc()), limit)


def downstream_nodes() -> list:
    """The enrolled nodes, with when each last synced and what it reported waiting."""
    return [peer for peer in peers.all_peers() if peer.revoked_at is None]


def figures_by_node(user, today: date):
    """This year's services report broken down by the nodes one level below (or None)."""
    try:
        return reports.build("services", {"year": str(today.year), "by": "node"}, user)
    except ReportError:
        return None


def my_sheet(user):
    """The commissioner's latest assessment sheet (their own only), or None."""
    sheets = assessments.own_sheets(user)
    return sheets[0] if sheets else None


def sheets_awaiting_review(user) -> list:
    """Submitted sheets of the user's subtree that wait for a grade (reviewers only)."""
    if not can("grade_assessments", user):
        return []
    return [sheet for sheet in assessments.to_review(None, user) if sheet.status == "submitted"]


def proposed_exits(user) -> list:
    """Commissioners graded 不合格 who have not exited: a person decides."""
    return assessments.proposed_exits(user)
