"""Sync faults between real server processes on loopback: a station on SQLite and its
league (on PostgreSQL when TEST_DATABASE_URL is set, else SQLite), started and killed
with SIGKILL by the tests. Nothing may be lost and nothing applied twice."""
import os
import random
import threading
import time
import urllib.request
from collections import Counter

import pytest
from flask import g
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import AppliedOperation, Commissioner, OutboxEntry
from app.sync import wire
from tests.node_processes import LosingProxy, Node, beside

STATION = "150121-01"


@pytest.fixture
def pair(tmp_path):
    """A league process (on PostgreSQL when TEST_DATABASE_URL is set) and a station (not
    started) enrolled on it; each node's set-up commands run in this process."""
    pg = os.environ.get("TEST_DATABASE_URL")
    league_db = beside(pg, "fault_league") if pg else None
    league = Node(tmp_path / "league", "league", "1501", "呼和浩特市科技局", league_db).start()
    station = Node(tmp_path / "station", "station", STATION, "土左旗工作站")
    token = league.enroll(STATION, "土左旗工作站")
    station.cli("upstream", "set", "--url", league.url, "--token", token)
    nodes = {"league": league, "station": station, "token": token,
             "league_app": league.app, "station_app": station.app}
    yield nodes
    for key in ("league", "station"):
        nodes[key].close()


def create(app, count=1, prefix="特派员"):
    with app.app_context():
        g.actor = "staff"
        ids = []
        for i in range(count):
            c = Commissioner(name=f"{prefix}{i}", owner_node=STATION, specialty="肉羊")
            db.session.add(c)
            db.session.flush()
            ids.append(c.id)
        db.session.commit()
        return ids


def counts(app) -> tuple[int, int, int]:
    """(commissioners, distinct commissioner ids, applied operations) on a node."""
    with app.app_context():
        db.session.remove()
        n = db.session.scalar(select(func.count()).select_from(Commissioner)
                              .where(Commissioner.owner_node == STATION))
        distinct = db.session.scalar(select(func.count(func.distinct(Commissioner.id)))
                                     .where(Commissioner.owner_node == STATION))
        applied = db.session.scalar(select(func.count()).select_from(AppliedOperation))
        return n, distinct, applied


def outbox(app) -> int:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(func.count()).select_from(OutboxEntry))


def test_station_killed_after_a_local_commit_uploads_it_once_later(pair):
    station = pair["station"].start()
    create(pair["station_app"])
    station.kill()
    station.start()
    result = station.flask("sync")
    assert "sent 1, applied 1" in result.stdout
    assert counts(pair["league_app"])[:2] == (1, 1)
    again = station.flask("sync")
    assert "sent 0" in again.stdout and outbox(pair["station_app"]) == 0


def test_lost_response_is_answered_from_the_record_on_retry(pair):
    proxy = LosingProxy(pair["league"].url)
    station = pair["station"]
    station.flask("upstream", "set", "--url", proxy.url, "--token", pair["token"])
    create(pair["station_app"], 3)
    proxy.lose = {"/push"}
    failed = station.flask("sync", check=False)
    assert failed.returncode != 0 and "sync failed" in failed.stderr and proxy.lost == 1
    assert counts(pair["league_app"]) == (3, 3, 3)  # the upstream did commit
    assert outbox(pair["station_app"]) == 3          # ... but the station never heard
    retry = station.flask("sync")
    assert "applied 0, duplicates 3" in retry.stdout
    assert counts(pair["league_app"]) == (3, 3, 3) and outbox(pair["station_app"]) == 0
    proxy.close()


def test_upstream_killed_mid_batch_leaves_nothing_half_applied(pair):
    league, station = pair["league"], pair["station"]
    create(pair["station_app"], 400)
    station.env["KEPAI_SYNC_BATCH_OPS"] = "100"  # four batches: the kill lands between two
    running = station.start_flask("sync")
    deadline = time.monotonic() + 60
    while counts(pair["league_app"])[2] < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    league.kill()
    running.wait(timeout=120)
    assert running.returncode != 0
    n, distinct, applied = counts(pair["league_app"])
    assert 0 < n < 400 and n == distinct == applied  # each operation whole, or not at all
    league.start()
    station.flask("sync")
    assert counts(pair["league_app"]) == (400, 400, 400)
    assert outbox(pair["station_app"]) == 0


