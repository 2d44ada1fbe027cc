"""Targets, schemes and sheets between a station and its league: what the league
authors (targets, schemes, a sheet's grade) comes down and a station's token can never
write it; what the station authors (its sheet) goes up and the league never rewrites
it. The league runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
import os
import uuid
from datetime import date

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from app.assessments import services as assessments
from app.auth.services import create_user
from app.core import records
from app.core.extensions import db
from app.goals import services as goals
from app.models import AppliedOperation, AssessmentScheme, AssessmentSheet, Commissioner, PlanTarget, User
from app.models.shipped import shipped_id
from app.sync import client, wire
from tests.node_processes import fresh_postgres, sibling_database
from tests.sync_helpers import link, make_node, sync

STATION = "150121-01"
PASSWORD = "secret-pass-1"


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path):
    url = None
    if request.param == "postgresql":
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
        pg = os.environ["TEST_DATABASE_URL"]
        url = fresh_postgres(pg, sibling_database(pg, "assess"))
    station = make_node(tmp_path, "station", "station", STATION, "土左旗工作站")
    league = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局", url=url)
    transport = link(station, league)
    with station.app_context():
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
    with league.app_context():
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer",
                    node_code="1501")
    yield station, league, transport
    for app in (station, league):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def push(league, station, ops):
    with station.app_context():
        token = client.read_token()
    response = league.test_client().post(
        "/api/sync/v1/push", data=wire.pack({"ops": ops}),
        headers={"Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL),
                 "Content-Encoding": "gzip"})
    assert response.status_code == 200
    return wire.unpack(response.get_data(), "gzip")["results"]


def create_op(record_type, fields, owner=STATION, record_id=None):
    return {"op_id": str(uuid.uuid4()), "type": record_type, "id": record_id or str(uuid.uuid4()),
            "action": "create", "base_version": 0, "version": 1, "changed": sorted(fields),
            "fields": {"owner_node": owner, **fields}}


def as_user(app, username):
    """A request context logged in as ``username`` (for service calls as that user)."""
    context = app.test_request_context()
    context.push()
    login_user(db.session.scalar(select(User).where(User.username == username)))
    return context


def test_the_action_plan_targets_and_scheme_are_on_every_node(nodes):
    station, league, _ = nodes
    for app in (station, league):
        with app.app_context():
            found = {t.indicator: t.value for t in db.session.scalars(select(PlanTarget))}
            assert found == {"new_stations": 30, "clusters_with_team": 11, "trial_stations": 10,
                             "industry_bases": 50, "service_points": 100}
            scheme = db.session.get(AssessmentScheme, shipped_id("assessment_scheme", "commissioner"))
            assert scheme.owner_node == "15" and len(scheme.indicator_list) == 9


def test_a_leagues_target_comes_down_and_a_station_cannot_write_one(nodes):
    station, league, transport = nodes
    context = as_user(league, "admin")
    try:
        goal = goals.save(None, {"indicator": "service_points", "scope": "1501", "value": 12,
                                 "wording": "呼和浩特市科技服务点12个", "deadline": date(2026, 12, 31),
                                 "starts_on": None, "sort_order": 0, "notes": ""})
        goal_id = goal.id
    finally:
        context.pop()
    run = sync(station, transport)
    assert run.rejected == 0
    with station.app_context():
        assert db.session.get(PlanTarget, goal_id).value == 12
    # a station's token: a target of its own is refused, the league's is not its to change
    own = create_op("plan_target", {"indicator": "service_points", "scope": STATION, "value": 1,
                                    "deadline": "2026-12-31"})
    theirs = {"op_id": str(uuid.uuid4()), "type": "plan_target", "id": goal_id, "action": "update",
              "base_version": 1, "version": 2, "changed": ["value"],
              "fields": {"owner_node": "1501", "value": 1}}
    posing = create_op("plan_target", {"indicator": "service_points", "scope": "1501", "value": 1,
                                       "deadline": "2026-12-31"}, owner="1501")
    results = push(league, station, [own, theirs, posing])
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert [r["code"] for r in results[1:]] == ["not_yours", "not_yours"]
    with league.app_context():
        assert db.session.get(PlanTarget, own["id"]) is None
        assert db.session.get(PlanTarget, goal_id).value == 12
        assert db.session.get(AppliedOperation, (STATION, own["op_id"])) is None


def test_a_station_cannot_write_a_scheme_by_push_or_by_form(nodes):
    station, league, _ = nodes
    op = create_op("assessment_scheme", {"name": "自评", "subject": "commissioner",
                                         "indicators": {}, "bands": {}})
    (result,) = push(league, station, [op])
    assert result["status"] == "rejected"
    context = as_user(station, "admin")
    try:
        with pytest.raises(Forbidden):
            records.create(AssessmentScheme(), {"name": "自评", "subject": "commissioner",
                                                "indicators": {"items": [{"key": "x"}]}})
        db.session.rollback()
        scheme = db.session.get(AssessmentScheme, shipped_id("assessment_scheme", "commissioner"))
        with pytest.raises(Forbidden):
            records.update(scheme, {"name": "改"})
    finally:
        db.session.rollback()
        context.pop()


def _submitted_sheet(station):
    """A commissioner at the station with a submitted 2025 sheet; (commissioner, sheet) ids."""
    with station.app_context():
        g.actor = "test"
        person = Commissioner(name="王建国", owner_node=STATION, recognised_on=date(2024, 1, 1))
        db.session.add(person)
        db.session.commit()
        person_id = person.id
    context = as_user(station, "staff")
    try:
        person = db.session.get(Commissioner, person_id)
        sheet = assessments.open_sheet(person, 2025)
        assessments.save_station_part(sheet, {"entered": {"satisfaction": "95", "summary": "9"},
                                              "self_score_c": 2500, "proposed_grade": "pass",
                                              "summary": "全年服务", "typical_case": ""})
        evaluation = assessments.evaluate(sheet)
        assessments.submit(sheet, evaluation)
        return person_id, sheet.id
    finally:
        context.pop()


def test_a_sheet_goes_up_its_grade_comes_down(nodes):
    station, league, transport = nodes
    _, sheet_id = _submitted_sheet(station)
    run = sync(station, transport)
    assert (run.rejected, run.held) == (0, 0)
    context = as_user(league, "reviewer")
    try:
        sheet = db.session.get(AssessmentSheet, sheet_id)
        assert sheet.status == "submitted" and sheet.snapshot["result"]["scores"]["summary"] == "9"
        errors, data = assessments.review_errors(sheet, {"action": "grade", "final_grade": "good",
                                                         "review_comment": "同意"})
        assert errors == {}
        assessments.review(sheet, data)
        # the reviewer never rewrites the station's words
        with pytest.raises(Forbidden):
            records.update(sheet, {"summary": "盟里改的"})
        db.session.rollback()
    finally:
        context.pop()
    sync(station, transport)
    with station.app_context():
        sheet = db.session.get(AssessmentSheet, sheet_id)
        assert (sheet.status, sheet.final_grade, sheet.review_comment, sheet.summary) == \
            ("graded", "good", "同意", "全年服务")


def test_a_station_cannot_grade_its_own_sheet(nodes):
    station, league, transport = nodes
    _, sheet_id = _submitted_sheet(station)
    context = as_user(station, "admin")
    try:
        sheet = db.session.get(AssessmentSheet, sheet_id)
        with pytest.raises(Forbidden):
            records.update(sheet, {"final_grade": "excellent", "review_state": "graded",
                                   "reviewed_submission": 1})
        db.session.rollback()
    finally:
        context.pop()
    sync(station, transport)
    with station.app_context():
        sheet = db.session.get(AssessmentSheet, sheet_id)
        base, summary = sheet.version, sheet.summary

    def update(changed, **fields):
        return {"op_id": str(uuid.uuid4()), "type": "assessment_sheet", "id": sheet_id,
                "action": "update", "base_version": base, "version": base + 1,
                "changed": sorted(changed), "fields": {"owner_node": STATION, **fields}}
    # a station's token that claims a grade, a review or a subsidy: refused, as a change
    # to another node's record is, naming the field; nothing of it is written
    for field, value in (("final_grade", "excellent"), ("review_state", "graded"),
                         ("reviewed_submission", 1), ("review_comment", "自己评的"),
                         ("reviewer_score_c", 9900), ("subsidy_fen", 99_000_000),
                         ("subsidy_recorded_at", "2026-01-01T00:00:00")):
        (result,) = push(league, station, [update([field, "summary"], summary="补充",
                                                  **{field: value})])
        assert (result["status"], result["code"], result["field"]) == \
            ("rejected", "authored_above", field), result
        with league.app_context():
            assert db.session.get(AppliedOperation, (STATION, result["op_id"])) is None
    with league.app_context():
        sheet = db.session.get(AssessmentSheet, sheet_id)
        assert (sheet.final_grade, sheet.review_state, sheet.summary, sheet.subsidy_fen) == \
            ("", "", summary, None)
    # a station's copy of the league's field that it does not claim to change (not listed,
    # or the upstream's own value) is no claim: the change applies
    (result,) = push(league, station, [update(["summary", "final_grade"], summary="补充",
                                              final_grade="")])
    assert result["status"] == "applied" and "ignored" not in result, result
    with league.app_context():
        assert db.session.get(AssessmentSheet, sheet_id).summary == "补充"
    # what a create carries of the league's fields is dropped (a copy sent again after
    # the league lost the sheet looks the same), never written
    made = create_op("assessment_sheet", {"subject": "commissioner", "year": 2024,
                                          "final_grade": "excellent", "review_state": "graded"})
    (result,) = push(league, station, [made])
    assert (result["status"], result["ignored"]) == ("applied", ["final_grade", "review_state"])
    with league.app_context():
        made_there = db.session.get(AssessmentSheet, made["id"])
        assert (made_there.final_grade, made_there.review_state) == ("", "")
