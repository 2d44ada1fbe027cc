"""The upstream side of sync: apply pushed operations exactly once, and serve the
change sequence that downstream nodes pull.

Every operation is applied in its own transaction together with its
``AppliedOperation`` row, which is inserted first and so also serialises two requests
carrying the same operation: the second waits, fails on the key, and answers with the
stored result.
"""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.history import record_fields
from app.models import AppliedOperation, ChangeLogEntry, SyncConflict, utcnow
from app.node import ancestors, subtree
from app.sync import registry
from app.sync.wire import digest, malformed

BOOKKEEPING = ("created_at", "updated_at", "created_by", "updated_by", "origin_node")


def within(code: str, node_code: str) -> bool:
    """Is ``code`` the node itself or one of its descendants?"""
    return code == node_code if "-" in node_code else code.startswith(node_code)


def apply_batch(node_code: str, ops: list) -> list[dict]:
    """Apply each operation on its own; one bad operation never blocks the rest.

    On PostgreSQL the batch is one transaction with a savepoint per operation (a failed
    operation rolls back alone; a crash loses the whole batch, never half of one). On
    SQLite, where a transaction holding the write lock would stall every page, each
    operation commits on its own."""
    batched = db.session.get_bind().dialect.name == "postgresql"
    results = [apply_operation(node_code, op, savepoint=batched) for op in ops]
    if batched:
        db.session.commit()
    return results


def apply_operation(node_code: str, op, savepoint: bool = False) -> dict:
    """Apply one operation exactly once: its ``AppliedOperation`` row is inserted first,
    in the same transaction (or savepoint) as the change, so a second copy waits on the
    key, fails, and answers from the first one's stored result."""
    problem = malformed(op)
    if problem:
        op_id = op.get("op_id") if isinstance(op, dict) else None
        return {"op_id": op_id, "status": "rejected", "reason": problem}
    op_digest = digest(op)
    stored = db.session.get(AppliedOperation, (node_code, op["op_id"]))
    if stored is not None:
        if not savepoint:
            db.session.rollback()
        return _repeat(stored, op_digest)
    transaction = db.session.begin_nested() if savepoint else None
    try:
        claim = AppliedOperation(node_code=node_code, op_id=op["op_id"], digest=op_digest,
                                 result={})
        db.session.add(claim)
        db.session.flush()
        result = _apply(node_code, op)
        claim.result = result
        if transaction is not None:
            db.session.flush()
            transaction.commit()
        else:
            db.session.commit()
        return result
    except IntegrityError as exc:
        if transaction is not None:
            transaction.rollback()
        else:
            db.session.rollback()
        db.session.info.pop("history_pending", None)
        stored = db.session.execute(
            select(AppliedOperation).where(AppliedOperation.node_code == node_code,
                                           AppliedOperation.op_id == op["op_id"])
            .execution_options(populate_existing=True)).scalar_one_or_none()
        if stored is None:  # not a repeat: the change itself breaks a rule of the database
            return _rejected(op, f"refused by the database: {type(exc.orig).__name__}")
        return _repeat(stored, op_digest)
    finally:
        db.session.info.pop("keep_stamps", None)
        db.session.info.pop("sync_source", None)


def _repeat(stored: AppliedOperation, op_digest: str) -> dict:
    if stored.digest != op_digest:
        return {"op_id": stored.op_id, "status": "rejected",
                "reason": "operation id already used for different content"}
    return {**stored.result, "status": "duplicate", "first_status": stored.result.get("status")}


def _rejected(op, reason: str) -> dict:
    return {"op_id": op["op_id"], "status": "rejected", "reason": reason}


def _apply(node_code: str, op: dict) -> dict:
    model = registry.model(op["type"])
    if model is None:
        return _rejected(op, f"unknown record type {op['type']}")
    fields = op["fields"]
    record = db.session.get(model, op["id"])
    owner = fields.get("owner_node") if record is None else record.owner_node
    if not isinstance(owner, str) or not within(owner, node_code):
        return _rejected(op, "record does not belong to the pushing node")
    if "owner_node" in fields and not within(str(fields["owner_node"]), node_code):
        return _rejected(op, "record would move out of the pushing node")
    session = db.session
    session.info["keep_stamps"] = True
    session.info["sync_source"] = node_code
    if op["action"] == "create":
        return _create(model, record, op)
    if record is None:
        return _rejected(op, "no such record here")
    if op["action"] == "resolve":
        resolve_conflicts(op["type"], record.id, f"sync:{node_code}")
        note_change(record, node_code)
        return {"op_id": op["op_id"], "status": "applied", **state(record)}
    return _change(record, op, node_code)


