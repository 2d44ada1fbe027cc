"""Sync integrity at the protocol's edges: parents before children whatever the flush
order, held operations that wait instead of being refused, resends that cannot lose an
update, and a league that trusts nothing a station's token may not write. The league
runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
import uuid
from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.core import authority
from app.core.extensions import db
from app.core.history import record_fields
from app.models import (
    AppliedOperation,
    Commissioner,
    OutboxEntry,
    Place,
    ServiceTarget,
    Training,
    TrainingAttendee,
    Visit,
)
from app.models.shipped import shipped_id
from app.sync import client, registry, server, services, wire
from tests.sync_helpers import create_op, push, station_and_league, sync, token_of

STATION = "150121-01"
OTHER = "150122-01"
STAMPS = ("created_at", "updated_at", "created_by", "updated_by")


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path):
    """A station and its league, new for each test."""
    yield from station_and_league(request.param, tmp_path, "integrity")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request, tmp_path_factory):
    """A station and its league shared by the tests of hostile pushes, which use new ids
    each and look only at what their own pushes did."""
    yield from station_and_league(request.param, tmp_path_factory.mktemp("hostile"), "hostile")


def add(app, *records):
    """Add records in the order given, in one commit; returns their ids."""
    with app.app_context():
        g.actor = "staff"
        for record in records:
            db.session.add(record)
        db.session.commit()
        return [r.id for r in records]


def fields_of(app, model, record_id):
    with app.app_context():
        record = db.session.get(model, record_id)
        if record is None:
            return None
        fields = record_fields(record)
        for key in STAMPS:
            fields.pop(key)
        return fields


def outbox(app):
    with app.app_context():
        return [(e.record_type, e.action, bool(e.held_at), bool(e.rejected_at), e.problem)
                for e in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.seq))]


def training(**extra):
    return Training(title="玉米密植培训", held_on=date.today() - timedelta(days=2), hours=3,
                    status="held", owner_node=STATION, **extra)


# Parents first ---------------------------------------------------------------------

def test_a_roster_added_before_its_training_arrives_after_it(nodes):
    station, league, transport = nodes
    session = training()
    target = ServiceTarget(name="李四", kind="household", owner_node=STATION)
    with station.app_context():
        session.id, target.id = str(uuid.uuid4()), str(uuid.uuid4())
    people = [TrainingAttendee(training_id=session.id, name=f"学员{i}", owner_node=STATION,
                               target_id=target.id if i == 0 else None) for i in range(3)]
    ids = add(station, *people, target, session)  # children first in the session
    run = sync(station, transport)
    assert (run.applied, run.held, run.rejected) == (5, 0, 0)
    assert outbox(station) == []
    for model, record_id in [(TrainingAttendee, i) for i in ids[:3]] + \
            [(ServiceTarget, ids[3]), (Training, ids[4])]:
        assert fields_of(league, model, record_id) == fields_of(station, model, record_id)


def test_an_imported_roster_arrives_whole(nodes):
    station, league, transport = nodes
    (session_id,) = add(station, training())
    sync(station, transport)
    web = station.test_client()
    assert web.post("/login", data={"username": "admin", "password": "secret-pass-1"}).status_code == 302
    sheet = "序号,姓名,性别,民族,嘎查/村,电话,类别\r\n1,张三,女,蒙古族,外乡某村,13812345678,农牧民\r\n" \
            "2,李四,男,汉族,,13900000000,致富带头人\r\n"
    import io
    import re
    page = web.post(f"/trainings/{session_id}/import",
                    data={"file": (io.BytesIO(sheet.encode("utf-8-sig")), "签到表.csv")},
                    content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'value="([0-9a-f]{32})"', page).group(1)
    assert web.post(f"/trainings/{session_id}/import/confirm", data={"token": token}).status_code == 302
    run = sync(station, transport)
    assert (run.applied, run.held, run.rejected) == (2, 0, 0)
    with league.app_context():
        names = set(db.session.scalars(select(TrainingAttendee.name)
                                       .where(TrainingAttendee.training_id == session_id)))
    assert names == {"张三", "李四"}


# Held, and resent -----------------------------------------------------------------

def test_a_child_of_a_refused_parent_is_held_then_arrives_when_the_parent_is_resent(nodes, monkeypatch):
    station, league, transport = nodes
    session = training()
    with station.app_context():
        session.id = str(uuid.uuid4())
    add(station, session)
    (person_id,) = add(station, TrainingAttendee(training_id=session.id, name="张三",
                                                 owner_node=STATION))
    real = server._create
    refuse_once = {"training": 1}

    def flaky(model, record, op, keys, node_code):
        if refuse_once.get(op["type"]):
            refuse_once[op["type"]] -= 1
            raise server.refuse("database", "refused by the database: disk full")
        return real(model, record, op, keys, node_code)
    monkeypatch.setattr(server, "_create", flaky)
    run = sync(station, transport)
    assert (run.applied, run.held, run.rejected) == (0, 1, 1)
    states = outbox(station)
    assert states[0][:4] == ("training", "create", False, True)
    assert states[1][:4] == ("training_attendee", "create", True, False)
    assert states[1][4] == {"code": "parent_missing", "field": "training_id", "ref_type": "training",
                            "ref_id": session.id}
    with station.app_context():
        page = station.test_client()
        page.post("/login", data={"username": "admin", "password": "secret-pass-1"})
        text = page.get("/sync/").get_data(as_text=True)
        assert "等待所属培训先同步" in text and "全部重新发送" in text
    with station.app_context():
        assert services.retry_all() == 1
    run = sync(station, transport)
    assert (run.applied, run.held, run.rejected) == (2, 0, 0)
    assert outbox(station) == []
    assert fields_of(league, TrainingAttendee, person_id) == fields_of(station, TrainingAttendee, person_id)


def test_a_resend_after_a_refusal_cannot_lose_the_update(nodes, monkeypatch):
    """Create refused, update held (no record there yet), the cause goes away, resend:
    the league ends with the station's latest values, never 'duplicate and done'."""
    station, league, transport = nodes
    (cid,) = add(station, Commissioner(name="王建国", specialty="肉羊", owner_node=STATION))
    with station.app_context():
        g.actor = "staff"
        db.session.get(Commissioner, cid).specialty = "肉牛"
        db.session.commit()
    real = server._create
    calls = {"n": 0}

    def refuse_first(model, record, op, keys, node_code):
        calls["n"] += 1
        if calls["n"] == 1:
            raise server.refuse("database", "refused by the database: a passing fault")
        return real(model, record, op, keys, node_code)
    monkeypatch.setattr(server, "_create", refuse_first)
    run = sync(station, transport)
    assert (run.rejected, run.held) == (1, 1)
    assert fields_of(league, Commissioner, cid) is None
    run = sync(station, transport)  # the same outbox again: still not done, nothing lost
    assert (run.rejected, run.held) == (0, 1) and len(outbox(station)) == 2
    with station.app_context():
        services.retry_all()
    sync(station, transport)
    assert outbox(station) == []
    assert fields_of(league, Commissioner, cid) == fields_of(station, Commissioner, cid)
    assert fields_of(league, Commissioner, cid)["specialty"] == "肉牛"


