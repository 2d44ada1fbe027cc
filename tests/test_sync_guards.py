"""Guards on what sync's promises rest on, each breaking at a chosen step (deterministic
twins of the fault tests that kill processes at a random moment):

- a record and its outbox entry are committed together, or neither;
- a pulled page and its checkpoint are saved together: a failure mid-page loses nothing;
- the upstream dies mid-batch: what it applied is answered from its record, the rest is sent again;
- a received file whose bytes do not match its SHA-256 is refused and nothing is kept;
- the instance folder, its database, secret key, token and uploads are owner-only.
"""
import hashlib
import os
import stat
import uuid

import pytest
from flask import g
from sqlalchemy import func, select

from app.core import files, history
from app.core.extensions import db
from app.models import AppliedOperation, Commissioner, OutboxEntry, Upstream
from app.sync import client, rows, server, wire
from tests.factories import count
from tests.sync_helpers import sync

STATION = "150121-01"


def create(app, n, prefix="特派员"):
    with app.app_context():
        g.actor = "staff"
        records = [Commissioner(name=f"{prefix}{i}", owner_node=STATION) for i in range(n)]
        db.session.add_all(records)
        db.session.commit()
        return [r.id for r in records]


def test_a_rolled_back_write_leaves_no_outbox_entry(nodes):
    station, _, _ = nodes
    with station.app_context():
        g.actor = "staff"
        db.session.add(Commissioner(name="未保存", owner_node=STATION))
        db.session.flush()
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
        db.session.rollback()
    assert count(station, Commissioner) == 0 and count(station, OutboxEntry) == 0


def test_a_failing_outbox_insert_rolls_the_record_back(nodes, monkeypatch):
    station, _, _ = nodes
    table = OutboxEntry.__table__
    real_insert = table.insert

    def broken_insert(*args, **kwargs):
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(table, "insert", broken_insert)
    with station.app_context():
        g.actor = "staff"
        db.session.add(Commissioner(name="写不进去", owner_node=STATION))
        with pytest.raises(RuntimeError):
            db.session.commit()
        db.session.rollback()
    monkeypatch.setattr(table, "insert", real_insert)
    assert count(station, Commissioner) == 0 and count(station, OutboxEntry) == 0


@pytest.mark.parametrize("fail_at", [1, 37, 120, "audit"])
def test_a_pull_failing_mid_page_loses_nothing(nodes, monkeypatch, fail_at):
    """Power lost while a page is applied: at the n-th change, or after the page's
    UPDATEs ran and before their audit entries were written."""
    station, league, transport = nodes
    ids = create(station, 150)
    sync(station, transport)
    with league.app_context():
        g.actor = "reviewer"
        for c in db.session.scalars(select(Commissioner)):
            c.specialty = "盟里改过"
        db.session.commit()
    real_adopt, real_take = client.adopt, rows.Adoption.take
    calls = {"n": 0}

    def fail_at_call():
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError("the station lost power here")

    def adopt_until(state):
        fail_at_call()
        return real_adopt(state)

    def take_until(adoption, model, current, change):
        fail_at_call()
        return real_take(adoption, model, current, change)
    def audit_fails(session, adopted):
        raise OSError("the station lost power here")
    monkeypatch.setattr(client, "adopt", adopt_until)
    monkeypatch.setattr(rows.Adoption, "take", take_until)
    if fail_at == "audit":
        monkeypatch.setattr(rows, "write_adopted", audit_fails)
    with pytest.raises(OSError):
        sync(station, transport)
    with station.app_context():
        assert db.session.scalar(select(Upstream.pull_checkpoint)) == 0 or fail_at > wire.PULL_LIMIT
        changed = db.session.scalar(select(func.count()).select_from(Commissioner)
                                    .where(Commissioner.specialty == "盟里改过"))
        assert changed == 0  # the page was applied whole or not at all
    monkeypatch.setattr(client, "adopt", real_adopt)
    monkeypatch.setattr(rows.Adoption, "take", real_take)
    monkeypatch.setattr(rows, "write_adopted", history.write_adopted)
    sync(station, transport)
    with station.app_context():
        db.session.remove()
        assert set(db.session.scalars(select(Commissioner.specialty))) == {"盟里改过"}
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == len(ids)


class Crash(BaseException):
    """The upstream process dies: not an error any handler catches."""


@pytest.mark.parametrize("die_at", [1, 7])
def test_the_upstream_dying_mid_batch_leaves_each_operation_whole_or_absent(nodes, monkeypatch, die_at):
    station, league, transport = nodes
    create(station, 10)
    real = server._create
    calls = {"n": 0}

    def dying(*args):
        calls["n"] += 1
        if calls["n"] == die_at:
            raise Crash()
        return real(*args)
    monkeypatch.setattr(server, "_create", dying)

    def transport_until_crash(*args):
        try:
            return transport(*args)
        except Crash:
            with league.app_context():
                db.session.remove()  # what the dead process held is gone
            raise client.SyncError("upstream unreachable: connection reset") from None
    with pytest.raises(client.SyncError):
        sync(station, transport_until_crash)
    applied = count(league, AppliedOperation)
    assert applied == count(league, Commissioner) < 10
    monkeypatch.setattr(server, "_create", real)
    run = sync(station, transport)
    assert run.rejected == 0 and run.held == 0
    assert count(league, Commissioner) == count(league, AppliedOperation) == 10
    assert count(station, OutboxEntry) == 0


def test_a_file_whose_bytes_do_not_match_its_digest_is_refused_and_not_kept(nodes):
    station, league, _ = nodes
    data = b"\xff\xd8 a photo " * 1000
    sha = hashlib.sha256(data).hexdigest()
    with station.app_context():
        g.actor = "staff"
        from app.models import Attachment
        db.session.add(Attachment(record_type="commissioner", record_id=create(station, 1)[0],
                                  kind="photo", sha256=sha, content_type="image/jpeg",
                                  size=len(data), owner_node=STATION))
        db.session.commit()
        token = client.read_token()
    transport = nodes[2]
    sync(station, transport)  # the attachment row arrives; its file is not on the station
    web = league.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL)}
    tampered = data[:-1] + b"!"
    response = web.put(f"/api/sync/v1/files/{sha}?offset=0&final=1", data=tampered, headers=headers)
    assert response.status_code == 422
    with league.app_context():
        assert not files.exists(sha) and files.received(sha) == 0
    response = web.put(f"/api/sync/v1/files/{sha}?offset=0&final=1", data=data, headers=headers)
    assert response.status_code == 200
    with league.app_context():
        assert files.exists(sha)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_instance_folder_and_what_it_holds_are_owner_only(tmp_path):
    """After `flask node init`, `flask upstream set` and an upload, as a station is set up."""
    from tests.node_processes import Node, app_for
    node = Node(tmp_path / "station", "station", STATION, "土左旗工作站", fresh=True)
    node.flask("upstream", "set", "--url", "http://10.0.0.5:5000", "--token", "kp1_" + "a" * 40)
    folder = str(node.folder)
    database = os.path.join(folder, "kepai.sqlite3")
    app = app_for(node)
    with app.app_context():
        stored = files.path(files.store(b"a scanned agreement " + uuid.uuid4().bytes))
        db.engine.dispose()
    assert _mode(folder) == 0o700
    for path in (database, os.path.join(folder, "secret_key"), stored,
                 os.path.join(folder, client.TOKEN_FILE)):
        assert _mode(path) == 0o600, path
    assert _mode(os.path.dirname(stored)) == 0o700
    with open(database, "rb") as f:
        assert b"kp1_" + b"a" * 40 not in f.read()  # the token is not in the database file
