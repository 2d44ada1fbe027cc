"""New records of a push written as rows (app/sync/creates.py) leave what the ORM leaves:
a seeded demo station's whole outbox pushed to two leagues, one making its new records
as rows and one through the ORM, gives the same records, links, audit entries,
change-log rows, outbox entries (the league's own, for its upstream) and answers, on
SQLite and on PostgreSQL when TEST_DATABASE_URL is set."""
import json
from collections import Counter

import pytest
from flask import g
from sqlalchemy import select

from app.core.extensions import db
from app.demo import seed
from app.models import AppliedOperation, AuditEntry, ChangeLogEntry, OutboxEntry
from app.sync import client, peers, registry, server
from app.sync.rows import links_of
from tests.node_processes import league_database
from tests.settings import STATION
from tests.sync_helpers import make_node, push

BATCH = 500


@pytest.fixture(scope="module")
def station_ops(tmp_path_factory):
    """The operations a seeded demo station sends, in its sending order, as the wire
    carries them."""
    station = make_node(tmp_path_factory.mktemp("creates"), "station", "station", STATION, "土左旗工作站")
    with station.app_context():
        g.actor = "seed"
        seed("small")
        db.session.commit()
        entries = {e.seq: e for e in db.session.scalars(select(OutboxEntry))}
        ops = [client._op(entries[seq]) for seq in client.sending_order()]
        db.session.remove()
        db.engine.dispose()
    return json.loads(json.dumps(ops, default=str))


def _league(tmp_path, name, database):
    league = make_node(tmp_path, name, "league", "1501", "呼和浩特市科技局",
                       url=league_database(database, f"creates_{name}"))
    with league.app_context():
        _, token = peers.enroll(STATION, "土左旗工作站")
    return league, token


def _everything(league, pushed: set) -> dict:
    """What the league holds after the push (of its records, the ``pushed`` ones: the
    shipped ones are stamped when each league is set up), without the moments of writing
    and the league's own operation ids."""
    with league.app_context():
        found = {}
        for name, model in registry.types().items():
            found[name] = sorted(
                json.dumps({**{c.name: getattr(r, c.key) for c in model.__table__.columns
                               if c.key != "field_versions"}, "field_versions": r.field_versions},
                           default=str, sort_keys=True)
                for r in db.session.scalars(select(model)) if r.id in pushed)
            for this_side, other_side in links_of(model).values():
                found[this_side.table.name] = sorted(db.session.execute(
                    select(this_side, other_side)).all())
        found["audit"] = Counter(json.dumps([a.record_type, a.record_id, a.action, a.version, a.changes,
                                             a.actor, a.node], sort_keys=True)
                                 for a in db.session.scalars(select(AuditEntry)) if a.record_id in pushed)
        found["change_log"] = Counter((c.record_type, c.record_id, c.owner_node, c.source_node)
                                      for c in db.session.scalars(select(ChangeLogEntry)))
        found["outbox"] = Counter(json.dumps([o.record_type, o.record_id, o.action, o.base_version, o.version,
                                              o.changed, o.fields], sort_keys=True)
                                  for o in db.session.scalars(select(OutboxEntry)))
        found["applied"] = sorted(json.dumps([a.op_id, a.digest, a.result], sort_keys=True)
                                  for a in db.session.scalars(select(AppliedOperation)))
        db.session.remove()
        db.engine.dispose()
        return found


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_new_records_as_rows_are_what_the_orm_makes(station_ops, tmp_path, monkeypatch, database):
    answers = {}
    for name, rows_path in (("as_rows", True), ("orm", False)):
        monkeypatch.setattr(server, "as_rows", server.as_rows if rows_path else lambda model: False)
        league, token = _league(tmp_path, name, database)
        answers[name] = [r for i in range(0, len(station_ops), BATCH)
                         for r in push(league, station_ops[i:i + BATCH], token)]
        answers[name + " holds"] = _everything(league, {op["id"] for op in station_ops})
    assert Counter(r["status"] for r in answers["as_rows"]) == {"applied": len(station_ops)}
    assert answers["as_rows"] == answers["orm"]
    rows, orm = answers["as_rows holds"], answers["orm holds"]
    assert rows.keys() == orm.keys()
    for key in rows:
        assert rows[key] == orm[key], key
    assert sum(rows["audit"].values()) >= len(station_ops)
    assert any(r.get("ignored") for r in answers["as_rows"])  # the demo's reviews: the league's word
