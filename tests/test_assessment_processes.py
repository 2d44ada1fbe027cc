"""Between real processes (a league served by waitress, a station running `flask
sync`), on nodes built by the migrations and `flask node init`: the action plan's
targets and the schemes are on both; a sheet submitted at the station arrives at the
league as submitted, and its grade comes back down. The league runs on SQLite, and on
PostgreSQL too when TEST_DATABASE_URL is set."""
from datetime import date

import pytest
from sqlalchemy import func, select

from app.assessments import services
from app.core.extensions import db
from app.models import AssessmentScheme, AssessmentSheet, Commissioner, PlanTarget, Visit
from tests.node_processes import Node, app_for, as_user, ensure_user
from tests.node_processes import league_database as league_database_for

STATION = "150121-01"


@pytest.fixture(params=["sqlite", "postgresql"])
def league_database(request):
    return league_database_for(request.param, "assess_league")


def _as(app, username, role, code, work):
    """Run ``work()`` in a request as a (new) user of that role."""
    ensure_user(app, username, role, code)
    return as_user(app, username, work)


def test_a_sheet_goes_up_and_its_grade_comes_down_between_processes(tmp_path, league_database):
    league = Node(tmp_path / "league", "league", "1501", "呼和浩特市科技局", league_database).start()
    station = Node(tmp_path / "station", "station", STATION, "土默特左旗科技特派员工作站")
    try:
        station.flask("upstream", "set", "--url", league.url,
                      "--token", league.enroll(STATION, "土默特左旗科技特派员工作站"))
        station_app, league_app = app_for(station), app_for(league)
        for app in (station_app, league_app):
            with app.app_context():
                assert db.session.scalar(select(func.count(PlanTarget.id))) == 5
                assert db.session.scalar(select(func.count(AssessmentScheme.id))) == 2

        def prepare():
            person = Commissioner(name="王建国", owner_node=STATION)
            visit = Visit(number=f"{STATION}-2025-00001", year=2025, sequence=1,
                          visited_on=date(2025, 3, 1), commissioners=[person], owner_node=STATION)
            db.session.add_all([person, visit])
            db.session.commit()
            sheet = services.open_sheet(person, 2025)
            services.save_station_part(sheet, {"entered": {"satisfaction": "92"}, "self_score_c": 3000,
                                               "proposed_grade": "pass", "summary": "下乡一次",
                                               "typical_case": ""})
            services.submit(sheet, services.evaluate(sheet))
            return sheet.id
        sheet_id = _as(station_app, "staff", "station_staff", STATION, prepare)
        first = station.flask("sync", check=False, timeout=600)
        assert first.returncode == 0, first.stdout + first.stderr

        def grade():
            sheet = db.session.get(AssessmentSheet, sheet_id)
            assert sheet.status == "submitted"
            assert sheet.snapshot["computed"]["visits"] == 1
            errors, data = services.review_errors(sheet, {"action": "grade", "final_grade": "fail",
                                                          "review_comment": "服务不足"})
            assert errors == {}
            services.review(sheet, data)
        _as(league_app, "reviewer", "league_reviewer", "1501", grade)
        second = station.flask("sync", check=False, timeout=600)
        assert second.returncode == 0, second.stdout + second.stderr
        with station_app.app_context():
            sheet = db.session.get(AssessmentSheet, sheet_id)
            assert (sheet.status, sheet.final_grade, sheet.review_comment, sheet.summary) == \
                ("graded", "fail", "服务不足", "下乡一次")
            db.session.remove()
        exits = _as(station_app, "staff", "station_staff", STATION,
                    lambda: [s.id for s in services.proposed_exits()])
        assert exits == [sheet_id]
        for app in (station_app, league_app):
            with app.app_context():
                db.engine.dispose()
    finally:
        league.kill()
