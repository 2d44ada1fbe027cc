"""Writes and reads shared by every record type: create, update, soft delete and
restore (the audit and outbox entries follow from app/core/history.py), history, search and
pagination. Area services call these; views never write."""
import json
import math
from dataclasses import dataclass
from datetime import datetime

from flask import abort, current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.sql import visitors
from sqlalchemy.sql.util import ClauseAdapter

from app.core import attachments, cache
from app.core.database import AtOnce, rows_at_once
from app.core.extensions import db
from app.core.node import subtree
from app.core.security import may_write, reading_scope
from app.models import AuditEntry, NumberCounter, utcnow


def create(record, data: dict, owner_node: str | None = None):
    """Add a new record with ``data`` and commit (record, audit and outbox together)."""
    apply(record, data)
    record.owner_node = owner_node or current_user.node_code
    _check_writable(record, [key for key, value in data.items() if value not in (None, "", [])])
    db.session.add(record)
    db.session.commit()
    return record


def update(record, data: dict):
    _check_writable(record, data)
    apply(record, data)
    db.session.commit()
    return record


def apply(record, data: dict) -> None:
    for key, value in data.items():
        setattr(record, key, value)


def soft_delete(record) -> None:
    _check_writable(record, ("deleted_at",))
    record.deleted_at = utcnow()
    db.session.commit()


def restore(record) -> None:
    _check_writable(record, ("deleted_at",))
    record.deleted_at = None
    db.session.commit()


def attach(record, upload, kind: str = "photo", caption: str = ""):
    """Attach an uploaded file to ``record`` and commit (the attachment, its audit and
    outbox entries together); refused like an edit of the record. Raises
    ``attachments.AttachmentError`` (nothing written) for a file that is not what it says."""
    _check_writable(record, ())
    try:
        attachment = attachments.add(record, upload, kind, caption)
    except attachments.AttachmentError:
        db.session.rollback()
        raise
    db.session.commit()
    return attachment


def _check_writable(record, fields) -> None:
    """403 for a change the user's node may not make: to a record outside its subtree,
    or to a field it does not author (app/core/authority.py; the flush checks it again)."""
    if has_request_context() and current_user.is_authenticated \
            and not may_write(record, fields):
        abort(403)


def allocate(kind: str, owner_node: str, year: int, taken, largest) -> int:
    """The next sequence of ``kind`` for ``owner_node`` in ``year``, taken in the current
    transaction (commit it soon: writers of the same node wait until then).

    The counter row is created if missing and then updated, which locks it: a
    PostgreSQL row lock, SQLite's write lock (the update is the transaction's first
    write). Records written without it (the demo seed, an import) can leave the counter
    behind: ``taken(sequence)`` says whether a sequence is in use, and then the counter
    jumps past ``largest()``, the largest sequence in use."""
    key = {"kind": kind, "owner_node": owner_node, "year": year}
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(NumberCounter).values(**key, last=0).on_conflict_do_nothing())
    row = NumberCounter.__table__.c
    where = (row.kind == kind, row.owner_node == owner_node, row.year == year)
    sequence = db.session.execute(sql_update(NumberCounter.__table__).where(*where)
                                  .values(last=row.last + 1).returning(row.last)).scalar_one()
    if taken(sequence):
        sequence = (largest() or 0) + 1
        db.session.execute(sql_update(NumberCounter.__table__).where(*where).values(last=sequence))
    return sequence


@dataclass
class HistoryEntry:
    """An audit entry as a record's page shows it."""
    id: int
    action: str
    version: int | None
    changes: dict  # field: [old, new]
    actor: str
    at: datetime


_HISTORY = AtOnce(
    select(AuditEntry.id, AuditEntry.action, AuditEntry.version, AuditEntry.changes,
           AuditEntry.actor, AuditEntry.at)
    .where(AuditEntry.record_type == bindparam("record_type"),
           AuditEntry.record_id == bindparam("record_id")))


def history(record) -> list[HistoryEntry]:
    """The record's audit entries, newest first, read at once (database.AtOnce): a
    record edited twenty times cost twenty-one steps of the database as ORM entries."""
    found = _HISTORY.rows(db.session, record_type=record.__tablename__, record_id=str(record.id))
    return [HistoryEntry(id_, action, version,
                         changes if isinstance(changes, dict) else json.loads(changes or "{}") or {},
                         actor, datetime.fromisoformat(at))
            for id_, action, version, changes, actor, at in sorted(found, key=lambda row: -row[0])]


