"""Finding visits: filters combined freely from the query string, full-text search,
sorting, and keyset pagination (a page deep in the list costs what the first one does)."""
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_login import current_user
from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.orm import selectinload

from app import cache, records
from app.extensions import db
from app.models import Cluster, Commissioner, Place, ServiceTarget, Visit
from app.models.visit import visit_commissioners, visit_targets
from app.visits import search, services, vocab

FILTERS = ("q", "date_from", "date_to", "commissioner", "target", "target_name", "village",
           "cluster", "stage", "service_type", "mode", "review", "sort", "show")
COUNT_CAP = 10_000  # beyond this a list says "more than 10000": counting all costs too much
SORTS = {  # key: (column, descending, how a cursor value is read back)
    "-date": (Visit.visited_on, True, date.fromisoformat),
    "date": (Visit.visited_on, False, date.fromisoformat),
    "-number": (Visit.number, True, str),
    "-updated": (Visit.updated_at, True, datetime.fromisoformat),
}


def clean_args(args, may_see_deleted: bool) -> dict:
    """The known, non-empty filters of a query string (what the URL keeps)."""
    clean = {k: v.strip() for k, v in args.items() if k in FILTERS and v and v.strip()}
    if clean.get("sort") not in SORTS:
        clean.pop("sort", None)
    if clean.get("show") != "deleted" or not may_see_deleted:
        clean.pop("show", None)
    if records.node_filter():
        clean["node"] = records.node_filter()
    for key in ("date_from", "date_to"):
        if key in clean:
            try:
                date.fromisoformat(clean[key])
            except ValueError:
                clean.pop(key)
    return clean


def filtered(args: dict, user=None):
    """The select of visits matching every filter in ``args``."""
    stmt = records.narrowed_to_node(services.visible(user, deleted=args.get("show") == "deleted"))
    if args.get("date_from"):
        stmt = stmt.where(Visit.visited_on >= date.fromisoformat(args["date_from"]))
    if args.get("date_to"):
        stmt = stmt.where(Visit.visited_on <= date.fromisoformat(args["date_to"]))
    if args.get("commissioner"):
        stmt = stmt.where(exists().where(visit_commissioners.c.visit_id == Visit.id,
                                         visit_commissioners.c.commissioner_id == args["commissioner"]))
    if args.get("target"):
        stmt = stmt.where(exists().where(visit_targets.c.visit_id == Visit.id,
                                         visit_targets.c.target_id == args["target"]))
    if args.get("target_name"):
        stmt = stmt.where(exists().where(
            visit_targets.c.visit_id == Visit.id, visit_targets.c.target_id == ServiceTarget.id,
            ServiceTarget.name.contains(args["target_name"], autoescape=True)))
    for key, column in (("village", Visit.village_id), ("cluster", Visit.cluster_id),
                        ("stage", Visit.stage), ("mode", Visit.mode)):
        if args.get(key):
            stmt = stmt.where(column == args[key])
    if args.get("service_type") in vocab.SERVICE_TYPES:
        stmt = stmt.where((" " + Visit.service_types + " ").contains(f" {args['service_type']} "))
    if args.get("review") in vocab.REVIEW_STATES or args.get("review") == "none":
        stmt = stmt.where(Visit.review_state == ("" if args["review"] == "none" else args["review"]))
    if args.get("q"):
        stmt = stmt.where(search.condition(args["q"], db.engine.dialect.name))
    return stmt


def count(args: dict, user=None) -> int:
    """How many visits match, up to COUNT_CAP + 1; remembered until the data changes
    (paging through a list, or htmx redrawing it, asks the same question again)."""
    user = user or current_user
    key = ("visit-count", user.node_code, services.is_commissioner(user) and user.commissioner_id,
           tuple(sorted(args.items())))
    return cache.remembered(key, lambda: _count(args, user))


def _count(args: dict, user) -> int:
    """The count itself. On SQLite it starts from the
    narrowest set it can (the full-text index, a commissioner's or a target's visits,
    materialised first), so that it does not test every visit of the node."""
    driver = None
    if db.engine.dialect.name == "sqlite":
        if args.get("q"):
            driver, key = search.fts_ids(args["q"]), "q"
        elif args.get("commissioner"):
            driver, key = select(visit_commissioners.c.visit_id).where(
                visit_commissioners.c.commissioner_id == args["commissioner"]), "commissioner"
        elif args.get("target"):
            driver, key = select(visit_targets.c.visit_id).where(
                visit_targets.c.target_id == args["target"]), "target"
    if driver is None:
        ids = filtered(args, user).with_only_columns(Visit.id).order_by(None)
    else:
        found = driver.cte("found").prefix_with("MATERIALIZED")
        base = filtered({**args, key: ""}, user)
        ids = select(Visit.id).select_from(found.join(Visit, Visit.id == found.c.visit_id)) \
            .where(base.whereclause)
    return db.session.scalar(select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery()))


