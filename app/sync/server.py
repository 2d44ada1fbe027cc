"""The upstream side of sync: apply pushed operations exactly once, and serve the
change sequence that downstream nodes pull.

Every operation is applied in its own transaction together with its
``AppliedOperation`` row, which is inserted first and so also serialises two requests
carrying the same operation: the second waits, fails on the key, and answers with the
stored result.
"""
import logging

from sqlalchemy import literal, select, union_all
from sqlalchemy.exc import IntegrityError

from app.core import authority
from app.core.extensions import db
from app.core.history import record_fields
from app.core.node import ancestors, subtree
from app.models import AppliedOperation, ChangeLogEntry, SyncConflict, utcnow
from app.sync import registry, values
from app.sync.wire import digest, malformed

log = logging.getLogger(__name__)

FINAL = ("applied", "conflict")  # the outcomes that are stored and answered to a repeat
TIMES = ("created_at", "updated_at")


class Refusal(Exception):
    """An operation that cannot be applied now: ``held`` (it waits for a record that has
    not arrived) or ``rejected`` (it never can, as sent). Raised while applying, so that
    everything the operation wrote is rolled back; neither outcome is stored, so the same
    operation sent again is looked at afresh."""

    def __init__(self, status: str, code: str, reason: str, **detail):
        super().__init__(reason)
        self.status, self.code, self.reason, self.detail = status, code, reason, detail

    def answer(self, op_id) -> dict:
        return {"op_id": op_id, "status": self.status, "code": self.code,
                "reason": self.reason, **self.detail}


def refuse(code: str, reason: str, **detail) -> Refusal:
    return Refusal("rejected", code, reason, **detail)


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
    key, fails, and answers from the first one's stored result. Only an applied change
    or a recorded conflict is stored; any failure becomes this operation's refusal."""
    problem = malformed(op)
    if problem:
        op_id = op.get("op_id") if isinstance(op, dict) else None
        return refuse("malformed", problem).answer(op_id if isinstance(op_id, str) else None)
    op_digest = digest(op)
    stored = db.session.get(AppliedOperation, (node_code, op["op_id"]))
    if stored is not None and (stored.digest != op_digest or stored.result.get("status") in FINAL):
        if not savepoint:
            db.session.rollback()
        return _repeat(stored, op_digest)
    transaction = db.session.begin_nested() if savepoint else None
    try:
        if stored is not None:  # a refusal stored by an older version: look again
            db.session.delete(stored)
            db.session.flush()
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
    except Refusal as refusal:
        _roll_back(transaction)
        return refusal.answer(op["op_id"])
    except IntegrityError as exc:
        _roll_back(transaction)
        stored = db.session.execute(
            select(AppliedOperation).where(AppliedOperation.node_code == node_code,
                                           AppliedOperation.op_id == op["op_id"])
            .execution_options(populate_existing=True)).scalar_one_or_none()
        if stored is None:  # not a repeat: the change itself breaks a rule of the database
            return refuse("database", f"refused by the database: {type(exc.orig).__name__}: "
                                      f"{str(exc.orig).splitlines()[0][:200]}").answer(op["op_id"])
        return _repeat(stored, op_digest)
    except Exception as exc:  # noqa: BLE001 - one operation's failure is its own refusal
        _roll_back(transaction)
        log.exception("sync: operation %s from %s failed", op["op_id"], node_code)
        return refuse("failed", f"{type(exc).__name__}: {str(exc)[:200]}").answer(op["op_id"])
    finally:
        db.session.info.pop("keep_stamps", None)
        db.session.info.pop("sync_source", None)


def _roll_back(transaction) -> None:
    if transaction is not None:
        transaction.rollback()
    else:
        db.session.rollback()
    db.session.info.pop("history_pending", None)


def _repeat(stored: AppliedOperation, op_digest: str) -> dict:
    if stored.digest != op_digest:
        return refuse("op_id_reused", "operation id already used for different content") \
            .answer(stored.op_id)
    return {**stored.result, "status": "duplicate", "first_status": stored.result.get("status")}


def _apply(node_code: str, op: dict) -> dict:
    model = registry.model(op["type"])
    if model is None:
        raise refuse("unknown_type", f"unknown record type {op['type']}")
    if not values.is_uuid(op["id"]):
        raise refuse("bad_id", "the record id is not a UUID")
    fields = op["fields"]
    record = db.session.get(model, op["id"])
    if record is None:
        other = type_holding(op["id"])
        if other is not None:
            raise refuse("id_taken", f"the id is already used by a record of type {other}",
                         ref_type=other)
        if op["action"] != "create":
            raise Refusal("held", "record_missing", "the record's creation has not arrived here yet")
    owner = fields.get("owner_node") if record is None else record.owner_node
    if not isinstance(owner, str) or not authority.within(owner, node_code):
        raise refuse("not_yours", "record does not belong to the pushing node")
    if "owner_node" in fields and not authority.within(str(fields["owner_node"]), node_code):
        raise refuse("moves_out", "record would move out of the pushing node")
    if op["action"] == "resolve":
        db.session.info.update(keep_stamps=True, sync_source=node_code)
        resolve_conflicts(op["type"], record.id, f"sync:{node_code}")
        note_change(record, node_code)
        return {"op_id": op["op_id"], "status": "applied", **state(record)}
    keys = list(registry.fields_of(model)) if op["action"] == "create" else list(op["changed"])
    if op["action"] in ("delete", "restore"):
        keys.append("deleted_at")
    keys = [k for k in dict.fromkeys(keys) if k in fields]
    authored_above = [k for k in keys if not authority.writable_by(model, k, node_code)]
    keys = [k for k in keys if k not in authored_above]
    check(model, fields, keys + [k for k in TIMES if k in fields], node_code)
    db.session.info.update(keep_stamps=True, sync_source=node_code)
    if op["action"] == "create":
        result = _create(model, record, op, keys, node_code)
    else:
        result = _change(record, op, keys, node_code)
    record = db.session.get(model, op["id"])
    here = record_fields(record)
    ignored = sorted(k for k in authored_above if here.get(k) != fields.get(k))
    if ignored:  # the sender's copy differs in fields it may not write: send it ours
        result = {**result, **state(record), "ignored": ignored}
    return result