def _push(url, token, ops):
    request = urllib.request.Request(
        url + "/api/sync/v1/push", data=wire.pack({"ops": ops}), method="POST",
        headers={"Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL),
                 "Content-Encoding": "gzip", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, wire.unpack(response.read(), "gzip")
    except urllib.error.HTTPError as exc:
        return exc.code, wire.unpack(exc.read(), "gzip")


def _outbox_ops(app):
    from app.sync.client import _op
    with app.app_context():
        return [_op(e) for e in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))]


def test_two_identical_pushes_at_once_apply_once(pair):
    create(pair["station_app"], 30)
    ops = _outbox_ops(pair["station_app"])
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        _push(pair["league"].url, pair["token"], ops))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [200, 200]
    statuses = Counter(r["status"] for _, body in answers for r in body["results"])
    assert statuses == {"applied": 30, "duplicate": 30}, [body["results"][:2] for _, body in answers]
    assert counts(pair["league_app"]) == (30, 30, 30)


def test_reused_operation_id_and_reused_uuid_are_refused(pair):
    create(pair["station_app"])
    op = _outbox_ops(pair["station_app"])[0]
    url, token = pair["league"].url, pair["token"]
    assert _push(url, token, [op])[1]["results"][0]["status"] == "applied"
    changed = {**op, "fields": {**op["fields"], "name": "冒名"}}
    result = _push(url, token, [changed])[1]["results"][0]
    assert result["status"] == "rejected" and "different content" in result["reason"]
    again = {**changed, "op_id": "00000000-0000-0000-0000-00000000beef"}
    result = _push(url, token, [again])[1]["results"][0]
    assert result["status"] == "rejected" and "other content" in result["reason"]
    assert counts(pair["league_app"])[:2] == (1, 1)