def test_a_lost_answer_to_a_conflict_still_records_it_on_the_station(nodes):
    station, league, transport = nodes
    (cid,) = add(station, Commissioner(name="王建国", specialty="肉羊", owner_node=STATION))
    sync(station, transport)
    with league.app_context():
        g.actor = "league"
        db.session.get(Commissioner, cid).specialty = "奶业"
        db.session.commit()
    with station.app_context():
        g.actor = "staff"
        db.session.get(Commissioner, cid).specialty = "肉牛"
        db.session.commit()
    lost = {"first": True}

    def losing(method, url, data, headers, timeout):
        answer = transport(method, url, data, headers, timeout)
        if url.endswith("/push") and lost["first"]:
            lost["first"] = False
            raise client.SyncError("upstream unreachable: answer lost")
        return answer
    with pytest.raises(client.SyncError):
        sync(station, losing)
    run = sync(station, transport)
    assert run.duplicates == 1 and outbox(station) == []
    from app.models import SyncConflict
    with station.app_context():
        conflict = db.session.scalar(select(SyncConflict).where(SyncConflict.resolved_at.is_(None)))
        assert conflict.fields["specialty"] == {"here": "肉牛", "there": "奶业"}


def test_resend_never_queues_a_second_copy_of_a_waiting_entry(nodes):
    station, league, transport = nodes
    add(station, Commissioner(name="王建国", owner_node=STATION))
    with station.app_context():
        assert client.enqueue_all() == 0  # the commissioner waits already; places are shipped
        db.session.remove()
    assert len(outbox(station)) == 1


# What a station's token may not write ---------------------------------------------

