"""The upstream side of sync: apply pushed operations exactly once, and serve the
change sequence that downstream nodes pull.

Every operation is applied in its own transaction together with its
``AppliedOperation`` row, which is inserted first and so also serialises two requests
carrying the same operation: the second waits, fails on the key, and answers with the
stored result.
"""
import logging

from sqlalchemy import delete, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.core import authority
from app.core.extensions import db
from app.core.history import log_changes, record_fields
from app.core.node import ancestors, subtree
from app.models import AppliedOperation, ChangeLogEntry, SyncConflict, utcnow
from app.sync import registry, values
from app.sync.creates import NewRows, as_rows
from app.sync.rows import among, wire_states
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
    """Apply a batch set-wise, each operation still with its own result: one bad
    operation never blocks the rest (``Batch``).

    The set-wise step reads what it needs with a query per type, then writes every
    record, link and bookkeeping row with a statement per table, in one transaction.
    What it cannot settle alone (a second operation on a record of the batch, a
    resolution) and, should one of its statements fail, the whole batch, are applied one
    by one: on PostgreSQL in one transaction with a savepoint each (a failed operation
    rolls back alone; a crash loses them all, never half of one), on SQLite, where a
    transaction holding the write lock would stall every page, each on its own."""
    batched = db.session.get_bind().dialect.name == "postgresql"
    results: list = [None] * len(ops)
    try:
        later = Batch(node_code, ops, results).apply()
    except Exception:  # noqa: BLE001 - a failed bulk statement: the batch goes one by one
        log.warning("sync: set-wise apply of %d operations from %s failed; applying them "
                    "one by one", len(ops), node_code, exc_info=True)
        db.session.rollback()
        results, later = [None] * len(ops), range(len(ops))
    finally:
        for key in ("keep_stamps", "sync_source", "sync_batch", "record_lookup"):
            db.session.info.pop(key, None)
    for index in later:
        results[index] = apply_operation(node_code, ops[index], savepoint=batched)
    if batched:
        db.session.commit()
    return results


