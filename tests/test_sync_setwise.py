"""A push is applied set-wise (app/sync/server.py ``Batch``): the statements a batch
costs do not grow with its operations, and what the set-wise step cannot settle (a
second change of a record in the same batch, a statement the database refuses) is
applied one by one with the same outcome as ever. On SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set."""
import threading
import uuid

import pytest
from sqlalchemy import event, func, select

from app.core.extensions import db
from app.models import AppliedOperation, AuditEntry, ChangeLogEntry, Commissioner, Visit
from tests.settings import STATION
from tests.sync_helpers import create_op, push, station_and_league, token_of


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pair(request, tmp_path_factory):
    yield from station_and_league(request.param, tmp_path_factory.mktemp("setwise"), "setwise")


class Statements:
    """Counts the statements the league's database is sent (an executemany is one)."""

    def __init__(self, app):
        self.app, self.count = app, 0

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def commissioners(n, cluster=None):
    extra = {"clusters": [cluster]} if cluster else {}
    return [create_op("commissioner", str(uuid.uuid4()), {"name": f"特派员{i}", **extra})
            for i in range(n)]


def a_cluster(league):
    with league.app_context():
        from app.models import Cluster
        return db.session.scalar(select(Cluster.id).limit(1))


def test_the_statements_of_a_batch_do_not_grow_with_its_operations(pair):
    station, league, transport = pair
    token, cluster = token_of(station), a_cluster(league)
    with Statements(league) as small:
        results = push(league, commissioners(10, cluster), token)
    assert {r["status"] for r in results} == {"applied"}
    with Statements(league) as large:
        results = push(league, commissioners(200, cluster), token)
    assert {r["status"] for r in results} == {"applied"}
    assert large.count <= small.count + 4, (small.count, large.count)
    assert large.count < 40


def test_every_operation_of_a_batch_leaves_its_bookkeeping(pair):
    station, league, transport = pair
    ops = commissioners(5, a_cluster(league))
    push(league, ops, token_of(station))
    ids = [op["id"] for op in ops]
    with league.app_context():
        assert db.session.scalar(select(func.count()).select_from(AppliedOperation).where(
            AppliedOperation.op_id.in_([op["op_id"] for op in ops]))) == 5
        assert db.session.scalar(select(func.count()).select_from(ChangeLogEntry).where(
            ChangeLogEntry.record_id.in_(ids))) == 5
        audits = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id.in_(ids))).all()
        assert len(audits) == 5 and all(a.changes["clusters"][1] for a in audits)
        assert all(a.actor == f"sync:{STATION}" or a.actor for a in audits)


def test_a_record_created_and_changed_in_one_batch_ends_as_changed(pair):
    station, league, transport = pair
    create = create_op("commissioner", str(uuid.uuid4()), {"name": "王建国", "specialty": "肉羊"})
    update = {**create, "op_id": str(uuid.uuid4()), "action": "update", "base_version": 1,
              "version": 2, "changed": ["specialty"],
              "fields": {**create["fields"], "specialty": "肉牛"}}
    results = push(league, [create, update], token_of(station))
    assert [r["status"] for r in results] == ["applied", "applied"]
    with league.app_context():
        record = db.session.get(Commissioner, create["id"])
        assert (record.specialty, record.version) == ("肉牛", 2)
    again = push(league, [create, update], token_of(station))
    assert [(r["status"], r["first_status"]) for r in again] == [("duplicate", "applied")] * 2


def visit_op(number, **extra):
    return create_op("visit", str(uuid.uuid4()), {
        "number": number, "year": 2026, "sequence": 1, "visited_on": "2026-01-01",
        **extra})


def test_a_statement_the_database_refuses_is_that_operations_alone(pair):
    """Two visits with one number: the database refuses the second (a unique key no
    value check knows of); the set-wise step fails, and the batch is applied one by one:
    the first visit and the other operations apply, the second is refused alone."""
    station, league, transport = pair
    number = f"V-{uuid.uuid4().hex[:8]}"
    ops = [visit_op(number), *commissioners(2), visit_op(number), *commissioners(2)]
    results = push(league, ops, token_of(station))
    assert [r["status"] for r in results] == ["applied"] * 3 + ["rejected"] + ["applied"] * 2
    assert results[3]["code"] == "database"
    with league.app_context():
        assert db.session.scalar(select(func.count()).select_from(Visit)
                                 .where(Visit.number == number)) == 1
        assert db.session.get(AppliedOperation, (STATION, ops[3]["op_id"])) is None