def test_bad_requests_get_a_precise_refusal_and_change_nothing(pair):
    url, token = pair["league"].url, pair["token"]
    op = {"op_id": "x", "type": "commissioner"}
    assert _push(url, "kp1_forged", [op])[0] == 401
    request = urllib.request.Request(url + "/api/sync/v1/push", data=b"\x1f\x8bnot gzip",
                                     method="POST", headers={
                                         "Authorization": f"Bearer {token}",
                                         "X-Kepai-Protocol": str(wire.PROTOCOL),
                                         "Content-Encoding": "gzip"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    old = urllib.request.Request(url + "/api/sync/v1/hello", headers={
        "Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL - 1)})
    with pytest.raises(urllib.error.HTTPError) as too_old:
        urllib.request.urlopen(old, timeout=10)
    assert too_old.value.code == 426
    pair["league"].flask("nodes", "revoke", "--code", STATION)
    revoked = pair["station"].flask("sync", check=False)
    assert revoked.returncode == 1 and "revoked" in revoked.stderr
    assert counts(pair["league_app"]) == (0, 0, 0)


def test_station_killed_while_pulling_finishes_on_the_next_sync(pair):
    station = pair["station"]
    ids = create(pair["station_app"], 300)
    station.flask("sync")
    with pair["league_app"].app_context():
        g.actor = "reviewer"
        for c in db.session.scalars(select(Commissioner)):
            c.specialty = "盟里改过"
        db.session.commit()
    running = station.start_flask("sync")
    time.sleep(random.uniform(0.3, 1.2))
    running.kill()
    running.wait()
    station.flask("sync")
    with pair["station_app"].app_context():
        db.session.remove()
        specialties = set(db.session.scalars(select(Commissioner.specialty)))
        assert specialties == {"盟里改过"}
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == len(ids)
    assert "pulled 0" in station.flask("sync").stdout


def _edit(app, record_id, actor="someone", **fields):
    with app.app_context():
        g.actor = actor
        record = db.session.get(Commissioner, record_id)
        for key, value in fields.items():
            setattr(record, key, value)
        db.session.commit()


def _open_conflicts(app):
    from app.models import SyncConflict
    with app.app_context():
        db.session.remove()
        return db.session.scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None))).all()


def test_concurrent_edits_are_flagged_on_both_and_resolution_clears_them(pair):
    station = pair["station"]
    [cid] = create(pair["station_app"])
    station.flask("sync")
    _edit(pair["league_app"], cid, specialty="盟里的值")
    _edit(pair["station_app"], cid, specialty="站里的值", phone="13800000000")
    assert "conflicts 1" in station.flask("sync", check=False).stdout
    for app in (pair["station_app"], pair["league_app"]):
        [conflict] = _open_conflicts(app)
        assert {conflict.fields["specialty"]["here"], conflict.fields["specialty"]["there"]} == \
            {"盟里的值", "站里的值"}
    with pair["league_app"].app_context():
        assert db.session.get(Commissioner, cid).phone == "13800000000"  # the other field merged
    with pair["station_app"].test_request_context():
        from app.sync import services
        conflict = _open_conflicts(pair["station_app"])[0]
        conflict = db.session.merge(conflict)
        services.resolve(conflict, db.session.get(Commissioner, cid), {"specialty": "here"}, "staff")
    station.flask("sync")
    assert _open_conflicts(pair["station_app"]) == [] and _open_conflicts(pair["league_app"]) == []
    with pair["league_app"].app_context():
        assert db.session.get(Commissioner, cid).specialty == "站里的值"


def test_league_delete_against_an_offline_edit_is_a_conflict_and_the_uuid_stays_dead(pair):
    from app.models import utcnow
    station = pair["station"]
    [cid] = create(pair["station_app"])
    station.flask("sync")
    _edit(pair["league_app"], cid, deleted_at=utcnow())
    _edit(pair["station_app"], cid, specialty="离线修改")
    station.flask("sync", check=False)
    [conflict] = _open_conflicts(pair["station_app"])
    assert conflict.deleted_there
    with pair["league_app"].app_context():
        assert db.session.get(Commissioner, cid).deleted_at is not None  # no resurrection
    op = {"op_id": "11111111-1111-1111-1111-111111111111", "type": "commissioner", "id": cid,
          "action": "create", "base_version": 0, "version": 1, "changed": ["name"],
          "fields": {"name": "借尸还魂", "owner_node": STATION}}
    result = _push(pair["league"].url, pair["token"], [op])[1]["results"][0]
    assert result["status"] == "rejected"  # a deleted UUID is never reused


def test_one_bad_operation_does_not_hold_up_the_batch(pair):
    station = pair["station"]
    good = create(pair["station_app"], 3)
    with pair["station_app"].app_context():
        g.actor = "staff"
        db.session.add(Commissioner(name="别旗的", owner_node="150122-01"))
        db.session.commit()
    result = station.flask("sync", check=False)
    assert result.returncode == 1 and "applied 3" in result.stdout and "rejected 1" in result.stdout
    assert counts(pair["league_app"])[:2] == (3, 3)
    with pair["station_app"].app_context():
        db.session.remove()
        [left] = db.session.scalars(select(OutboxEntry)).all()
        assert left.rejected_at is not None and "belong" in left.reject_reason
    assert len(good) == 3


def test_station_league_region_chain_keeps_the_origin(pair, tmp_path):
    region = Node(tmp_path / "region", "region", "15", "自治区科技厅").start()
    try:
        league = pair["league"]
        league.cli("upstream", "set", "--url", region.url, "--token", region.enroll("1501", "呼和浩特市"))
        [cid] = create(pair["station_app"])
        pair["station"].flask("sync")
        assert "applied 1" in league.flask("sync").stdout
        with region.app.app_context():
            c = db.session.get(Commissioner, cid)
            assert (c.origin_node, c.owner_node, c.created_by) == (STATION, STATION, "sync:1501")
    finally:
        region.close()