class Batch:
    """One push applied set-wise. ``apply`` settles every operation it can and returns
    the indexes of those to apply one by one afterwards, in order."""

    def __init__(self, node_code: str, ops: list, results: list):
        self.node, self.ops, self.results = node_code, ops, results
        self.records: dict[str, object] = {}      # id -> record (existing, or made here)
        self.made: dict[str, str] = {}            # id -> type, of records this batch creates
        self.taken: dict[str, str] = {}           # id -> type, of ids held by another type
        self.targets: dict[type, dict] = {}       # referenced model -> {id: record}
        self.new = NewRows(self.at_hand)          # records this batch creates as rows

    def apply(self) -> list[int]:
        ops, results = self.ops, self.results
        later, touched, seen_ops, todo = [], set(), set(), []
        for index, op in enumerate(ops):
            problem = malformed(op)
            if problem:
                op_id = op.get("op_id") if isinstance(op, dict) else None
                results[index] = refuse("malformed", problem).answer(
                    op_id if isinstance(op_id, str) else None)
            elif op["op_id"] in seen_ops or op["id"] in touched or op["action"] == "resolve" \
                    or op.get("resolves"):
                later.append(index)  # after what comes before it here has been written
                touched.add(op["id"])
            else:
                todo.append(index)
                touched.add(op["id"])
            if isinstance(op, dict) and isinstance(op.get("op_id"), str):
                seen_ops.add(op["op_id"])
        if not todo:
            return later
        digests = {i: digest(ops[i]) for i in todo}
        stored = {a.op_id: a for a in db.session.scalars(select(AppliedOperation).where(
            AppliedOperation.node_code == self.node,
            AppliedOperation.op_id.in_([ops[i]["op_id"] for i in todo])))}
        stale, fresh = [], []
        for index in todo:
            old = stored.get(ops[index]["op_id"])
            if old is not None and (old.digest != digests[index] or old.result.get("status") in FINAL):
                results[index] = _repeat(old, digests[index])
            else:
                if old is not None:  # a refusal stored by an older version: look again
                    stale.append(old.op_id)
                fresh.append(index)
        self._prefetch([ops[i] for i in fresh])
        db.session.info.update(keep_stamps=True, sync_source=self.node, sync_batch=self,
                               record_lookup=self.lookup)
        done, refused = [], []
        for index in fresh:
            op = ops[index]
            try:
                done.append((index, *_apply(self.node, op, self)))
            except Refusal as refusal:
                results[index] = refusal.answer(op["op_id"])
                refused.append(index)
        if stale:
            db.session.execute(delete(AppliedOperation).where(
                AppliedOperation.node_code == self.node, AppliedOperation.op_id.in_(stale)))
        self.new.write()
        db.session.flush()  # every record, link, audit, outbox and change-log row
        claims, at = [], utcnow()
        for index, result, record, ignored_keys in done:
            if ignored_keys:
                record_id = ops[index]["id"]
                here = self.new.fields(record_id) if record is None else record_fields(record)
                ignored = sorted(k for k in ignored_keys if here.get(k) != ops[index]["fields"].get(k))
                if ignored:  # the sender's copy differs in fields it may not write: send it ours
                    result = {**result, **(self.new.state(record_id) if record is None else state(record)),
                              "ignored": ignored}
            results[index] = result
            claims.append({"node_code": self.node, "op_id": ops[index]["op_id"],
                           "digest": digests[index], "result": result, "applied_at": at})
        # A refusal is not stored, but it is claimed for the moment too: it may rest on
        # a read that saw a copy of this push landing (read committed: one query of the
        # prefetch before its commit, the next after). Then this insert fails on that
        # copy's claims, and the batch goes one by one, answering duplicate.
        claims += [{"node_code": self.node, "op_id": ops[i]["op_id"], "digest": digests[i],
                    "result": {}, "applied_at": at} for i in refused]
        if claims:
            db.session.connection().execute(AppliedOperation.__table__.insert(), claims)
        if refused:
            db.session.execute(delete(AppliedOperation).where(
                AppliedOperation.node_code == self.node,
                AppliedOperation.op_id.in_([ops[i]["op_id"] for i in refused])))
        db.session.commit()
        return later

    def _prefetch(self, ops: list) -> None:
        """The batch's records, the records they reference and which other ids are
        taken: a query per type, and one for the ids found nowhere."""
        by_type: dict[type, set] = {}
        refs: dict[type, set] = {}
        for op in ops:
            model = registry.model(op["type"])
            if model is None or not values.is_uuid(op["id"]):
                continue
            by_type.setdefault(model, set()).add(op["id"])
            fields = op["fields"]
            for key, target in authority.references(model).items():
                value = fields.get(key)
                for ref_id in (value if isinstance(value, list) else [value]):
                    if isinstance(ref_id, str) and values.is_uuid(ref_id):
                        refs.setdefault(target, set()).add(ref_id)
            typed = authority.TYPED_REFERENCES.get(model.__tablename__)
            if typed:
                target = registry.model(fields.get(typed[0]) or "")
                ref_id = fields.get(typed[1])
                if target is not None and isinstance(ref_id, str):
                    refs.setdefault(target, set()).add(ref_id)
        for model, ids in by_type.items():
            wanted = [selectinload(getattr(model, key)) for key in registry.collections(model)]
            for record in db.session.scalars(select(model).where(among(model.id, ids)).options(*wanted)):
                self.records[record.id] = record
        for target, ids in refs.items():
            found = {r.id: r for r in db.session.scalars(select(target).where(among(target.id, ids)))}
            self.targets[target] = found
        unknown = {i for ids in by_type.values() for i in ids if i not in self.records}
        unknown |= {i for target, ids in refs.items() for i in ids if i not in self.targets[target]}
        if unknown:
            parts = [select(literal(name).label("type"), model.id.label("id"))
                     .where(among(model.id, unknown)) for name, model in registry.types().items()]
            self.taken = {row.id: row.type for row in db.session.execute(union_all(*parts))}

    def find(self, model, record_id: str):
        record = self.records.get(record_id)
        return record if isinstance(record, model) else None

    def at_hand(self, model, record_id: str):
        """A record the batch has read, or None."""
        record = self.records.get(record_id)
        if isinstance(record, model):
            return record
        return self.targets.get(model, {}).get(record_id)

    def lookup(self, model, record_id: str):
        """A record the batch has at hand (for the audit's labels), or None."""
        if self.new.owner(record_id, model) is not None:
            return self.new.named(record_id)
        return self.at_hand(model, record_id)

    def holder(self, record_id: str) -> str | None:
        return self.made.get(record_id) or self.taken.get(record_id)

    def owners(self, target, ids: list) -> dict:
        found = self.targets.get(target, {})
        owners = {i: found[i].owner_node for i in ids if i in found}
        for i in ids:
            record = self.records.get(i)
            if i not in owners and isinstance(record, target) and i in self.made:
                owners[i] = record.owner_node
            elif i not in owners and self.new.owner(i, target) is not None:
                owners[i] = self.new.owner(i, target)
        return owners

    def related(self, target, ids: list) -> list:
        """The records of a many-to-many list, as the prefetch found them (one made as a
        row in this batch is written first, then read)."""
        found = self.targets.get(target, {})
        made = [i for i in ids if i not in found and self.new.owner(i, target) is not None]
        if made:
            self.new.write()
            found = {**found, **{r.id: r for r in db.session.scalars(select(target).where(among(target.id, made)))}}
        return [found.get(i) or self.records[i] for i in ids
                if i in found or isinstance(self.records.get(i), target)]

    def made_here(self, record) -> None:
        self.records[record.id] = record
        self.made[record.id] = record.__tablename__


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
        result, record, authored_above = _apply(node_code, op)
        if authored_above:
            db.session.flush()
            ignored = sorted(k for k in authored_above
                             if record_fields(record).get(k) != op["fields"].get(k))
            if ignored:  # the sender's copy differs in fields it may not write: send it ours
                result = {**result, **state(record), "ignored": ignored}
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


