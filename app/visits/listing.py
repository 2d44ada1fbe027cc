"""Finding visits: filters combined freely from the query string, full-text search,
sorting, and keyset pagination (a page deep in the list costs what the first one does)."""
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_login import current_user
from sqlalchemy import String, bindparam, func, select, tuple_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.functions import FunctionElement

from app.core import cache, records
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.security import reading_scope, reads_narrowly
from app.models import Cluster, Commissioner, Place, ServiceTarget, Visit
from app.models.visit import visit_commissioners, visit_targets
from app.visits import search, services, vocab

FILTERS = ("q", "date_from", "date_to", "commissioner", "target", "target_name", "village",
           "cluster", "stage", "service_type", "mode", "review", "sort", "show")
COUNT_CAP = 10_000  # beyond this a list says "more than 10000": counting all costs too much
KEEP_KEYS = 1_000  # matches this few are read in order once (and remembered); pages by id
SORTS = {  # key: (column, descending, how a cursor value is read back)
    "-date": (Visit.visited_on, True, date.fromisoformat),
    "date": (Visit.visited_on, False, date.fromisoformat),
    "-number": (Visit.number, True, str),
    "-updated": (Visit.updated_at, True, datetime.fromisoformat),
}


def printable(value: str) -> str:
    """``value`` trimmed, without control characters (no text the user means has them)."""
    return "".join(c for c in value if c >= " " and c != "\x7f").strip()


def clean_args(args, may_see_deleted: bool) -> dict:
    """The known, non-empty filters of a query string (what the URL keeps), without
    control characters (a NUL broke the search: a 500)."""
    clean = {k: printable(v) for k, v in args.items() if k in FILTERS}
    clean = {k: v for k, v in clean.items() if v}
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


def filtered(args: dict, user=None, in_date_order: bool = False):
    """The select of visits matching every filter in ``args``.

    A filter on a set of visits (a commissioner's, a target's, a search's) is written
    ``id IN (the set)``, and SQLite starts from that set: quick for a few hundred, slower
    than walking the list's index when the set is large, for a page needs only 25.
    ``in_date_order`` (SQLite) writes them, and a commissioner's read scope, so that
    SQLite walks the index instead: ``paginate`` asks for it when the matches are many."""
    by_dates = in_date_order and db.engine.dialect.name == "sqlite"
    stmt = records.narrowed_to_node(services.visible(user, deleted=args.get("show") == "deleted",
                                                     scope_tested=by_dates))
    visit_id = Visit.id.concat("") if by_dates else Visit.id
    if args.get("date_from"):
        stmt = stmt.where(Visit.visited_on >= date.fromisoformat(args["date_from"]))
    if args.get("date_to"):
        stmt = stmt.where(Visit.visited_on <= date.fromisoformat(args["date_to"]))
    if args.get("commissioner"):
        stmt = stmt.where(visit_id.in_(select(visit_commissioners.c.visit_id).where(
            visit_commissioners.c.commissioner_id == args["commissioner"])))
    if args.get("target"):
        stmt = stmt.where(visit_id.in_(select(visit_targets.c.visit_id).where(
            visit_targets.c.target_id == args["target"])))
    if args.get("target_name"):
        stmt = stmt.where(visit_id.in_(select(visit_targets.c.visit_id).join(
            ServiceTarget, ServiceTarget.id == visit_targets.c.target_id).where(
            ServiceTarget.name.contains(args["target_name"], autoescape=True))))
    for key, column in (("village", Visit.village_id), ("cluster", Visit.cluster_id),
                        ("stage", Visit.stage), ("mode", Visit.mode)):
        if args.get(key):
            stmt = stmt.where(column == args[key])
    if args.get("service_type") in vocab.SERVICE_TYPES:
        stmt = stmt.where((" " + Visit.service_types + " ").contains(f" {args['service_type']} "))
    if args.get("review") in vocab.REVIEW_STATES or args.get("review") == "none":
        stmt = stmt.where(Visit.review_state == ("" if args["review"] == "none" else args["review"]))
    if args.get("q"):
        stmt = stmt.where(search.condition(args["q"], db.engine.dialect.name, visit_id))
    return stmt


@dataclass(frozen=True)
class Matches:
    """How many visits match a list's filters (up to COUNT_CAP + 1) and, when they are
    few, their sort keys ``(sort value, id)`` in the list's order."""
    total: int
    keys: list | None = None


def matches(args: dict, user=None) -> Matches:
    """The matches of ``args``, remembered until the data changes (paging through a
    list, or htmx drawing it again, asks the same question)."""
    user = user or current_user
    key = ("visit-matches", *reading_scope(user), tuple(sorted(args.items())))
    return cache.remembered(key, lambda: _matches(args, user))


