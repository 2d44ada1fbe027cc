"""Sync between a station and its league, in one process (no network)."""
import pytest
from flask import g
from sqlalchemy import select

from app.core.extensions import db
from app.models import AppliedOperation, Commissioner, OutboxEntry, SyncConflict
from app.sync import client
from tests.factories import count
from tests.sync_helpers import link, make_node, sync

STATION = "150121-01"


def add_commissioner(app, name="王建国", **fields):
    with app.app_context():
        g.actor = "staff"
        c = Commissioner(name=name, owner_node=STATION, **fields)
        db.session.add(c)
        db.session.commit()
        return c.id


def edit(app, record_id, **fields):
    with app.app_context():
        g.actor = "someone"
        c = db.session.get(Commissioner, record_id)
        for k, v in fields.items():
            setattr(c, k, v)
        db.session.commit()


def get(app, record_id):
    with app.app_context():
        c = db.session.get(Commissioner, record_id)
        return None if c is None else {"name": c.name, "specialty": c.specialty, "phone": c.phone,
                                       "version": c.version, "deleted": c.deleted_at is not None}


def test_push_creates_on_league_and_empties_outbox(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station, specialty="肉羊")
    run = sync(station, transport)
    assert (run.sent, run.applied, run.rejected) == (1, 1, 0)
    assert get(league, cid) == get(station, cid)
    with league.app_context():
        c = db.session.get(Commissioner, cid)
        assert c.origin_node == STATION and c.owner_node == STATION and c.created_by == f"sync:{STATION}"
    assert count(station, OutboxEntry) == 0
    assert count(league, AppliedOperation) == 1


def test_lost_response_retry_gets_recorded_result(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station)
    original = transport.__call__  # the push reaches the league, its answer is lost

    lost = {"done": False}

    def flaky(method, url, data, headers, timeout):
        result = original(method, url, data, headers, timeout)
        if url.endswith("/push") and not lost["done"]:
            lost["done"] = True
            raise client.SyncError("upstream unreachable: response lost")
        return result

    with pytest.raises(client.SyncError):
        sync(station, flaky)
    assert count(station, OutboxEntry) == 1 and get(league, cid) is not None
    run = sync(station, transport)
    assert run.duplicates == 1 and run.applied == 0
    assert count(station, OutboxEntry) == 0
    assert count(league, Commissioner) == 1


def test_league_edit_comes_down_and_different_fields_merge(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station)
    sync(station, transport)
    edit(league, cid, specialty="奶牛养殖")
    edit(station, cid, phone="13800000000")
    run = sync(station, transport)
    assert run.conflicts == 0
    assert get(station, cid)["specialty"] == "奶牛养殖"
    assert get(league, cid)["phone"] == "13800000000"
    assert get(station, cid) == get(league, cid)


def test_same_field_conflict_is_flagged_on_both_and_nothing_lost(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station)
    sync(station, transport)
    edit(league, cid, specialty="league value")
    edit(station, cid, specialty="station value")
    run = sync(station, transport)
    assert run.conflicts == 1
    for app in (station, league):
        with app.app_context():
            conflict = db.session.scalar(select(SyncConflict))
            assert conflict.resolved_at is None
            values = conflict.fields["specialty"]
            assert {values["here"], values["there"]} == {"league value", "station value"}


def test_edit_of_record_deleted_upstream_is_a_conflict_not_a_resurrection(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station)
    sync(station, transport)
    from app.models import utcnow
    edit(league, cid, deleted_at=utcnow())
    edit(station, cid, specialty="offline edit")
    run = sync(station, transport)
    assert run.conflicts == 1
    assert get(league, cid)["deleted"] is True
    with station.app_context():
        assert db.session.scalar(select(SyncConflict)).deleted_there is True


def test_bad_operation_in_a_batch_does_not_block_the_rest(nodes):
    station, league, transport = nodes
    good = add_commissioner(station, name="甲")
    with station.app_context():
        bad = Commissioner(name="外旗", owner_node="150122-01")
        db.session.add(bad)
        db.session.commit()
        bad_id = bad.id
    later = add_commissioner(station, name="乙")
    run = sync(station, transport)
    assert (run.applied, run.rejected) == (2, 1)
    assert get(league, good) and get(league, later) and get(league, bad_id) is None
    with station.app_context():
        entry = db.session.scalar(select(OutboxEntry))
        assert entry.record_id == bad_id and "belong" in entry.reject_reason