def _apply(node_code: str, op: dict, batch: "Batch | None" = None):
    """Apply one operation: (result, record, fields it may not write). With a ``batch``,
    what it reads comes from the batch's prefetch and nothing is flushed here."""
    model = registry.model(op["type"])
    if model is None:
        raise refuse("unknown_type", f"unknown record type {op['type']}")
    if not values.is_uuid(op["id"]):
        raise refuse("bad_id", "the record id is not a UUID")
    fields = op["fields"]
    record = batch.find(model, op["id"]) if batch else db.session.get(model, op["id"])
    if record is None:
        other = batch.holder(op["id"]) if batch else type_holding(op["id"])
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
        return {"op_id": op["op_id"], "status": "applied", **state(record)}, record, []
    keys = list(registry.fields_of(model)) if op["action"] == "create" else list(op["changed"])
    if op["action"] in ("delete", "restore"):
        keys.append("deleted_at")
    keys = [k for k in dict.fromkeys(keys) if k in fields]
    above = authority.not_writable_by(model, node_code)
    authored_above = [k for k in keys if k in above]
    claimed = _claimed(record, op, authored_above)
    if claimed:
        raise refuse("authored_above", f"{claimed} is written by the "
                                       f"{authority.author_of(model, claimed)}, not by the pushing node",
                     field=claimed)
    keys = [k for k in keys if k not in authored_above]
    check(model, fields, keys + [k for k in TIMES if k in fields], node_code, batch)
    db.session.info.update(keep_stamps=True, sync_source=node_code)
    if op["action"] == "create":
        result = _create(model, record, op, keys, node_code)
        record = batch.find(model, op["id"]) if batch else db.session.get(model, op["id"])
    else:
        result = _change(record, op, keys, node_code)
    return result, record, authored_above


def _claimed(record, op: dict, authored_above: list[str]) -> str | None:
    """The first field authored above the sender that a change claims to write: one it
    lists as changed, with another value than the upstream's (an honest sender's users
    cannot change such a field, so it never lists one). None when it claims none. A
    create claims nothing: it carries every field, and a sender's copy of the upstream's
    (a record sent again after the upstream lost it, with the review it pulled down) is
    indistinguishable from a made-up one; it is ignored, and the answer carries the
    upstream's value."""
    if op["action"] == "create" or record is None:
        return None
    listed = [k for k in authored_above if k in op["changed"]]
    if not listed:
        return None
    here = record_fields(record)
    return next((k for k in listed if here.get(k) != op["fields"].get(k)), None)


def check(model, fields: dict, keys: list[str], node_code: str, batch: "Batch | None" = None) -> None:
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
            _check_targets(refs[key], ids, key, node_code, batch)
    typed = authority.TYPED_REFERENCES.get(model.__tablename__)
    if typed and (typed[0] in keys or typed[1] in keys):
        target = registry.model(fields.get(typed[0]) or "")
        if target is None:
            raise refuse("bad_value", f"{typed[0]} names no record type", field=typed[0])
        _check_targets(target, [fields.get(typed[1])], typed[1], node_code, batch)


