"""Sync's row-wise reads and writes (app/sync/rows.py) give the ORM's answers: a
record's wire form read as rows is ``record_fields`` of the object, and a change adopted
as rows leaves the same record, audit entry and change-log row as ``client.adopt``
through the ORM. Over every synced type of a seeded demo station, on SQLite and on
PostgreSQL when TEST_DATABASE_URL is set."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from flask import g
from sqlalchemy import inspect, select

from app.core.extensions import db
from app.core.history import record_fields
from app.demo import seed
from app.models import AuditEntry
from app.sync import client, registry, rows


@pytest.fixture
def seeded(app):
    with app.app_context():
        g.actor = "seed"
        seed("small")
        db.session.commit()
    return app


def _records(model, limit=None):
    stmt = select(model).order_by(model.id)
    return db.session.scalars(stmt.limit(limit) if limit else stmt).all()


def test_wire_states_are_record_fields_for_every_type(seeded):
    with seeded.app_context():
        seen = 0
        for model in registry.types().values():
            records = _records(model)
            states = rows.wire_states(model, [r.id for r in records])
            assert set(states) == {r.id for r in records}
            for record in records:
                assert states[record.id]["fields"] == record_fields(record), (model, record.id)
                assert states[record.id]["version"] == record.version
            seen += bool(records)
        assert seen >= 12  # the demo has records of most types


def _other(model, key, value):
    """A different value of the same kind, as the wire would carry it."""
    column = inspect(model).columns[key]
    kind = column.type.python_type
    if kind is bool:
        return not value
    if kind is int:
        return (value or 0) + 1
    if kind is Decimal:
        return str(Decimal(value or 0) + 1)
    if kind is datetime:
        return (datetime.fromisoformat(value) if value else datetime(2026, 5, 1, 8)).__add__(
            timedelta(hours=3)).isoformat()
    if kind is date:
        return (date.fromisoformat(value) if value else date(2026, 5, 1)).__add__(timedelta(days=1)).isoformat()
    if kind is str and column.type.length and value and len(value) >= column.type.length - 2:
        return value[:-1]
    if kind is str:
        return (value or "") + "盟"
    return None


def _upstream_changes(model, records, stamp):
    """A change per record, as a pulled page carries it: every plain field that can
    take another value is changed in one record or another; one record is deleted."""
    plain = [k for k in registry.fields_of(model) if k not in rows.structural(model)]
    changes = []
    for n, record in enumerate(records):
        fields = dict(record_fields(record))
        for key in plain[n % 3::3]:
            other = _other(model, key, fields[key])
            if other is not None and key not in ("owner_node", "deleted_at"):
                fields[key] = other
        if n == 1 and "deleted_at" in fields:
            fields["deleted_at"] = "2026-11-30T08:00:00"
        fields.update(updated_by=stamp, updated_at="2026-11-30T09:00:00")
        changes.append({"type": model.__tablename__, "id": record.id, "version": record.version + 2,
                        "fields": fields})
    return changes


def _outcome(model, ids, audit_after):
    """What the records, their audit entries and their queued change-log rows are now."""
    db.session.flush()
    records = {r.id: (record_fields(r), r.version, r.field_versions)
               for r in db.session.scalars(select(model).where(model.id.in_(ids)))}
    audit = sorted((a.record_type, a.record_id, a.action, a.version, a.changes, a.actor, a.node)
                   for a in db.session.scalars(select(AuditEntry).where(AuditEntry.id > audit_after)))
    logged = sorted((row["record_type"], row["record_id"], row["owner_node"], row["source_node"])
                    for _, row in db.session.info.get("change_log", []))
    return records, audit, logged


@pytest.mark.parametrize("stamp", ["reviewer", "sync:150121-01"])
def test_a_change_adopted_as_rows_is_what_the_orm_makes_of_it(seeded, stamp):
    with seeded.app_context():
        g.actor = "sync"
        audit_after = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        compared = 0
        for model in registry.types().values():
            records = _records(model, 6)
            if not records:
                continue
            changes = _upstream_changes(model, records, stamp)
            ids = [r.id for r in records]

            client._adopting_from("1501")
            try:
                for change in changes:
                    client.adopt(change)
                by_orm = _outcome(model, ids, audit_after)
            finally:
                db.session.rollback()
                client._clear_flags()

            client._adopting_from("1501")
            try:
                adoption, states = rows.Adoption(), rows.wire_states(model, ids)
                taken = [adoption.take(model, states[c["id"]], c) for c in changes]
                adoption.write()
                db.session.expire_all()
                by_rows = _outcome(model, ids, audit_after)
            finally:
                db.session.rollback()
                client._clear_flags()
            assert taken == [True] * len(changes), model
            assert by_rows == by_orm, model
            assert by_rows[1] and by_rows[2], model  # something was audited and logged
            compared += 1
        assert compared >= 12


def test_a_change_to_a_reference_or_a_collection_is_left_to_the_orm(seeded):
    with seeded.app_context():
        from app.models import Visit
        visit, other = _records(Visit, 2)
        states = rows.wire_states(Visit, [visit.id])
        fields = dict(record_fields(visit))
        adoption = rows.Adoption()
        same = {"type": "visit", "id": visit.id, "version": visit.version, "fields": fields}
        assert adoption.take(Visit, states[visit.id], same) is False  # nothing to do
        moved = {**same, "version": visit.version + 1,
                 "fields": {**fields, "village_id": other.village_id}}
        if other.village_id != visit.village_id:
            assert adoption.take(Visit, states[visit.id], moved) is None
        team = {**same, "version": visit.version + 1, "fields": {**fields, "commissioners": []}}
        assert adoption.take(Visit, states[visit.id], team) is None
        assert not adoption.updates and not adoption.audited


@pytest.mark.parametrize("before", [{"notes": 7, "review_state": 2, "problem": 1}, {}, None])
def test_field_versions_are_merged_by_the_update(seeded, before):
    """The UPDATE merges the versions of the fields a change sets into the record's own
    (``{**before, **patch}``; a record without any, or with JSON null, takes the patch),
    as the ORM does (the column is NOT NULL)."""
    with seeded.app_context():
        from app.models import Visit
        visit = _records(Visit, 1)[0]
        db.session.execute(Visit.__table__.update().where(Visit.__table__.c.id == visit.id)
                           .values(field_versions=before))
        db.session.commit()
        fields = {**record_fields(visit), "review_state": "returned", "review_comment": "补照片"}
        change = {"type": "visit", "id": visit.id, "version": visit.version + 3, "fields": fields}
        client._adopting_from("1501")
        try:
            adoption = rows.Adoption()
            assert adoption.take(Visit, rows.wire_states(Visit, [visit.id])[visit.id], change) is True
            adoption.write()
            db.session.expire_all()
            merged = db.session.get(Visit, visit.id).field_versions
        finally:
            db.session.rollback()
            client._clear_flags()
        assert merged == {**(before if isinstance(before, dict) else {}), "review_state": visit.version + 3,
                          "review_comment": visit.version + 3}


def test_the_collector_is_paused_only_inside_the_block():
    import gc
    assert gc.isenabled()
    with rows.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), rows.paused_gc():
        raise RuntimeError("a failed page")
    assert gc.isenabled()
    gc.disable()
    try:
        with rows.paused_gc():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