def test_same_op_id_with_different_content_is_refused(nodes):
    station, league, transport = nodes
    add_commissioner(station)
    with station.app_context():
        entry = db.session.scalar(select(OutboxEntry))
        op = client._op(entry)
    sync(station, transport)
    from app.sync import wire
    tampered = {**op, "fields": {**op["fields"], "name": "别人"}}
    with league.app_context():
        token_client = league.test_client()
    with station.app_context():
        token = client.read_token()
    response = token_client.post("/api/sync/v1/push", data=wire.pack({"ops": [tampered]}),
                                 headers={"Authorization": f"Bearer {token}",
                                          "X-Kepai-Protocol": str(wire.PROTOCOL), "Content-Encoding": "gzip"})
    result = wire.unpack(response.get_data(), "gzip")["results"][0]
    assert result["status"] == "rejected" and "different content" in result["reason"]
    other_id = {**op, "op_id": "another-op", "fields": {**op["fields"], "name": "别人"}}
    response = token_client.post("/api/sync/v1/push", data=wire.pack({"ops": [other_id]}),
                                 headers={"Authorization": f"Bearer {token}",
                                          "X-Kepai-Protocol": str(wire.PROTOCOL), "Content-Encoding": "gzip"})
    result = wire.unpack(response.get_data(), "gzip")["results"][0]
    assert result["status"] == "rejected" and "other content" in result["reason"]


def test_backoff_grows_while_the_upstream_is_away_and_is_capped():
    from app.sync.worker import backoff
    assert backoff(0, 60, 600) == 60
    assert [backoff(n, 60, 600) for n in range(1, 7)] == [15, 30, 60, 120, 240, 480]
    assert backoff(20, 60, 600) == 600


def test_unreachable_upstream_is_recorded_and_counted(nodes):
    station, league, transport = nodes
    add_commissioner(station)

    def down(*args):
        raise client.SyncError("upstream unreachable: connection refused")
    for attempt in (1, 2):
        with pytest.raises(client.SyncError):
            sync(station, down)
        with station.app_context():
            settings = client.upstream()
            assert settings.failures == attempt and "unreachable" in settings.last_error
    sync(station, transport)
    with station.app_context():
        assert client.upstream().failures == 0 and client.pending_count() == 0


def test_photos_travel_once_by_content_and_resume_after_a_break(nodes):
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from app.core import attachments, files
    from app.models import Attachment
    from app.sync import wire
    station, league, transport = nodes
    cid = add_commissioner(station)
    noise = Image.effect_noise((1500, 1500), 90).convert("RGB")
    raw = io.BytesIO()
    noise.save(raw, "JPEG", quality=95)
    with station.test_request_context():
        g.actor = "staff"
        c = db.session.get(Commissioner, cid)
        photo = attachments.add(c, FileStorage(io.BytesIO(raw.getvalue()), filename="a.jpg"))
        db.session.commit()
        sha, size = photo.sha256, photo.size
    assert size > wire.FILE_CHUNK  # sent in more than one chunk

    def breaks_mid_file(method, url, data, headers, timeout):
        """The link goes down after the first chunk, for the rest of the run."""
        if method == "PUT" and "offset=0" not in url:
            raise client.SyncError("upstream unreachable: connection reset")
        return transport(method, url, data, headers, timeout)

    with pytest.raises(client.SyncError):
        sync(station, breaks_mid_file)
    with league.app_context():
        assert db.session.scalar(select(Attachment.sha256)) == sha  # record before its photo
        assert not files.exists(sha) and files.received(sha) == wire.FILE_CHUNK_START
    run = sync(station, transport)
    assert run.files_sent >= 1 and run.pulled == 0
    with station.app_context():
        sent = files.read(sha)
    with league.app_context():
        assert files.read(sha) == sent and files.received(sha) == 0
    puts_before = sum(1 for call in transport.calls if call[0] == "PUT")
    assert sync(station, transport).files_sent == 0
    assert sum(1 for call in transport.calls if call[0] == "PUT") == puts_before


def test_station_to_league_to_region_keeps_the_origin(tmp_path):
    from tests.sync_helpers import InProcess
    station = make_node(tmp_path, "s", "station", STATION, "土左旗工作站")
    league = make_node(tmp_path, "l", "league", "1501", "呼和浩特市")
    region = make_node(tmp_path, "r", "region", "15", "自治区科技厅")
    to_league = link(station, league)
    with region.app_context():
        from app.sync import peers
        _, token = peers.enroll("1501", "呼和浩特市")
    with league.app_context():
        client.set_upstream("http://region.test", token)
    to_region = InProcess(region)
    cid = add_commissioner(station, specialty="肉羊")
    sync(station, to_league)
    run = sync(league, to_region)
    assert run.applied == 1
    with region.app_context():
        c = db.session.get(Commissioner, cid)
        assert (c.name, c.origin_node, c.owner_node, c.created_by, c.version) == \
            ("王建国", STATION, STATION, "sync:1501", 1)
    edit(station, cid, specialty="奶牛")
    sync(station, to_league)
    sync(league, to_region)
    assert get(region, cid)["specialty"] == "奶牛" and get(region, cid)["version"] == 2
    # a region edit comes all the way down
    edit(region, cid, phone="13900000000")
    sync(league, to_region)
    sync(station, to_league)
    assert get(station, cid)["phone"] == "13900000000"
    assert get(station, cid) == get(league, cid) == get(region, cid)
    for app in (station, league, region):
        with app.app_context():
            db.engine.dispose()