def _check_targets(target, ids: list, key: str, node_code: str, batch: "Batch | None" = None) -> None:
    if batch is not None:
        owners = batch.owners(target, ids)
    else:
        owners = dict(db.session.execute(select(target.id, target.owner_node)
                                         .where(target.id.in_(ids))).all())
    for ref_id in ids:
        owner = owners.get(ref_id)
        if owner is None:
            other = batch.holder(ref_id) if batch is not None else type_holding(ref_id)
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


def _stamps(op: dict, node_code: str, new: bool) -> dict:
    """The server's fields: who wrote it is the token's node, and where it came from is
    the sender's subtree (the node named, if it is in it; else the sender)."""
    who = f"sync:{node_code}"
    if not new:
        return {"updated_by": who}
    origin = op["fields"].get("origin_node")
    return {"updated_by": who, "created_by": who,
            "origin_node": origin if isinstance(origin, str) and origin
            and authority.within(origin, node_code) else node_code}


def _stamp(record, op: dict, node_code: str, new: bool) -> None:
    for key, value in _stamps(op, node_code, new).items():
        setattr(record, key, value)


def _batch() -> "Batch | None":
    return db.session.info.get("sync_batch")


def _create(model, record, op, keys: list[str], node_code: str) -> dict:
    fields = op["fields"]
    if record is not None:
        current = record_fields(record)
        if all(current.get(k) == fields.get(k) for k in keys):
            return {"op_id": op["op_id"], "status": "applied", **state(record)}
        raise refuse("exists_different", "a record with this id exists with other content")
    batch = _batch()
    assigned = keys + [k for k in TIMES if k in fields]
    if batch is not None and as_rows(model):
        batch.made[op["id"]] = model.__tablename__
        batch.new.add(model, op["id"], fields, assigned, _stamps(op, node_code, new=True),
                      op["version"], op["base_version"])
        return {"op_id": op["op_id"], "status": "applied", "version": op["version"]}
    record = model(id=op["id"])
    registry.assign(record, fields, assigned, related=batch.related if batch else None)
    _stamp(record, op, node_code, new=True)
    record.version = op["version"]
    record.field_versions = {key: op["version"] for key in registry.fields_of(model)}
    record._sync_base_version = op["base_version"]
    db.session.add(record)
    if batch is not None:
        batch.made_here(record)
    else:
        db.session.flush()
    return {"op_id": op["op_id"], "status": "applied", "version": record.version}


def _change(record, op: dict, changed: list[str], node_code: str) -> dict:
    """An update, delete or restore: apply what only the downstream changed, keep both
    values of what both changed (a conflict), never bring a deleted record back by an edit."""
    batch = _batch()
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
        registry.assign(record, fields, to_apply + [k for k in ("updated_at",) if k in fields],
                        related=batch.related if batch else None)
        _stamp(record, op, node_code, new=False)
        record.version = new_version
        record.field_versions = {**(record.field_versions or {}),
                                 **{k: new_version for k in to_apply}}
        record._sync_base_version = previous
        if batch is None:
            db.session.flush()
    if op.get("resolves") and not deleted_here:
        resolve_conflicts(op["type"], record.id, f"sync:{node_code}")
    elif conflicting or deleted_here:
        values_ = {k: {"here": here.get(k), "there": fields.get(k)} for k in conflicting}
        db.session.add(SyncConflict(record_type=op["type"], record_id=record.id, fields=values_,
                                    deleted_there=False, other_node=node_code))
        if batch is None:
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
    by_type = {}
    for record_type, record_id in latest:
        if registry.model(record_type) is not None:
            by_type.setdefault(record_type, []).append(record_id)
    states = {}
    for record_type, ids in by_type.items():  # a query per type and collection
        for record_id, current in wire_states(registry.model(record_type), ids).items():
            states[(record_type, record_id)] = current
    open_ = set(db.session.execute(select(SyncConflict.record_type, SyncConflict.record_id).where(
        among(SyncConflict.record_id, [i for _, i in latest]), SyncConflict.resolved_at.is_(None))).all())
    changes = []
    for key, seq in sorted(latest.items(), key=lambda item: item[1]):
        current = states.get(key)
        if current is None:
            continue
        changes.append({"seq": seq, "type": key[0], "id": key[1], "version": current["version"],
                        "fields": current["fields"], "conflict_open": key in open_})
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
    log_changes(db.session(), [{"record_type": record.__tablename__, "record_id": record.id,
                              "owner_node": record.owner_node, "source_node": source_node,
                              "at": utcnow()}])
