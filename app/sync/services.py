"""Sync as people see it: the status in the header, rejected operations to fix, and
conflicts to resolve field by field."""
import time

from flask import abort, current_app
from sqlalchemy import inspect, select

from app.core.extensions import db
from app.core.history import new_op_id, record_fields
from app.core.node import this_node
from app.core.security import get_or_404, scoped
from app.models import OutboxEntry, SyncConflict, SyncRun, utcnow
from app.sync import client, registry
from app.sync.server import note_change

_HEADER_CACHE: dict = {}
HEADER_TTL = 3.0  # seconds: the header's figures may be this old; the sync page is exact


def header_status() -> dict:
    """``status()`` for the header of every page, computed at most every few seconds per
    node (counting the outbox on each page view would slow every page)."""
    key = current_app.instance_path
    now = time.monotonic()
    cached = _HEADER_CACHE.get(key)
    if cached and now - cached[0] < HEADER_TTL and client.PROGRESS.phase == "idle":
        return cached[1]
    value = status()
    _HEADER_CACHE[key] = (now, value)
    return value


def status() -> dict:
    """What the header shows: pending, rejected, open conflicts, last success and error."""
    settings = client.upstream()
    return {
        "configured": settings is not None,
        "pending": client.pending_count(),
        "held": client.held_count(),
        "rejected": client.rejected_count(),
        "conflicts": len(open_conflicts()),
        "last_success": settings.last_success_at if settings else None,
        "last_error": settings.last_error if settings else "",
        "running": client.PROGRESS.phase != "idle",
        "phase": client.PROGRESS.phase,
        "figures": client.PROGRESS.figures,
    }


def recent_runs(limit: int = 20) -> list[SyncRun]:
    return db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)).all()


def rejected_operations(limit: int | None = None) -> list[OutboxEntry]:
    stmt = select(OutboxEntry).where(OutboxEntry.rejected_at.is_not(None)).order_by(OutboxEntry.seq)
    return db.session.scalars(stmt.limit(limit)).all()


def held_operations(limit: int | None = None) -> list[OutboxEntry]:
    stmt = select(OutboxEntry).where(OutboxEntry.rejected_at.is_(None),
                                     OutboxEntry.held_at.is_not(None)).order_by(OutboxEntry.seq)
    return db.session.scalars(stmt.limit(limit)).all()


def _resend(entry: OutboxEntry) -> None:
    """Make a refused operation pending again, under a new operation id and with the
    record's values as they are now (a person may have corrected the record since). The
    record's later changes stay behind it, in order."""
    model = registry.model(entry.record_type)
    record = db.session.get(model, entry.record_id) if model else None
    if record is not None and entry.action != "resolve":
        entry.fields = record_fields(record)
    entry.op_id = new_op_id()
    entry.rejected_at = entry.held_at = None
    entry.reject_reason, entry.problem = None, None


def retry(entry: OutboxEntry) -> None:
    """Send a refused operation again at the next sync."""
    _resend(entry)
    db.session.commit()


def retry_all() -> int:
    """Send every refused operation again; returns how many."""
    entries = rejected_operations()
    for entry in entries:
        _resend(entry)
    db.session.commit()
    return len(entries)


def _discard(entry: OutboxEntry) -> int:
    """Give up an operation; the record stays as it is here. Giving up a record's
    creation gives up its later changes too: without it they can never apply."""
    doomed = [entry]
    if entry.action == "create":
        doomed += db.session.scalars(select(OutboxEntry).where(
            OutboxEntry.record_type == entry.record_type, OutboxEntry.record_id == entry.record_id,
            OutboxEntry.seq > entry.seq)).all()
    for each in doomed:
        db.session.delete(each)
    return len(doomed)


def discard(entry: OutboxEntry) -> int:
    count = _discard(entry)
    db.session.commit()
    return count


def discard_all() -> int:
    """Give up every refused operation (and what depends on it); returns how many."""
    count = 0
    for entry in rejected_operations():
        if inspect(entry).persistent:
            count += _discard(entry)
            db.session.flush()
    db.session.commit()
    return count


def open_conflicts() -> list[SyncConflict]:
    return db.session.scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None))
                              .order_by(SyncConflict.id)).all()


def conflict_record(conflict: SyncConflict):
    """The conflicting record, if the user's node may see it (else 404)."""
    model = registry.model(conflict.record_type)
    if model is None:  # a type this program version does not know
        abort(404)
    return get_or_404(model, conflict.record_id, include_deleted=True)


def resolve(conflict: SyncConflict, record, choices: dict, actor: str) -> None:
    """Apply the values a person chose ({field: "here" | "there"}) as a normal edit,
    which syncs like any other and tells the other side the conflict is settled."""
    chosen = {field: conflict.fields[field][side] for field, side in choices.items()
              if field in conflict.fields and side in ("here", "there")}
    current = record_fields(record)
    changes = {k: v for k, v in chosen.items() if current.get(k) != v}
    session = db.session
    session.info["resolving"] = {(conflict.record_type, conflict.record_id)}
    try:
        if changes:
            registry.assign(record, changes)
        else:  # nothing changes here, but both sides must hear it is settled
            session.add(OutboxEntry(
                record_type=conflict.record_type, record_id=record.id, action="resolve",
                base_version=record.version, version=record.version + 1, changed=[], fields={},
                resolves_conflict=True))
            note_change(record, this_node().code)
        conflict.resolved_at, conflict.resolved_by = utcnow(), actor
        session.commit()
    finally:
        session.info.pop("resolving", None)
    current_app.logger.info("conflict %s resolved by %s", conflict.id, actor)


TOTAL_TYPES = ("commissioner", "service_target", "visit", "training", "agreement")


def totals_by_node(user) -> tuple[list[str], list[dict]]:
    """Live records per node below the user's node that the user may read, for the main
    record types present: (the types, rows of {"code", "name", type: count})."""
    from sqlalchemy import func

    from app.core.node import subtree
    from app.models import Peer
    names = {p.code: p.name for p in db.session.scalars(select(Peer))}
    kinds = [t for t in TOTAL_TYPES if registry.model(t) is not None]
    table = {}
    for kind in kinds:
        model = registry.model(kind)
        for owner, count in db.session.execute(
                scoped(model, user).with_only_columns(model.owner_node, func.count())
                .where(subtree(model.owner_node, user.node_code)).group_by(model.owner_node)):
            table.setdefault(owner, {})[kind] = count
    rows = [{"code": code, "name": names.get(code, ""), **counts}
            for code, counts in sorted(table.items())]
    return kinds, rows