@dataclass
class VisitRow:
    """What a line of the list shows of a visit, read as plain columns: a page of ORM
    visits with their relations costs several times what the page's queries do."""
    id: str
    number: str
    visited_on: date
    updated_at: datetime
    problem: str
    review_state: str
    deleted_at: datetime | None
    village: str | None
    cluster: str | None
    commissioners: list
    targets: list


@dataclass
class KeysetPage:
    items: list
    total: int
    per_page: int
    next_cursor: str | None = None
    prev_cursor: str | None = None
    is_first: bool = True
    is_last: bool = True

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


def _cursor(row: VisitRow, sort: str) -> str:
    column = SORTS[sort][0]
    value = getattr(row, column.key)
    return f"{value.isoformat() if hasattr(value, 'isoformat') else value}~{row.id}"


def _parse(cursor: str | None, sort: str):
    if not cursor or "~" not in cursor:
        return None
    value, _, visit_id = cursor.rpartition("~")
    try:
        return SORTS[sort][2](value), visit_id
    except ValueError:
        return None


PROBLEM_SHOWN = 61  # characters of the problem a list line needs (it shows 60 and "…")


def _rows(stmt) -> list[VisitRow]:
    """The visits of ``stmt`` (already ordered and limited) as list lines: one query for
    the visits with their village and cluster, one each for the names of their
    commissioners and targets."""
    stmt = stmt.with_only_columns(
        Visit.id, Visit.number, Visit.visited_on, Visit.updated_at,
        func.substr(Visit.problem, 1, PROBLEM_SHOWN), Visit.review_state, Visit.deleted_at,
        Place.name, Cluster.name, maintain_column_froms=False,
    ).select_from(Visit).outerjoin(Place, Place.id == Visit.village_id) \
        .outerjoin(Cluster, Cluster.id == Visit.cluster_id)
    rows = [VisitRow(*row, commissioners=[], targets=[]) for row in db.session.execute(stmt)]
    by_id = {row.id: row for row in rows}
    if by_id:
        for table, model, column, attribute in (
                (visit_commissioners, Commissioner, visit_commissioners.c.commissioner_id,
                 "commissioners"),
                (visit_targets, ServiceTarget, visit_targets.c.target_id, "targets")):
            names = select(table.c.visit_id, model.name).join(model, model.id == column) \
                .where(table.c.visit_id.in_(by_id)).order_by(model.name)
            for visit_id, name in db.session.execute(names):
                getattr(by_id[visit_id], attribute).append(name)
    return rows


def paginate(stmt, args: dict, after: str | None = None, before: str | None = None,
             last: bool = False, per_page: int | None = None) -> KeysetPage:
    """One page of ``stmt`` in the chosen sort: after a cursor, before one, the last
    page, or the first. Cursors are ``<sort value>~<id>`` of the row at the page edge."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    sort = args.get("sort") or "-date"
    column, descending, _ = SORTS[sort]
    total = count(args)
    key = tuple_(column, Visit.id)
    after_key, before_key = _parse(after, sort), _parse(before, sort)
    backwards = bool(before_key) or last
    if after_key:
        stmt = stmt.where(key < tuple_(*after_key) if descending else key > tuple_(*after_key))
    elif before_key:
        stmt = stmt.where(key > tuple_(*before_key) if descending else key < tuple_(*before_key))
    down = descending != backwards
    order = (column.desc(), Visit.id.desc()) if down else (column.asc(), Visit.id.asc())
    rows = _rows(stmt.order_by(*order).limit(per_page + 1))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    page = KeysetPage(items=rows, total=total, per_page=per_page)
    if rows:
        if backwards:
            page.is_first, page.is_last = not more, bool(last)
        else:
            page.is_first, page.is_last = not after_key, not more
        page.next_cursor = None if page.is_last else _cursor(rows[-1], sort)
        page.prev_cursor = None if page.is_first else _cursor(rows[0], sort)
    return page


def all_rows(stmt, args: dict, limit: int = 100_000):
    """Every matching visit in the chosen sort, in batches (for exports)."""
    sort = args.get("sort") or "-date"
    column, descending, _ = SORTS[sort]
    order = (column.desc(), Visit.id.desc()) if descending else (column.asc(), Visit.id.asc())
    stmt = stmt.order_by(*order).limit(limit).options(
        selectinload(Visit.commissioners), selectinload(Visit.targets),
        selectinload(Visit.village), selectinload(Visit.cluster), selectinload(Visit.station))
    return db.session.scalars(stmt.execution_options(yield_per=500))