def _other_station_records(league):
    """A commissioner, a target and a training of another station, on the league."""
    with league.app_context():
        g.actor = "other"
        db.session.info.update(applying_sync=True)  # as if pushed by that station
        try:
            records = [Commissioner(name="外旗专家", owner_node=OTHER),
                       ServiceTarget(name="外旗合作社", kind="coop", owner_node=OTHER),
                       Training(title="外旗培训", held_on=date.today(), owner_node=OTHER)]
            db.session.add_all(records)
            db.session.commit()
            return [r.id for r in records]
        finally:
            db.session.info.pop("applying_sync")


def test_a_station_cannot_review_its_own_visit(shared):
    """A change that claims a field the league authors (lists the review as changed) is
    refused naming the field, and writes nothing; what a create carries of the review
    (made up, or a stale copy: the upstream cannot tell) is ignored, and the answer
    carries the league's."""
    station, league, transport = shared
    visit_id = str(uuid.uuid4())
    op = create_op("visit", visit_id, {
        "number": f"{STATION}-2026-00001", "year": 2026, "sequence": 1,
        "visited_on": "2026-05-01", "mode": "onsite", "problem": "x",
        "review_state": "approved", "review_comment": "自己批准", "reviewed_at": "2026-05-02T00:00:00"})
    (result,) = push(league, [op], token_of(station))
    assert result["status"] == "applied"
    assert result["ignored"] == ["review_comment", "review_state", "reviewed_at"]
    assert result["fields"]["review_state"] == ""
    with league.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.review_state, visit.review_comment, visit.reviewed_at) == ("", "", None)
        visit.review_state = "has_issues"
        g.actor = "reviewer"
        db.session.commit()
    update = {"op_id": str(uuid.uuid4()), "type": "visit", "id": visit_id, "action": "update",
              "base_version": 1, "version": 2, "changed": ["review_state", "problem"],
              "fields": {**op["fields"], "review_state": "approved", "problem": "y"}}
    (result,) = push(league, [update], token_of(station))
    assert (result["status"], result["code"], result["field"]) == \
        ("rejected", "authored_above", "review_state")
    with league.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.review_state, visit.problem) == ("has_issues", "x")
    again = {**op, "op_id": str(uuid.uuid4())}  # its creation sent again
    (result,) = push(league, [again], token_of(station))
    assert result["status"] == "applied", result
    assert result["ignored"] == ["review_comment", "review_state", "reviewed_at"]
    assert result["fields"]["review_state"] == "has_issues"
    update = {**update, "op_id": str(uuid.uuid4()), "changed": ["problem"]}
    (result,) = push(league, [update], token_of(station))
    assert result["status"] == "applied"
    with league.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.review_state, visit.problem) == ("has_issues", "y")


def test_a_refused_claim_is_explained_in_the_users_language(app):
    from types import SimpleNamespace

    from app.sync import reasons
    entry = SimpleNamespace(problem={"code": "authored_above", "field": "final_grade"})
    with app.test_request_context():
        assert reasons.explain(entry).startswith("“考核等次”由盟市或自治区填写，本站不能修改")


@pytest.mark.parametrize("record_type, field, make", [
    ("visit", "commissioners", lambda ids: {"commissioners": [ids[0]]}),
    ("visit", "targets", lambda ids: {"targets": [ids[1]]}),
    ("training_attendee", "training_id", lambda ids: {"training_id": ids[2], "name": "张三"}),
    ("agreement", "counterpart_id", lambda ids: {"counterpart_id": ids[1], "number": "A1",
                                                 "title": "t", "form": "technology_equity"}),
])
def test_references_to_another_stations_records_are_refused(shared, record_type, field, make):
    station, league, transport = shared
    ids = _other_station_records(league)
    own = str(uuid.uuid4())
    base = {"visit": {"number": f"{STATION}-2026-00009", "year": 2026, "sequence": 9,
                      "visited_on": "2026-05-01"}}.get(record_type, {})
    bad = create_op(record_type, own, {**base, **make(ids)})
    good = create_op("commissioner", str(uuid.uuid4()), {"name": "本站专家"})
    results = push(league, [bad, good], token_of(station))
    assert (results[0]["status"], results[0]["code"], results[0]["field"]) == \
        ("rejected", "bad_reference", field)
    assert results[1]["status"] == "applied"
    with league.app_context():
        assert db.session.get(AppliedOperation, (STATION, bad["op_id"])) is None
        assert server.type_holding(own) is None