def matching(q: str, *columns):
    """A condition: any of the columns contains the text ``q`` (LIKE, escaped)."""
    return or_(*(column.contains(q, autoescape=True) for column in columns))


MAX_WORDS = 8


def search_words(q: str) -> list[str]:
    """The words of a search, split at spaces (full-width ones too), each once, at most
    MAX_WORDS: a record matches when it contains every one of them."""
    return list(dict.fromkeys((q or "").split()))[:MAX_WORDS]


def matching_all(q: str, *columns):
    """A condition: each word of ``q`` is in one of the columns (not necessarily the same)."""
    return and_(*(matching(word, *columns) for word in search_words(q) or [q]))


def node_filter() -> str | None:
    """The ``?node=`` of a list page: a node below the user's, whose records alone a
    league or region user wants to see (the same list pages serve every county)."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    code = request.args.get("node", "")
    mine = current_user.node_code
    if not code or code == mine or not (code.startswith(mine) and "-" not in mine):
        return None
    return code


def narrowed_to_node(stmt: Select) -> Select:
    code = node_filter()
    entity = stmt.column_descriptions[0].get("entity") if stmt.column_descriptions else None
    if code and entity is not None and hasattr(entity, "owner_node"):
        stmt = stmt.where(subtree(entity.owner_node, code))
    return stmt


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page: int, per_page: int | None = None) -> Page:
    """One page of a select, with the total count; a page past the end shows the last."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    stmt = narrowed_to_node(stmt)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)


def paginate_ids(stmt: Select, order, page: int, key: tuple, per_page: int | None = None) -> Page:
    """One page of the ids of ``stmt``'s records (a select of one model, unordered) in
    ``order``, with the total count; a page past the end shows the last. The count is
    remembered until the data changes under ``key`` (which must name the list and hold
    its filters; the user's node and the ``?node=`` narrowing are added here). A list
    then reads the lines of these ids as it needs: a deep page skips index entries, not
    joined rows."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    stmt = narrowed_to_node(stmt)
    entity = stmt.column_descriptions[0]["entity"]
    ids = stmt.with_only_columns(entity.id)
    total = cache.remembered(
        (*key, *reading_scope(), node_filter()),
        lambda: db.session.scalar(select(func.count()).select_from(ids.order_by(None).subquery())))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    offset = (page - 1) * per_page
    numbered = _numbered_page(ids, order, per_page, offset) if offset >= CUT_FIRST_FROM else \
        ids.add_columns(func.row_number().over(order_by=order)).order_by(*order) \
        .limit(per_page).offset(offset)
    items = [row[0] for row in sorted(rows_at_once(db.session, numbered), key=lambda row: row[1])]
    return Page(items=items, page=page, per_page=per_page, total=total)


# From how many rows skipped a page is cut before its rows are numbered. A page read at
# once comes in no particular order, so its rows carry their position. Numbered as the
# database steps through the list, each row skipped costs about 3 µs (page 100 of 3,000
# sessions: 7 ms); cut first, 0.6 µs (1.6 ms), but the statement, twice the size, takes
# 0.7 ms more to build and key. (bench/page_profile.py, "training list, page 100".)
CUT_FIRST_FROM = 250


def _numbered_page(ids: Select, order, limit: int, offset: int) -> Select:
    """(id, position) of the rows of ``ids`` from ``offset`` in ``order``, ``limit`` of
    them: the page is cut first (with the columns the order needs), then only its rows
    are numbered."""
    clauses = [o.__clause_element__() if hasattr(o, "__clause_element__") else o for o in order]
    needed = []
    for clause in clauses:
        visitors.traverse(clause, {}, {"column": needed.append})
    present = list(ids.selected_columns)
    for column in needed:
        if not any(column.compare(other) for other in present):
            present.append(column)
    cut = ids.with_only_columns(*present).order_by(*clauses).limit(limit).offset(offset).subquery()
    on_page = ClauseAdapter(cut)
    return select(cut.c[0], func.row_number().over(order_by=[on_page.traverse(c) for c in clauses]))