def check(model, fields: dict, keys: list[str], node_code: str) -> None:
    """Refuse values the model cannot hold, and references the node may not make; hold
    an operation whose referenced record has not arrived."""
    for key in keys:
        why = values.problem(model, key, fields[key])
        if why:
            raise refuse("bad_value", f"{key} {why}", field=key)
    refs = authority.references(model)
    for key in keys:
        if key in refs and fields[key]:
            ids = fields[key] if isinstance(fields[key], list) else [fields[key]]
            _check_targets(refs[key], ids, key, node_code)
    typed = authority.TYPED_REFERENCES.get(model.__tablename__)
    if typed and (typed[0] in keys or typed[1] in keys):
        target = registry.model(fields.get(typed[0]) or "")
        if target is None:
            raise refuse("bad_value", f"{typed[0]} names no record type", field=typed[0])
        _check_targets(target, [fields.get(typed[1])], typed[1], node_code)


def _check_targets(target, ids: list, key: str, node_code: str) -> None:
    owners = dict(db.session.execute(select(target.id, target.owner_node)
                                     .where(target.id.in_(ids))).all())
    for ref_id in ids:
        owner = owners.get(ref_id)
        if owner is None:
            other = type_holding(ref_id)
            if other is not None:
                raise refuse("bad_reference", f"{key} points at a {other}, not a "
                                              f"{target.__tablename__}", field=key)
            raise Refusal("held", "parent_missing",
                          f"{key} references {target.__tablename__} {ref_id}, "
                          "which has not arrived here yet",
                          field=key, ref_type=target.__tablename__, ref_id=ref_id)
        if not authority.may_reference(owner, node_code):
            raise refuse("bad_reference", f"{key} references a record of node {owner}, "
                                          "outside the pushing node", field=key)


def type_holding(record_id: str) -> str | None:
    """The type of the synced record with this id, if there is one (ids are unique
    across every type)."""
    parts = [select(literal(name).label("type")).where(model.id == record_id)
             for name, model in registry.types().items()]
    return db.session.scalar(union_all(*parts).limit(1))


def _stamp(record, op: dict, node_code: str, new: bool) -> None:
    """The server's fields: who wrote it is the token's node, and where it came from is
    the sender's subtree (the node named, if it is in it; else the sender)."""
    who = f"sync:{node_code}"
    record.updated_by = who
    if new:
        record.created_by = who
        origin = op["fields"].get("origin_node")
        record.origin_node = origin if isinstance(origin, str) and origin \
            and authority.within(origin, node_code) else node_code


def _create(model, record, op, keys: list[str], node_code: str) -> dict:
    fields = op["fields"]
    if record is not None:
        current = record_fields(record)
        if all(current.get(k) == fields.get(k) for k in keys):
            return {"op_id": op["op_id"], "status": "applied", **state(record)}
        raise refuse("exists_different", "a record with this id exists with other content")
    record = model(id=op["id"])
    registry.assign(record, fields, keys + [k for k in TIMES if k in fields])
    _stamp(record, op, node_code, new=True)
    record.version = op["version"]
    record.field_versions = {key: op["version"] for key in registry.fields_of(model)}
    record._sync_base_version = op["base_version"]
    db.session.add(record)
    db.session.flush()
    return {"op_id": op["op_id"], "status": "applied", "version": record.version}


def _change(record, op: dict, changed: list[str], node_code: str) -> dict:
    """An update, delete or restore: apply what only the downstream changed, keep both
    values of what both changed (a conflict), never bring a deleted record back by an edit."""
    fields, base = op["fields"], op["base_version"]
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
        registry.assign(record, fields, to_apply + [k for k in ("updated_at",) if k in fields])
        _stamp(record, op, node_code, new=False)
        record.version = new_version
        record.field_versions = {**(record.field_versions or {}),
                                 **{k: new_version for k in to_apply}}
        record._sync_base_version = previous
        db.session.flush()
    if op.get("resolves") and not deleted_here:
        resolve_conflicts(op["type"], record.id, f"sync:{node_code}")
    elif conflicting or deleted_here:
        values_ = {k: {"here": here.get(k), "there": fields.get(k)} for k in conflicting}
        db.session.add(SyncConflict(record_type=op["type"], record_id=record.id, fields=values_,
                                    deleted_there=False, other_node=node_code))
        db.session.flush()
        return {"op_id": op["op_id"], "status": "conflict", "conflict": values_,
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
