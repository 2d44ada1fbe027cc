"""One place that keeps every write honest: before each flush, every new or changed
``Audited`` record gets its audit entry, and every ``Synced`` record its version bump,
who/when stamps and sync outbox entry, all in the same transaction as the record.

Services only change records and commit; they never write audit or outbox rows.
"""
import functools
import itertools
import os
import threading
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from app.core import authority
from app.models.audit import AuditEntry, ChangeLogEntry, OutboxEntry
from app.models.base import Audited, Synced, utcnow


def current_actor() -> str:
    """Who is writing: the logged-in user, or what a CLI command set in ``g.actor``."""
    if has_app_context() and getattr(g, "actor", None):
        return g.actor
    if has_request_context():
        from flask_login import current_user
        if current_user and current_user.is_authenticated:
            return current_user.username
    return "system"


def _node_code() -> str:
    if not has_app_context():
        return ""
    from app.core.node import this_node
    node = this_node()
    return node.code if node else ""


def plain(value):
    """A value as the audit (JSON) keeps it."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Audited):
        return str(value)
    return value


def _changes(obj, new: bool) -> dict:
    """{field: [old, new]} for the columns and relationships that changed (all of them
    for a new record). Foreign-key columns are reported through their relationship, by
    name, so the history reads "village: 红旗嘎查 → 新村" rather than two UUIDs."""
    state = inspect(obj)
    mapper = state.mapper
    hidden, skip = type(obj).__audit_hidden__, type(obj).__audit_skip__
    changes = {}
    fk_columns = set()
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            fk_columns.update(c.key for c in rel.local_columns)
    for rel in mapper.relationships:
        many_to_many = rel.secondary is not None
        if rel.key in skip or not (many_to_many or rel.direction.name == "MANYTOONE"):
            continue
        hist = state.attrs[rel.key].history
        if not hist.has_changes():
            continue
        if rel.uselist:
            before = sorted(str(o) for o in (hist.unchanged or []) + (hist.deleted or []))
            after = sorted(str(o) for o in (hist.unchanged or []) + (hist.added or []))
            if before != after or (new and after):
                changes[rel.key] = [None if new else before, after]
        else:
            old = hist.deleted[0] if hist.deleted else None
            value = hist.added[0] if hist.added else None
            if value is not None or not new:
                changes[rel.key] = [None if new else plain(old), plain(value)]
    for attr in mapper.column_attrs:
        key = attr.key
        if key in skip or key in fk_columns or key == "id":
            continue
        hist = state.attrs[key].history
        if new:
            value = getattr(obj, key)
            if value in (None, "", False) or key == "deleted_at":
                continue
            changes[key] = [None, "***" if key in hidden else plain(value)]
        elif hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            value = hist.added[0] if hist.added else None
            if old == value:
                continue
            changes[key] = ["***", "***"] if key in hidden else [plain(old), plain(value)]
    return changes



def column_changes(model, before: dict, after: dict) -> dict:
    """{column: [old, new]} as ``_changes`` reports an existing record's plain columns
    (neither foreign keys nor collections) going from ``before`` to ``after`` (both by
    attribute key): for writers that update rows without the ORM (sync's ``Adoption``)."""
    hidden, skip = model.__audit_hidden__, model.__audit_skip__
    changes = {}
    for key, value in after.items():
        old = before.get(key)
        if key in skip or key == "id" or old == value:
            continue
        changes[key] = ["***", "***"] if key in hidden else [plain(old), plain(value)]
    return changes

def new_record_changes(model, row: dict, label) -> dict:
    """{field: [None, value]} as ``_changes`` and ``_fk_changes`` report a new record
    whose assigned columns are ``row`` (by attribute key; columns left to their defaults
    are not in it) and whose collections are ``row[key]`` id lists: for writers that
    insert rows without the ORM (sync's ``NewRows``). ``label(model, id)`` names a
    referenced record."""
    collections, references, columns, hidden = _new_record_plan(model)
    changes = {}
    for key, target in collections:
        ids = row.get(key)
        if ids:
            changes[key] = [None, sorted(label(target, i) for i in ids)]
    for key, column, target in references:
        if row.get(column) is not None:
            changes[key] = [None, label(target, row[column])]
    for key in columns:
        value = row.get(key)
        if value in (None, "", False):
            continue
        changes[key] = [None, "***" if key in hidden else plain(value)]
    return changes


@functools.cache
def _new_record_plan(model) -> tuple:
    """What ``new_record_changes`` reports of a type: its collections (key, target),
    its references (relationship key, column, target), its other audited columns, the
    hidden ones."""
    mapper = inspect(model)
    hidden, skip = model.__audit_hidden__, model.__audit_skip__
    fk_columns, collections, references = set(), [], []
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            fk_columns.update(c.key for c in rel.local_columns)
            if rel.key not in skip:
                references.extend((rel.key, c.key, rel.mapper.class_) for c in rel.local_columns)
        elif rel.secondary is not None and rel.key not in skip:
            collections.append((rel.key, rel.mapper.class_))
    columns = tuple(a.key for a in mapper.column_attrs
                    if a.key not in skip and a.key not in fk_columns and a.key not in ("id", "deleted_at"))
    return tuple(collections), tuple(references), columns, frozenset(hidden)


def _label(session, model, key) -> str | None:
    """The name of the record a foreign key points at, for the audit trail. A writer
    that has the records at hand already (sync applying a batch or a page) offers them
    as ``session.info["record_lookup"](model, id)``: no query per key."""
    if not key:
        return None
    lookup = session.info.get("record_lookup")
    found = lookup(model, key) if lookup else None
    return str(found if found is not None else session.get(model, key))


def _fk_changes(obj) -> dict:
    """Foreign keys set by id (form writes ``village_id = ...``) rather than through the
    relationship: report them by the related record's name."""
    state = inspect(obj)
    changes = {}
    for rel in state.mapper.relationships:
        if rel.direction.name != "MANYTOONE" or rel.key in type(obj).__audit_skip__:
            continue
        for col in rel.local_columns:
            hist = state.attrs[col.key].history
            if not hist.has_changes() or state.attrs[rel.key].history.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
            target, session = rel.mapper.class_, state.session
            with session.no_autoflush:
                changes[rel.key] = [None if state.pending else _label(session, target, old),
                                    _label(session, target, new)]
    return changes


BOOKKEEPING = {"id", "version", "created_at", "updated_at", "created_by", "updated_by",
               "origin_node", "field_versions"}


def sync_fields(mapper) -> list[str]:
    """The fields a synced record travels with: its columns (but the bookkeeping that
    travels beside them) and the keys of its many-to-many collections (as id lists)."""
    columns = [a.key for a in mapper.column_attrs if a.key not in BOOKKEEPING]
    collections = [r.key for r in mapper.relationships if r.secondary is not None]
    return columns + collections


def changed_fields(obj, new: bool) -> list[str]:
    """Which of the record's sync fields this flush changes (all set ones when new)."""
    state = inspect(obj)
    changed = []
    for key in sync_fields(state.mapper):
        if new:
            changed.append(key)
            continue
        attr = state.attrs[key]
        if attr.history.has_changes():
            changed.append(key)
    for rel in state.mapper.relationships:  # a many-to-one set through the relationship
        if rel.direction.name == "MANYTOONE" and state.attrs[rel.key].history.has_changes():
            changed.extend(c.key for c in rel.local_columns if c.key not in changed)
    return changed


_op_ids = threading.local()


def new_op_id() -> str:
    """A new operation id (36 characters, as a UUID): a random prefix drawn once per
    process and thread, then a counter. As unique as a random UUID between processes,
    and the operations of one batch share most of their id, which gzip takes in a few
    bytes (a random UUID costs about 20 bytes per operation on the wire)."""
    state = getattr(_op_ids, "state", None)
    if state is None or state[0] != os.getpid():
        state = _op_ids.state = (os.getpid(), uuid.uuid4().hex[:20], itertools.count())
    return f"{state[1]}-{next(state[2]):015x}"


def outbox_changed(action: str, fields: list[str]) -> list[str]:
    """What an operation's ``changed`` lists: nothing for a create, which sets every
    field (docs/sync-protocol.md)."""
    return [] if action == "create" else fields


def _action(obj, changes: dict, new: bool) -> str:
    if new:
        return "create"
    if "deleted_at" in changes:
        return "delete" if changes["deleted_at"][1] else "restore"
    return "update"


def _record_type(obj) -> str:
    return type(obj).__tablename__


def record_fields(obj) -> dict:
    """The record as it now stands, as sync sends it: its sync fields (collections as
    sorted id lists) and its stamps."""
    state = inspect(obj)
    fields = {}
    for key in sync_fields(state.mapper):
        value = getattr(obj, key)
        if isinstance(value, list):
            fields[key] = sorted(o.id for o in value)
        else:
            fields[key] = plain(value)
    for key in ("created_at", "updated_at", "created_by", "updated_by", "origin_node"):
        fields[key] = plain(getattr(obj, key))
    return fields


@contextmanager
def shipped_data(session):
    """Writes in this block are audited but neither sent upstream nor offered
    downstream: reference data shipped with the program, which every node has."""
    session.info.update(applying_sync=True, shipped=True)
    try:
        yield
    finally:
        session.info.pop("applying_sync", None)
        session.info.pop("shipped", None)


@event.listens_for(Session, "before_flush")
def _stamp_and_collect(session, flush_context, instances):
    """Bump versions and stamps, and note what changed, while history is still there."""
    actor = node = None
    now = utcnow()
    pending = session.info.setdefault("history_pending", [])
    for obj, new in [(o, True) for o in session.new] + [(o, False) for o in session.dirty]:
        if not isinstance(obj, Audited):
            continue
        if not new and not session.is_modified(obj, include_collections=True):
            continue
        if actor is None:
            actor, node = current_actor(), _node_code()
        with session.no_autoflush:
            changes = _changes(obj, new)
            changes.update(_fk_changes(obj))
        if not changes:
            continue
        fields = None
        if isinstance(obj, Synced):
            # A change adopted from upstream (applying_sync with its stamps kept) has no
            # outbox entry and no version to bump: what it changed is not needed.
            adopted = session.info.get("applying_sync") and session.info.get("keep_stamps")
            fields = None if adopted else changed_fields(obj, new)
            if fields is not None:
                _check_authority(session, obj, fields, new)
            if not session.info.get("keep_stamps"):
                if new:
                    obj.version = 1
                    obj.created_at = obj.updated_at = now
                    obj.created_by = obj.updated_by = actor
                    obj.origin_node = obj.origin_node or node
                    obj.owner_node = obj.owner_node or node
                else:
                    obj.version = (obj.version or 0) + 1
                    obj.updated_at, obj.updated_by = now, actor
                versions = dict(obj.field_versions or {})
                versions.update({key: obj.version for key in fields})
                obj.field_versions = versions
        pending.append((obj, changes, fields, _action(obj, changes, new), actor, node, now))


def _check_authority(session, obj, fields: list[str], new: bool) -> None:
    """Refuse (403) a user's change to a field that the user's node does not author on
    this record (app/core/authority.py): the rule the upstream applies to a push, applied to
    every form. Sync, the command line and a person settling a conflict are not users'
    edits here."""
    if session.info.get("applying_sync") or session.info.get("resolving") \
            or not has_request_context():
        return
    from flask_login import current_user
    if not (current_user and current_user.is_authenticated):
        return
    writer = current_user.node_code
    owner = obj.owner_node or writer
    for key in fields:
        if new and not getattr(obj, key, None):
            continue  # a new record's empty fields are nobody's change
        if not authority.may_edit(type(obj), key, owner, writer):
            raise Forbidden(f"{type(obj).__tablename__}.{key} is not this node's to write")


@event.listens_for(Session, "after_flush")
def _write_audit_and_outbox(session, flush_context):
    """Write the audit and outbox rows in the same transaction, now that ids exist."""
    pending = session.info.pop("history_pending", [])
    if not pending:
        return
    audit, outbox, changelog = [], [], []
    source = session.info.get("sync_source")
    for obj, changes, fields, action, actor, node, at in pending:
        synced = isinstance(obj, Synced)
        audit.append({
            "record_type": _record_type(obj), "record_id": str(obj.id), "action": action,
            "version": obj.version if synced else None, "changes": changes,
            "actor": actor, "node": node, "at": at})
        if not synced:
            continue
        if not session.info.get("shipped"):
            changelog.append({"record_type": _record_type(obj), "record_id": obj.id,
                              "owner_node": obj.owner_node, "source_node": source or node,
                              "at": at})
        if not session.info.get("applying_sync"):
            base = getattr(obj, "_sync_base_version", obj.version - 1)
            outbox.append({
                "op_id": new_op_id(), "record_type": _record_type(obj), "record_id": obj.id,
                "action": action, "base_version": base, "version": obj.version,
                "changed": outbox_changed(action, fields), "fields": record_fields(obj), "created_at": at,
                "resolves_conflict": (_record_type(obj), obj.id) in session.info.get("resolving", ()),
                "rejected_at": None, "reject_reason": None})
    connection = session.connection()
    connection.execute(AuditEntry.__table__.insert(), audit)
    if outbox:
        connection.execute(OutboxEntry.__table__.insert(), outbox)
    if changelog:
        log_changes(session, changelog)



def write_adopted(session, adopted: list[dict]) -> None:
    """The audit entries and change-log rows of changes adopted from upstream and
    written as rows (``record_type``, ``record_id``, ``version``, ``changes``,
    ``owner_node`` each): what ``_write_audit_and_outbox`` writes for the same changes
    made through the ORM (no outbox entry: they came from there)."""
    if not adopted:
        return
    actor, node, at = current_actor(), _node_code(), utcnow()
    source = session.info.get("sync_source") or node
    session.connection().execute(AuditEntry.__table__.insert(), [
        {"record_type": a["record_type"], "record_id": a["record_id"], "version": a["version"],
         "action": _action(None, a["changes"], False), "changes": a["changes"],
         "actor": actor, "node": node, "at": at} for a in adopted])
    log_changes(session, [{"record_type": a["record_type"], "record_id": a["record_id"],
                           "owner_node": a["owner_node"], "source_node": source, "at": at}
                          for a in adopted])

def write_created(session, created: list[dict]) -> None:
    """The audit entries, change-log rows and outbox entries of records created as rows
    (``record_type``, ``record_id``, ``version``, ``base_version``, ``changes``,
    ``owner_node``, ``fields`` each, ``fields`` as ``record_fields`` gives them): what
    ``_write_audit_and_outbox`` writes for the same records created through the ORM."""
    if not created:
        return
    actor, node, at = current_actor(), _node_code(), utcnow()
    source = session.info.get("sync_source") or node
    connection = session.connection()
    connection.execute(AuditEntry.__table__.insert(), [
        {"record_type": c["record_type"], "record_id": c["record_id"], "version": c["version"],
         "action": "create", "changes": c["changes"], "actor": actor, "node": node, "at": at}
        for c in created])
    if not session.info.get("applying_sync"):
        connection.execute(OutboxEntry.__table__.insert(), [
            {"op_id": new_op_id(), "record_type": c["record_type"], "record_id": c["record_id"],
             "action": "create", "base_version": c["base_version"], "version": c["version"],
             "changed": outbox_changed("create", []), "fields": c["fields"], "created_at": at,
             "resolves_conflict": False, "rejected_at": None, "reject_reason": None}
            for c in created])
    if not session.info.get("shipped"):
        log_changes(session, [{"record_type": c["record_type"], "record_id": c["record_id"],
                               "owner_node": c["owner_node"], "source_node": source, "at": at}
                              for c in created])


# The change log is numbered in commit order, and numbered last --------------------------
#
# A downstream node pulls ``change_log`` rows by ``seq > checkpoint``, so a row may never
# become visible after a row with a higher number. Rows are therefore not inserted when
# their records are flushed but kept with the transaction, and inserted in the commit's
# own last step: on PostgreSQL under a transaction-level advisory lock taken just then
# and released by the COMMIT right after, so numbering is serialised for the moment of
# that insert and commit, never for a whole push. SQLite serialises writers anyway. A
# savepoint rolled back takes its rows with it.

CHANGE_LOG_LOCK = 7402301


def log_changes(session, rows: list[dict]) -> None:
    """Queue change-log rows, to be numbered and inserted when the transaction commits."""
    tag = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault("change_log", []).extend((tag, row) for row in rows)


@event.listens_for(Session, "after_soft_rollback")
def _forget_changes(session, previous_transaction):
    """A rolled-back (sub)transaction's change-log rows go with it."""
    queued = session.info.get("change_log")
    if not queued:
        return

    def inside(tag) -> bool:
        while tag is not None:
            if tag is previous_transaction:
                return True
            tag = tag.parent
        return False
    kept = [(tag, row) for tag, row in queued if not inside(tag)]
    if kept:
        session.info["change_log"] = kept
    else:
        session.info.pop("change_log", None)


@event.listens_for(Session, "after_transaction_end")
def _forget_unnumbered(session, transaction):
    """A transaction closed without committing (``Session.close``) leaves nothing queued."""
    if transaction.parent is None:
        session.info.pop("change_log", None)


@event.listens_for(Session, "before_commit")
def _number_changes(session):
    """The commit's last step: flush what is left, then number and insert the queued
    change-log rows (under the advisory lock on PostgreSQL, held until the COMMIT)."""
    if session.in_nested_transaction():
        return  # a savepoint released: its rows wait for the real commit
    session.flush()
    queued = session.info.pop("change_log", None)
    if not queued:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    connection.execute(ChangeLogEntry.__table__.insert(), [row for _, row in queued])


@event.listens_for(Session, "after_rollback")
def _forget_pending(session):
    session.info.pop("history_pending", None)
