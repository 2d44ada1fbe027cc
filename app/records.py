"""Writes and reads shared by every record type: create, update, soft delete and
restore (the audit and outbox entries follow from app/history.py), history, search and
pagination. Area services call these; views never write."""
import math
from dataclasses import dataclass

from flask import abort, current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import Select, func, or_, select

from app import cache
from app.database import rows_at_once
from app.extensions import db
from app.models import AuditEntry, utcnow
from app.node import subtree
from app.security import writable


def create(record, data: dict, owner_node: str | None = None):
    """Add a new record with ``data`` and commit (record, audit and outbox together)."""
    apply(record, data)
    record.owner_node = owner_node or current_user.node_code
    _check_writable(record)
    db.session.add(record)
    db.session.commit()
    return record


def update(record, data: dict):
    _check_writable(record)
    apply(record, data)
    db.session.commit()
    return record


def apply(record, data: dict) -> None:
    for key, value in data.items():
        setattr(record, key, value)


def soft_delete(record) -> None:
    _check_writable(record)
    record.deleted_at = utcnow()
    db.session.commit()


def restore(record) -> None:
    _check_writable(record)
    record.deleted_at = None
    db.session.commit()


def _check_writable(record) -> None:
    """403 for a change to a record outside the user's node subtree."""
    if has_request_context() and current_user.is_authenticated and not writable(record):
        abort(403)


def history(record) -> list[AuditEntry]:
    """The record's audit entries, newest first."""
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.record_type == record.__tablename__,
                                 AuditEntry.record_id == str(record.id))
        .order_by(AuditEntry.id.desc())).all()


def matching(q: str, *columns):
    """A condition: any of the columns contains the text ``q`` (LIKE, escaped)."""
    return or_(*(column.contains(q, autoescape=True) for column in columns))


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
        (*key, current_user.node_code, node_filter()),
        lambda: db.session.scalar(select(func.count()).select_from(ids.order_by(None).subquery())))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    numbered = ids.add_columns(func.row_number().over(order_by=order)).order_by(*order) \
        .limit(per_page).offset((page - 1) * per_page)
    items = [row[0] for row in sorted(rows_at_once(db.session, numbered), key=lambda row: row[1])]
    return Page(items=items, page=page, per_page=per_page, total=total)