def test_a_pulled_page_costs_statements_by_type_not_by_change(pair):
    """The station reads a page with a query per type (records, pending edits, open
    conflicts) and writes only the fields that differ."""
    from flask import g

    from tests.sync_helpers import sync
    station, league, transport = pair

    def league_changes(n):
        with station.app_context():
            g.actor = "staff"
            made = [Commissioner(name=f"员{i}", owner_node=STATION) for i in range(n)]
            db.session.add_all(made)
            db.session.flush()
            ids = [c.id for c in made]
            db.session.commit()
        sync(station, transport)
        with league.app_context():
            g.actor = "reviewer"
            for c in db.session.scalars(select(Commissioner).where(Commissioner.id.in_(ids))):
                c.specialty = "盟里改过"
            db.session.commit()
        with Statements(station) as statements:
            run = sync(station, transport)
        assert run.pulled == n
        with station.app_context():
            assert {c.specialty for c in db.session.scalars(
                select(Commissioner).where(Commissioner.id.in_(ids)))} == {"盟里改过"}
        return statements.count
    small, large = league_changes(5), league_changes(80)
    assert large <= small + 4, (small, large)


def test_a_create_names_no_changed_fields_and_ids_of_a_batch_share_a_prefix(pair):
    """Fewer bytes on the wire: a create sets every field, so its ``changed`` list is
    empty (a receiver ignores it on a create, old and new alike); operation ids share
    a per-process prefix, which gzip carries in a few bytes."""
    from flask import g

    from app.models import OutboxEntry
    station, league, transport = pair
    with station.app_context():
        g.actor = "staff"
        made = [Commissioner(name=f"新{i}", owner_node=STATION) for i in range(3)]
        db.session.add_all(made)
        db.session.commit()
        made[0].specialty = "肉牛"
        db.session.commit()
        entries = db.session.scalars(select(OutboxEntry).where(
            OutboxEntry.record_id.in_([c.id for c in made])).order_by(OutboxEntry.seq)).all()
        assert [(e.action, e.changed) for e in entries] == [("create", [])] * 3 + [("update", ["specialty"])]
        assert len({e.op_id for e in entries}) == 4 and {len(e.op_id) for e in entries} == {36}
        assert len({e.op_id[:20] for e in entries}) == 1



# Where a copy of the push lands while the batch runs: before its reads, between two of
# them (read committed: one query sees the copy's records, the one before did not), and
# before its writes. Each is a name in app.sync.server (or a Batch method) to wrap.
MOMENTS = {"before its reads": ("Batch", "_prefetch"), "between its reads": (None, "union_all"),
           "before its writes": ("NewRows", "write")}


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_copy_applied_while_a_batch_runs_makes_that_batch_answer_duplicate(pair, monkeypatch, moment):
    """Two copies of one push at once (a retry after a lost answer): whenever the first
    lands during the second, the second answers ``duplicate`` for every operation; it
    neither applies again nor refuses what the first applied."""
    from app.sync import server
    station, league, transport = pair
    token, ops = token_of(station), commissioners(5, a_cluster(league))
    first: list = []
    owner_name, name = MOMENTS[moment]
    owner = getattr(server, owner_name) if owner_name else server
    real = getattr(owner, name)

    def landing_first(*args, **kwargs):
        if not first:
            first.append(None)
            landing = threading.Thread(target=lambda: first.append(push(league, ops, token)))
            landing.start()
            landing.join(timeout=60)
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, landing_first)
    second = push(league, ops, token)
    assert [r["status"] for r in first[1]] == ["applied"] * 5
    assert [(r["status"], r["first_status"]) for r in second] == [("duplicate", "applied")] * 5
    with league.app_context():
        assert db.session.scalar(select(func.count()).select_from(AppliedOperation).where(
            AppliedOperation.op_id.in_([op["op_id"] for op in ops]))) == 5
        assert db.session.scalar(select(func.count()).select_from(Commissioner).where(
            Commissioner.id.in_([op["id"] for op in ops]))) == 5