def test_stamps_are_the_servers_not_the_senders(shared):
    station, league, transport = shared
    record_id = str(uuid.uuid4())
    op = create_op("commissioner", record_id, {
        "name": "王建国", "created_by": "league-admin", "updated_by": "league-admin",
        "origin_node": "1501"})
    (result,) = push(league, [op], token_of(station))
    assert result["status"] == "applied"
    with league.app_context():
        c = db.session.get(Commissioner, record_id)
        assert (c.created_by, c.updated_by, c.origin_node) == \
            (f"sync:{STATION}", f"sync:{STATION}", STATION)


def test_ids_that_are_not_uuids_or_belong_to_another_type_are_refused(nodes):
    station, league, transport = nodes
    (training_id,) = add(station, training())
    sync(station, transport)
    not_uuid = create_op("commissioner", "x" * 36, {"name": "甲"})
    upper = create_op("commissioner", str(uuid.uuid4()).upper(), {"name": "乙"})
    other_type = create_op("commissioner", training_id, {"name": "丙"})
    good = create_op("commissioner", str(uuid.uuid4()), {"name": "丁"})
    results = push(league, [not_uuid, upper, other_type, good], token_of(station))
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "bad_id"), ("rejected", "bad_id"), ("rejected", "id_taken"), ("applied", None)]
    with league.app_context():
        assert db.session.get(Training, training_id).title == "玉米密植培训"


@pytest.mark.parametrize("field, value", [
    ("name", "长" * 101),                 # longer than its column
    ("specialty", ["a list"]),            # a list where text belongs
    ("three_areas_talent", "yes"),        # text where a flag belongs
    ("recognised_on", "2026-13-45"),      # not a date
    ("recognised_on", 20260101),          # a number where a date belongs
    ("kind", "wizard"),                   # not a code of the vocabulary
    ("notes", "nul\x00byte"),             # PostgreSQL cannot store NUL in text
    ("station_id", "not-a-record-id"),    # a reference that is no id
    ("clusters", "not a list"),
])
def test_a_malformed_value_is_refused_alone_and_the_batch_goes_on(shared, field, value):
    station, league, transport = shared
    bad = create_op("commissioner", str(uuid.uuid4()), {"name": "甲", field: value})
    good = create_op("commissioner", str(uuid.uuid4()), {"name": "乙"})
    results = push(league, [bad, good], token_of(station))
    assert (results[0]["status"], results[0]["code"], results[0]["field"]) == \
        ("rejected", "bad_value", field)
    assert results[1]["status"] == "applied"
    with league.app_context():
        assert db.session.get(Commissioner, good["id"]).name == "乙"
        assert db.session.get(Commissioner, bad["id"]) is None


@pytest.mark.parametrize("head_counts", [{"farmer": "x"}, {"farmer": -1}, {"wizard": 3},
                                         {"farmer": True}])
def test_head_counts_must_be_counts_of_known_categories(shared, head_counts):
    """Once accepted, and the league's training pages then failed on the value."""
    station, league, transport = shared
    op = create_op("training", str(uuid.uuid4()), {"title": "培训", "held_on": "2026-05-01",
                                                   "head_counts": head_counts})
    (result,) = push(league, [op], token_of(station))
    assert (result["status"], result["field"]) == ("rejected", "head_counts")


def test_out_of_range_numbers_are_refused(shared):
    station, league, transport = shared
    ops = [create_op("service_target", str(uuid.uuid4()), {"name": "户", "kind": "household",
                                                          "household_size": 2**40}),
           create_op("payout", str(uuid.uuid4()), {"amount_fen": 2**70, "kind": "dividend",
                                                   "paid_on": "2026-01-01"}),
           create_op("visit", str(uuid.uuid4()), {"hours": float("1e300"), "visited_on": "2026-01-01",
                                                  "number": "n", "year": 2026, "sequence": 1})]
    results = push(league, ops, token_of(station))
    assert [(r["status"], r.get("field")) for r in results] == [
        ("rejected", "household_size"), ("rejected", "amount_fen"), ("rejected", "hours")]


def test_an_unexpected_failure_is_that_operations_refusal(shared, monkeypatch):
    station, league, transport = shared
    real = server._create

    def explode(model, record, op, keys, node_code):
        if op["fields"]["name"] == "炸":
            raise RuntimeError("boom")
        return real(model, record, op, keys, node_code)
    monkeypatch.setattr(server, "_create", explode)
    ops = [create_op("commissioner", str(uuid.uuid4()), {"name": "炸"}),
           create_op("commissioner", str(uuid.uuid4()), {"name": "好"})]
    results = push(league, ops, token_of(station))
    assert [(r["status"], r.get("code")) for r in results] == [("rejected", "failed"), ("applied", None)]