def _matches(args: dict, user) -> Matches:
    """On SQLite a filter on a set of visits (a search, a commissioner's, a target's)
    starts from that set, materialised first, rather than test every visit of the node;
    when the matches are at most KEEP_KEYS their keys are read in the list's order at
    once, and each of their pages is then read by id."""
    driver = _driver(args, user) if db.engine.dialect.name == "sqlite" else None
    if driver is None:
        return Matches(_count(filtered(args, user).with_only_columns(Visit.id).order_by(None)))
    found, name = driver
    column, descending, read = SORTS[args.get("sort") or "-date"]
    base = filtered({**args, name: ""} if name else args, user)
    stmt = select(column, Visit.id).select_from(found.join(Visit, Visit.id == found.c.visit_id)) \
        .where(base.whereclause)
    order = (column.desc(), Visit.id.desc()) if descending else (column.asc(), Visit.id.asc())
    keys = sorted(((read(value), visit_id) for value, visit_id in
                   rows_at_once(db.session, stmt.order_by(*order).limit(KEEP_KEYS + 1))),
                  reverse=descending)
    if len(keys) <= KEEP_KEYS:
        return Matches(len(keys), keys)
    return Matches(_count(stmt.with_only_columns(Visit.id)))


def _driver(args: dict, user):
    """The set of visits a filter names, as a materialised CTE ``found(visit_id)``, with
    the filter's name; else a commissioner's own visits (their read scope, which the
    select's conditions still apply: the set only tells SQLite where to start), name
    None; None when neither names one."""
    if args.get("q"):
        sub, name = search.fts_ids(args["q"]), "q"
    elif args.get("commissioner"):
        sub, name = select(visit_commissioners.c.visit_id).where(
            visit_commissioners.c.commissioner_id == args["commissioner"]), "commissioner"
    elif args.get("target"):
        sub, name = select(visit_targets.c.visit_id).where(
            visit_targets.c.target_id == args["target"]), "target"
    elif reads_narrowly(user):
        sub, name = select(visit_commissioners.c.visit_id).where(
            visit_commissioners.c.commissioner_id == (user.commissioner_id or "")), None
    else:
        return None
    return sub.cte("found").prefix_with("MATERIALIZED"), name


def _count(ids) -> int:
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


PROBLEM_SHOWN = 61  # characters of the problem read for a list line: it shows 60 and "…"


class joined_names(FunctionElement):
    """SQL: the names of a group joined by the unit separator (an aggregate; SQLite's
    group_concat, PostgreSQL's string_agg)."""
    type = String()
    name = "joined_names"
    inherit_cache = True


SEPARATOR = "\x1f"


@compiles(joined_names, "sqlite")
def _group_concat(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, char(31))"


@compiles(joined_names, "postgresql")
def _string_agg(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, chr(31))"


def _names_of(table, model, column):
    """A visit's commissioners' (or targets') names, joined, as a correlated subquery:
    every list line in one row, for a page's fetch costs per row under concurrency."""
    return select(joined_names(model.name)).select_from(table.join(model, model.id == column)) \
        .where(table.c.visit_id == Visit.id).scalar_subquery()


LINE_COLUMNS = (Visit.id, Visit.number, Visit.visited_on, Visit.updated_at,
                func.substr(Visit.problem, 1, PROBLEM_SHOWN), Visit.review_state,
                Visit.deleted_at, Place.name, Cluster.name,
                _names_of(visit_commissioners, Commissioner, visit_commissioners.c.commissioner_id),
                _names_of(visit_targets, ServiceTarget, visit_targets.c.target_id))
# Built once: making a statement costs more than running it for a page of 25.
LINES_BY_ID = select(*LINE_COLUMNS).outerjoin(Place, Place.id == Visit.village_id) \
    .outerjoin(Cluster, Cluster.id == Visit.cluster_id) \
    .where(Visit.id.in_(bindparam("ids", expanding=True)))