def test_resend_queues_records_loaded_without_an_outbox(nodes):
    from sqlalchemy import insert
    station, league, transport = nodes
    with station.app_context():
        db.session.execute(insert(Commissioner), [
            {"id": f"00000000-0000-0000-0000-{i:012d}", "name": f"批量{i}", "version": 1,
             "owner_node": STATION, "origin_node": STATION, "field_versions": {}} for i in range(5)])
        db.session.commit()
        assert client.pending_count() == 0
        assert client.enqueue_all() == 5
        assert client.enqueue_all() == 0  # already waiting
    run = sync(station, transport)
    assert run.applied == 5 and count(league, Commissioner) == 5


def test_league_sees_totals_by_county_and_station_records(nodes):
    station, league, transport = nodes
    add_commissioner(station)
    add_commissioner(station, name="李梅")
    sync(station, transport)
    client = league.test_client()
    client.post("/login", data={"username": "admin", "password": "secret-pass-1"})
    page = client.get("/sync/totals").get_data(as_text=True)
    assert STATION in page and "土左旗工作站" in page and ">2</a>" in page
    assert "李梅" in client.get("/commissioners/").get_data(as_text=True)
    with league.app_context():
        db.session.add(Commissioner(name="别旗的", owner_node="150122-01"))
        db.session.commit()
    narrowed = client.get(f"/commissioners/?node={STATION}").get_data(as_text=True)
    assert "李梅" in narrowed and "别旗的" not in narrowed
    assert "别旗的" in client.get("/commissioners/").get_data(as_text=True)
    nodes_page = client.get("/sync/nodes").get_data(as_text=True)
    assert STATION in nodes_page and "0.1.0" in nodes_page


def _login(app):
    web = app.test_client()
    web.post("/login", data={"username": "admin", "password": "secret-pass-1"})
    return web


def _conflict_on_specialty(nodes):
    """Both sides change the same field; the station's sync flags it. Returns the id."""
    station, league, transport = nodes
    cid = add_commissioner(station)
    sync(station, transport)
    edit(league, cid, specialty="league value")
    edit(station, cid, specialty="station value")
    sync(station, transport)
    return cid


def test_conflict_resolved_on_the_station_clears_it_on_both(nodes):
    station, league, transport = nodes
    cid = _conflict_on_specialty(nodes)
    with station.app_context():
        conflict_id = db.session.scalar(select(SyncConflict.id))
    web = _login(station)
    page = web.get(f"/sync/conflicts/{conflict_id}").get_data(as_text=True)
    assert "league value" in page and "station value" in page
    assert web.post(f"/sync/conflicts/{conflict_id}", data={}).status_code == 422
    response = web.post(f"/sync/conflicts/{conflict_id}", data={"choice-specialty": "here"})
    assert response.status_code == 302
    sync(station, transport)
    assert get(station, cid)["specialty"] == get(league, cid)["specialty"] == "station value"
    for app in (station, league):
        assert count(app, SyncConflict, SyncConflict.resolved_at.is_(None)) == 0


def test_conflict_resolved_on_the_league_clears_it_on_the_station(nodes):
    station, league, transport = nodes
    cid = _conflict_on_specialty(nodes)
    with league.app_context():
        conflict_id = db.session.scalar(select(SyncConflict.id))
    web = _login(league)
    assert web.post(f"/sync/conflicts/{conflict_id}",
                    data={"choice-specialty": "here"}).status_code == 302  # the league's own
    sync(station, transport)
    assert get(station, cid)["specialty"] == get(league, cid)["specialty"] == "league value"
    for app in (station, league):
        assert count(app, SyncConflict, SyncConflict.resolved_at.is_(None)) == 0


def test_record_edited_while_its_previous_version_is_uploading(nodes):
    station, league, transport = nodes
    cid = add_commissioner(station)
    sync(station, transport)
    edit(station, cid, specialty="first")

    def edits_meanwhile(method, url, data, headers, timeout):
        answer = transport(method, url, data, headers, timeout)
        if url.endswith("/push"):
            edit(station, cid, specialty="second")  # saved while the push was on the wire
        return answer

    sync(station, edits_meanwhile)
    assert get(station, cid)["specialty"] == "second"
    sync(station, transport)
    assert get(league, cid)["specialty"] == get(station, cid)["specialty"] == "second"
    assert get(league, cid)["version"] == get(station, cid)["version"]
    assert count(station, OutboxEntry) == 0