@pytest.mark.parametrize("query", ["after=99999999999999999999", "after=-1", "after=1e3",
                                   "limit=0", "limit=99999999999999999999", "after=٣"])
def test_bad_query_parameters_are_400_not_500(shared, query):
    station, league, transport = shared
    response = league.test_client().get(
        f"/api/sync/v1/changes?{query}",
        headers={"Authorization": f"Bearer {token_of(station)}", "X-Kepai-Protocol": str(wire.PROTOCOL)})
    assert response.status_code == 400


def test_an_old_protocol_station_hears_it_must_upgrade(shared):
    station, league, transport = shared
    response = league.test_client().get("/api/sync/v1/hello", headers={
        "Authorization": f"Bearer {token_of(station)}", "X-Kepai-Protocol": "1"})
    assert response.status_code == 426
    assert "upgrade" in wire.unpack(response.get_data(), "gzip")["error"]


def test_the_league_and_the_station_agree_on_what_waits(nodes, monkeypatch):
    station, league, transport = nodes
    monkeypatch.setattr(server, "_create", lambda *a: (_ for _ in ()).throw(
        server.refuse("database", "no")))
    add(station, Commissioner(name="甲", owner_node=STATION))
    sync(station, transport)
    from app.models import Peer
    with league.app_context():
        peer = db.session.scalar(select(Peer))
        assert (peer.reported_pending, peer.reported_held, peer.reported_refused) == (0, 0, 1)


def test_shipped_places_may_be_referenced(nodes):
    station, league, transport = nodes
    village = Place(name="红旗村", level="village", parent_id=shipped_id("place", "150121"),
                    owner_node=STATION)
    (village_id,) = add(station, village)
    add(station, ServiceTarget(name="户", kind="household", village_id=village_id,
                               owner_node=STATION))
    run = sync(station, transport)
    assert (run.applied, run.held, run.rejected) == (2, 0, 0)


# The declaration, model by model ---------------------------------------------------

AUTHORED_ABOVE = {"visit": {"review_state": "league", "review_comment": "league",
                            "reviewed_at": "league"},
                  "plan_target": dict.fromkeys(("indicator", "scope", "wording", "value",
                                                "starts_on", "deadline", "sort_order",
                                                "notes"), "league"),
                  "assessment_scheme": dict.fromkeys(("name", "subject", "edition", "first_year",
                                                      "indicators", "bands", "notes"), "league"),
                  "assessment_sheet": {**dict.fromkeys(("review_state", "reviewed_submission",
                                                        "final_grade", "reviewer_score_c",
                                                        "review_comment", "reviewed_at"), "league"),
                                       "subsidy_fen": "region", "subsidy_recorded_at": "region"}}


@pytest.mark.parametrize("record_type", sorted(registry.types()))
def test_every_synced_field_has_the_declared_author(record_type):
    """The role × field matrix: each field of each synced model, written by a station, a
    league and a region, on a record of its own and on one of a station below it."""
    model = registry.model(record_type)
    above = AUTHORED_ABOVE.get(record_type, {})
    assert model.__authored_above__ == above
    for field in registry.fields_of(model):
        author = above.get(field, "station")
        assert authority.author_of(model, field) == author
        assert authority.writable_by(model, field, STATION) == (author == "station")
        assert authority.writable_by(model, field, "1501") == (author in ("station", "league"))
        assert authority.writable_by(model, field, "15")
        # a league user on a station's record: only what the league authors
        assert authority.may_edit(model, field, STATION, "1501") == (author == "league")
        assert authority.may_edit(model, field, STATION, STATION) == (author == "station")
        assert authority.may_edit(model, field, "1501", "1501") == (author in ("station", "league"))
        assert not authority.may_edit(model, field, STATION, OTHER)
    for field in authority.references(model):
        assert field in registry.fields_of(model)


def test_a_sheets_proposed_grade_must_be_a_grade(shared):
    """Assessment sheets are checked like every other record: a proposed grade that is
    no grade is refused, the grade itself (the league's) would be ignored anyway."""
    station, league, transport = shared
    fields = {"subject": "commissioner", "year": 2026, "proposed_grade": "superb"}
    (result,) = push(league, [create_op("assessment_sheet", str(uuid.uuid4()), fields)],
                     token_of(station))
    assert (result["status"], result["code"], result["field"]) == \
        ("rejected", "bad_value", "proposed_grade")