def _create(model, record, op) -> dict:
    fields = op["fields"]
    if record is not None:
        same = all(record_fields(record).get(k) == v for k, v in fields.items()
                   if k not in BOOKKEEPING)
        if same:
            return {"op_id": op["op_id"], "status": "applied", **state(record)}
        return _rejected(op, "a record with this id exists with other content")
    record = model(id=op["id"])
    registry.assign(record, fields)
    record.version = op["version"]
    record.field_versions = {key: op["version"] for key in registry.fields_of(model)}
    record._sync_base_version = op["base_version"]
    db.session.add(record)
    db.session.flush()
    return {"op_id": op["op_id"], "status": "applied", "version": record.version}


def _change(record, op: dict, node_code: str) -> dict:
    """An update, delete or restore: apply what only the downstream changed, keep both
    values of what both changed (a conflict), never bring a deleted record back by an edit."""
    fields, base = op["fields"], op["base_version"]
    changed = [k for k in op["changed"] if k in fields]
    if op["action"] in ("delete", "restore"):
        changed = sorted(set(changed) | {"deleted_at"})
    here = record_fields(record)
    since = {k for k, v in (record.field_versions or {}).items() if v > base}
    conflicting = [k for k in changed if k in since and here.get(k) != fields.get(k)]
    deleted_here = record.deleted_at is not None and op["action"] == "update" \
        and "deleted_at" in since
    if deleted_here:
        conflicting = [k for k in changed if here.get(k) != fields.get(k)] + ["deleted_at"]
    if op.get("resolves"):  # a person chose these values knowing both sides
        conflicting, deleted_here = [], False
    to_apply = [k for k in changed if k not in conflicting and not deleted_here]
    if to_apply:
        previous = record.version
        new_version = op["version"] if previous == base else previous + 1
        registry.assign(record, fields, to_apply + ["updated_at", "updated_by"])
        record.version = new_version
        record.field_versions = {**(record.field_versions or {}),
                                 **{k: new_version for k in to_apply}}
        record._sync_base_version = previous
        db.session.flush()
    if op.get("resolves") and not deleted_here:
        resolve_conflicts(op["type"], record.id, f"sync:{node_code}")
    elif conflicting or deleted_here:
        values = {k: {"here": here.get(k), "there": fields.get(k)} for k in conflicting}
        db.session.add(SyncConflict(record_type=op["type"], record_id=record.id, fields=values,
                                    deleted_there=False, other_node=node_code))
        db.session.flush()
        return {"op_id": op["op_id"], "status": "conflict", "conflict": values,
                "deleted_upstream": deleted_here, **state(record)}
    if record.version == op["version"]:  # applied as sent: the sender has this state already
        return {"op_id": op["op_id"], "status": "applied", "version": record.version}
    return {"op_id": op["op_id"], "status": "applied", **state(record)}


def state(record) -> dict:
    """A record as it stands here, as the wire carries it."""
    return {"type": record.__tablename__, "id": record.id, "version": record.version,
            "fields": record_fields(record)}


def open_conflict(record_type: str, record_id: str) -> bool:
    return db.session.scalar(select(SyncConflict.id).where(
        SyncConflict.record_type == record_type, SyncConflict.record_id == record_id,
        SyncConflict.resolved_at.is_(None)).limit(1)) is not None


def changes_since(node_code: str, after: int, limit: int) -> dict:
    """One page of this node's change sequence that concerns ``node_code``: its own
    subtree's records and what its ancestors publish, less what it pushed itself."""
    rows = db.session.execute(
        select(ChangeLogEntry.seq, ChangeLogEntry.record_type, ChangeLogEntry.record_id)
        .where(ChangeLogEntry.seq > after, ChangeLogEntry.source_node != node_code,
               subtree(ChangeLogEntry.owner_node, node_code)
               | ChangeLogEntry.owner_node.in_(ancestors(node_code)))
        .order_by(ChangeLogEntry.seq).limit(limit)).all()
    latest = {}
    for seq, record_type, record_id in rows:
        latest[(record_type, record_id)] = seq
    changes = []
    for (record_type, record_id), seq in sorted(latest.items(), key=lambda item: item[1]):
        model = registry.model(record_type)
        record = db.session.get(model, record_id) if model else None
        if record is None:
            continue
        changes.append({"seq": seq, **state(record),
                        "conflict_open": open_conflict(record_type, record_id)})
    last = rows[-1][0] if rows else after
    return {"changes": changes, "next": last, "more": len(rows) == limit}


def resolve_conflicts(record_type: str, record_id: str, by: str) -> int:
    """Mark the record's open conflicts resolved; returns how many."""
    conflicts = db.session.scalars(select(SyncConflict).where(
        SyncConflict.record_type == record_type, SyncConflict.record_id == record_id,
        SyncConflict.resolved_at.is_(None))).all()
    for conflict in conflicts:
        conflict.resolved_at, conflict.resolved_by = utcnow(), by
    return len(conflicts)


def note_change(record, source_node: str) -> None:
    """Put a record in the change sequence without changing it (e.g. a conflict settled
    with the values it already has), so that downstream nodes hear of it."""
    db.session.add(ChangeLogEntry(record_type=record.__tablename__, record_id=record.id,
                                  owner_node=record.owner_node, source_node=source_node))