def test_sync_pages_render_for_staff_and_admin(nodes):
    station, league, transport = nodes
    add_commissioner(station)
    web = _login(station)
    for path in ("/sync/", "/sync/status", "/sync/upstream", "/sync/nodes", "/sync/totals"):
        assert web.get(path).status_code == 200, path
    assert "1" in web.get("/sync/status").get_data(as_text=True)
    assert web.post("/sync/upstream", data={"url": "not a url", "token": "x"}).status_code == 422
    assert web.post("/sync/nodes", data={"code": "150202-01", "name": "包头"}).status_code == 422
    page = web.get("/sync/").get_data(as_text=True)
    assert "立即同步" in page


def test_league_reviews_a_visit_and_the_station_sees_it_after_sync(nodes):
    from datetime import date

    from app.auth.services import create_user
    from app.models import Visit
    station, league, transport = nodes
    cid = add_commissioner(station)
    with station.app_context():
        g.actor = "staff"
        visit = Visit(number="150121-01-2026-00001", year=2026, sequence=1,
                      visited_on=date(2026, 5, 6), problem="玉米叶斑病", owner_node=STATION,
                      commissioners=[db.session.get(Commissioner, cid)])
        db.session.add(visit)
        db.session.commit()
        vid = visit.id
    sync(station, transport)
    with league.app_context():
        create_user(username="reviewer", password="secret-pass-1", role="league_reviewer",
                    node_code="1501")
    web = league.test_client()
    web.post("/login", data={"username": "reviewer", "password": "secret-pass-1"})
    assert "玉米叶斑病" in web.get(f"/visits/{vid}").get_data(as_text=True)
    refused = web.post(f"/visits/{vid}/review", data={"review_state": "has_issues"})
    assert refused.status_code == 422  # issues need a comment
    response = web.post(f"/visits/{vid}/review",
                        data={"review_state": "approved", "review_comment": "记录完整"})
    assert response.status_code == 302
    assert sync(station, transport).pulled == 1
    with station.app_context():
        visit = db.session.get(Visit, vid)
        assert (visit.review_state, visit.review_comment) == ("approved", "记录完整")
    staff = _login(station)
    page = staff.get(f"/visits/{vid}").get_data(as_text=True)
    assert "记录完整" in page and f"/visits/{vid}/review" not in page  # shown, not editable here
    assert staff.post(f"/visits/{vid}/review", data={"review_state": "approved"}).status_code == 403


def test_league_narrows_the_visit_list_to_one_station(nodes):
    from datetime import date

    from app.models import Visit
    station, league, transport = nodes
    for owner, problem in ((STATION, "本旗问题"), ("150122-01", "别旗问题")):
        with league.app_context():
            g.actor = "test"
            db.session.add(Visit(number=f"{owner}-2026-00001", year=2026, sequence=1,
                                 visited_on=date(2026, 5, 6), problem=problem, owner_node=owner))
            db.session.commit()
    web = _login(league)
    assert "别旗问题" in web.get("/visits/").get_data(as_text=True)
    narrowed = web.get(f"/visits/?node={STATION}").get_data(as_text=True)
    assert "本旗问题" in narrowed and "别旗问题" not in narrowed


def test_an_operation_whose_parent_has_not_arrived_is_held_and_writes_nothing(nodes):
    station, league, transport = nodes
    with station.app_context():
        token = client.read_token()
    from app.sync import wire
    op = {"op_id": "22222222-2222-2222-2222-222222222222", "type": "commissioner",
          "id": "33333333-3333-3333-3333-333333333333", "action": "create", "base_version": 0,
          "version": 1, "changed": ["name", "station_id"],
          "fields": {"name": "无主", "owner_node": STATION,
                     "station_id": "44444444-4444-4444-4444-444444444444"}}
    response = league.test_client().post(
        "/api/sync/v1/push", data=wire.pack({"ops": [op]}),
        headers={"Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL),
                 "Content-Encoding": "gzip"})
    assert response.status_code == 200
    result = wire.unpack(response.get_data(), "gzip")["results"][0]
    assert (result["status"], result["code"], result["field"], result["ref_type"]) == \
        ("held", "parent_missing", "station_id", "station")
    assert count(league, Commissioner) == 0 and count(league, AppliedOperation) == 0


def test_a_conflict_of_an_unknown_record_type_is_404(nodes):
    station, league, transport = nodes
    with station.app_context():
        db.session.add(SyncConflict(record_type="from_a_newer_version", record_id="x" * 36,
                                    fields={}, other_node="1501"))
        db.session.commit()
        conflict_id = db.session.scalar(select(SyncConflict.id))
    assert _login(station).get(f"/sync/conflicts/{conflict_id}").status_code == 404