def _rows(stmt=None, ids=None) -> list[VisitRow]:
    """List lines, of the visits of ``stmt`` (ordered and limited) or of ``ids``, in no
    particular order: one query, read at once (database.rows_at_once), for the visits
    with their village, cluster, commissioners' and targets' names."""
    if stmt is not None:
        stmt = stmt.with_only_columns(*LINE_COLUMNS, maintain_column_froms=False) \
            .select_from(Visit).outerjoin(Place, Place.id == Visit.village_id) \
            .outerjoin(Cluster, Cluster.id == Visit.cluster_id)
    else:
        stmt = LINES_BY_ID.params(ids=list(ids))
    rows = []
    for (visit_id, number, visited_on, updated_at, problem, review_state, deleted_at,
         village, cluster, commissioners, targets) in rows_at_once(db.session, stmt):
        rows.append(VisitRow(
            id=visit_id, number=number, visited_on=date.fromisoformat(visited_on),
            updated_at=datetime.fromisoformat(updated_at), review_state=review_state,
            problem=problem[:PROBLEM_SHOWN - 1] + "…" if len(problem) >= PROBLEM_SHOWN else problem,
            deleted_at=datetime.fromisoformat(deleted_at) if deleted_at else None,
            village=village, cluster=cluster,
            commissioners=sorted(commissioners.split(SEPARATOR)) if commissioners else [],
            targets=sorted(targets.split(SEPARATOR)) if targets else []))
    return rows


def _in_list_order(rows: list[VisitRow], sort: str) -> list[VisitRow]:
    column, descending, _ = SORTS[sort]
    return sorted(rows, key=lambda row: (getattr(row, column.key), row.id), reverse=descending)


def paginate(args: dict, after: str | None = None, before: str | None = None,
             last: bool = False, per_page: int | None = None) -> KeysetPage:
    """One page of the visits matching ``args``, in the chosen sort: after a cursor,
    before one, the last page, or the first. Cursors are ``<sort value>~<id>`` of the row
    at the page edge."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    sort = args.get("sort") or "-date"
    found = matches(args)
    after_key, before_key = _parse(after, sort), _parse(before, sort)
    if found.keys is not None:
        rows, is_first, is_last = _page_by_keys(found.keys, sort, after_key, before_key, last, per_page)
    else:
        rows, is_first, is_last = _page_by_query(args, sort, after_key, before_key, last, per_page)
    page = KeysetPage(items=rows, total=found.total, per_page=per_page,
                      is_first=is_first, is_last=is_last)
    if rows:
        page.next_cursor = None if is_last else _cursor(rows[-1], sort)
        page.prev_cursor = None if is_first else _cursor(rows[0], sort)
    return page


def _page_by_query(args, sort, after_key, before_key, last, per_page):
    """A page read from the database in order, one more row than shown to tell whether
    the list goes on (many matches: walking the list's index finds 25 soon)."""
    column, descending, _ = SORTS[sort]
    stmt = filtered(args, in_date_order=True)
    key = tuple_(column, Visit.id)
    backwards = bool(before_key) or last
    if after_key:
        stmt = stmt.where(key < tuple_(*after_key) if descending else key > tuple_(*after_key))
    elif before_key:
        stmt = stmt.where(key > tuple_(*before_key) if descending else key < tuple_(*before_key))
    down = descending != backwards
    order = (column.desc(), Visit.id.desc()) if down else (column.asc(), Visit.id.asc())
    rows = _in_list_order(_rows(stmt.order_by(*order).limit(per_page + 1)), sort)
    more = len(rows) > per_page
    if backwards:
        rows = rows[-per_page:] if more else rows
        return rows, not more, bool(last)
    rows = rows[:per_page]
    return rows, not after_key, not more


def _page_by_keys(keys, sort, after_key, before_key, last, per_page):
    """A page cut from the matches' keys (in list order), its visits read by id."""
    descending = SORTS[sort][1]

    def later(a, b):  # does key a come after key b in the list?
        return a < b if descending else a > b

    if after_key:
        start = next((i for i, k in enumerate(keys) if later(k, after_key)), len(keys))
    elif before_key:
        end = next((i for i, k in enumerate(keys) if not later(before_key, k)), len(keys))
        start = max(0, end - per_page)
    elif last:
        start = max(0, len(keys) - per_page)
    else:
        start = 0
    chunk = keys[start:start + per_page] if not before_key else keys[start:end]
    ids = [visit_id for _, visit_id in chunk]
    position = {visit_id: i for i, visit_id in enumerate(ids)}
    rows = sorted(_rows(ids=ids) if ids else [], key=lambda row: position[row.id])
    return rows, start == 0, start + len(chunk) >= len(keys)


def all_rows(stmt, args: dict, limit: int = 100_000):
    """Every matching visit in the chosen sort, in batches (for exports)."""
    sort = args.get("sort") or "-date"
    column, descending, _ = SORTS[sort]
    order = (column.desc(), Visit.id.desc()) if descending else (column.asc(), Visit.id.asc())
    stmt = stmt.order_by(*order).limit(limit).options(
        selectinload(Visit.commissioners), selectinload(Visit.targets),
        selectinload(Visit.village), selectinload(Visit.cluster), selectinload(Visit.station))
    return db.session.scalars(stmt.execution_options(yield_per=500))
