"""The station evaluation (绩效评估): a station's year from the records (hand-counted),
the same prepare-and-submit flow, graded by the region (not the league), and the
region's post-subsidy in exact money: refused under the floor with the policy's words,
only for an excellent grassroots workstation, never by a station or league."""
from datetime import date, datetime

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from app.assessments import figures
from app.auth.services import create_user
from app.core import records
from app.core.extensions import db
from app.models import (
    Agreement,
    AssessmentSheet,
    AuditEntry,
    Commissioner,
    Payout,
    ServiceTarget,
    Site,
    Station,
    Training,
    User,
    Visit,
)

STATION = "150121-01"
PASSWORD = "secret-pass-1"
GONE = datetime(2025, 7, 1)
YEAR = 2025


@pytest.fixture
def station_year(app):
    with app.app_context():
        g.actor = "test"
        home = Station(name="土左旗基层工作站", kind="grassroots", owner_node=STATION,
                       established_on=date(2022, 1, 1))
        expert = Station(name="专家工作站", kind="expert", owner_node=STATION)
        db.session.add_all([home, expert])
        db.session.flush()
        db.session.add_all([
            Site(name="基地", kind="industry_base", station_id=home.id, owner_node=STATION),
            Site(name="点一", kind="service_point", station_id=home.id, owner_node=STATION),
            Site(name="点二", kind="service_point", station_id=home.id, owner_node=STATION),
            Site(name="删除的试验站", kind="trial_station", station_id=home.id, owner_node=STATION,
                 deleted_at=GONE),
        ])
        a = Commissioner(name="甲", owner_node=STATION, recognised_on=date(2024, 1, 1))
        c = Commissioner(name="丙", owner_node=STATION)
        gone = Commissioner(name="去年退出", owner_node=STATION, status="exited",
                            exited_on=date(2024, 12, 31), exit_reason="调离")
        poor = ServiceTarget(name="脱贫户", kind="household", poverty_alleviated=True,
                             owner_node=STATION)
        plain = ServiceTarget(name="普通户", kind="household", owner_node=STATION)
        db.session.add_all([a, c, gone, poor, plain])
        db.session.flush()

        def visit(n, on, people, targets=(), **extra):
            return Visit(number=f"{STATION}-{on.year}-{n:05d}", year=on.year, sequence=n,
                         visited_on=on, commissioners=people, targets=list(targets),
                         owner_node=STATION, **extra)
        db.session.add_all([
            visit(1, date(2025, 1, 1), [a], [poor, plain]),
            visit(2, date(2025, 1, 1), [a, c], [poor]),
            visit(3, date(2025, 12, 31), [c]),
            visit(4, date(2025, 6, 1), [a], deleted_at=GONE),
            visit(5, date(2024, 12, 31), [a]),
        ])
        db.session.add_all([
            Training(title="培训", held_on=date(2025, 12, 31), status="held",
                     head_counts={"farmer": 7}, owner_node=STATION),
            Training(title="计划", held_on=date(2025, 5, 1), status="planned",
                     head_counts={"farmer": 70}, owner_node=STATION),
        ])
        deal = Agreement(number="A1", title="入股", form="technology_equity", status="in_force",
                         starts_on=date(2025, 1, 1), owner_node=STATION)
        db.session.add(deal)
        db.session.flush()
        db.session.add_all([
            Payout(agreement_id=deal.id, paid_on=date(2025, 3, 1), amount_fen=300, kind="dividend",
                   payee_id=a.id, owner_node=STATION),
            Payout(agreement_id=deal.id, paid_on=date(2026, 1, 1), amount_fen=999, kind="dividend",
                   payee_id=a.id, owner_node=STATION),
        ])
        db.session.commit()
        create_user(username="region", password=PASSWORD, role="region_admin", node_code="15")
        create_user(username="league", password=PASSWORD, role="league_admin", node_code="1501")
        return {"home": home.id, "expert": expert.id}


def test_a_stations_year_equals_the_hand_count(app, station_year):
    with app.app_context():
        home = db.session.get(Station, station_year["home"])
        found = figures.station_figures(YEAR, [home])[home.id]
    assert found == {
        "commissioners": 2,        # 甲 and 丙; not the one who exited in 2024
        "visits": 3,               # not the deleted one nor 2024's
        "service_days": 3,         # (甲, 1 Jan) once, (丙, 1 Jan), (丙, 31 Dec)
        "trainings": 1, "people_trained": 7,
        "trial_stations": 0, "industry_bases": 1, "service_points": 2,
        "targets": 2, "priority_targets": 1, "priority_share": 50.0,
        "agreements": 1, "payouts_fen": 300,
    }


def _graded(app, login, station_id, grade="excellent"):
    staff = login("staff")
    opened = staff.post(f"/assessments/{YEAR}/open-station/{station_id}")
    assert opened.status_code == 302
    sheet_id = opened.headers["Location"].rsplit("/", 1)[-1]
    assert staff.post(f"/assessments/sheets/{sheet_id}", data={
        "entered-projects": "9", "entered-activities": "2", "self_score": "80",
        "proposed_grade": "good"}).status_code == 302
    assert staff.post(f"/assessments/sheets/{sheet_id}/submit").status_code == 302
    assert staff.post(f"/assessments/sheets/{sheet_id}/review",
                      data={"action": "grade", "final_grade": grade}).status_code == 403
    assert staff.post(f"/assessments/sheets/{sheet_id}/subsidy",
                      data={"subsidy": "150000"}).status_code == 403
    staff.post("/logout")
    league = login("league")
    assert league.post(f"/assessments/sheets/{sheet_id}/review",
                       data={"action": "grade", "final_grade": grade}).status_code == 403
    league.post("/logout")
    region = login("region")
    assert region.post(f"/assessments/sheets/{sheet_id}/review",
                       data={"action": "grade", "final_grade": grade}).status_code == 302
    return region, sheet_id


def audits(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)))


def test_the_region_grades_and_records_the_post_subsidy(app, station_year, login):
    page = login("staff").get(f"/assessments/{YEAR}/stations").get_data(as_text=True)
    assert "土左旗基层工作站" in page and "专家工作站" in page
    region, sheet_id = _graded(app, login, station_year["home"])
    with app.app_context():
        sheet = db.session.get(AssessmentSheet, sheet_id)
        assert sheet.snapshot["result"]["scores"]["projects"] == "9"
        assert sheet.snapshot["result"]["scores"]["activities"] == "10"
    before = audits(app)
    for text, words in (("149999.99", "不低于 15 万元后补助"), ("abc", ""), ("-1", ""),
                        ("150000.001", "")):
        response = region.post(f"/assessments/sheets/{sheet_id}/subsidy", data={"subsidy": text})
        assert response.status_code == 422, text
        assert words in response.get_data(as_text=True)
    assert audits(app) == before
    assert region.post(f"/assessments/sheets/{sheet_id}/subsidy",
                       data={"subsidy": "150,000.00"}).status_code == 302
    with app.app_context():
        assert db.session.get(AssessmentSheet, sheet_id).subsidy_fen == 15_000_000


def test_no_subsidy_unless_an_excellent_grassroots_station(app, station_year, login):
    region, good_sheet = _graded(app, login, station_year["home"], grade="good")
    response = region.post(f"/assessments/sheets/{good_sheet}/subsidy", data={"subsidy": "200000"})
    assert response.status_code == 422
    region.post("/logout")
    region, expert_sheet = _graded(app, login, station_year["expert"])
    assert region.post(f"/assessments/sheets/{expert_sheet}/subsidy",
                       data={"subsidy": "200000"}).status_code == 422
    with app.app_context():
        assert db.session.get(AssessmentSheet, good_sheet).subsidy_fen is None
        assert db.session.get(AssessmentSheet, expert_sheet).subsidy_fen is None


def test_a_league_cannot_write_the_subsidy_by_any_path(app, station_year, login):
    region, sheet_id = _graded(app, login, station_year["home"])
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == "league")))
        sheet = db.session.get(AssessmentSheet, sheet_id)
        with pytest.raises(Forbidden):
            records.update(sheet, {"subsidy_fen": 20_000_000})
        db.session.rollback()
        assert db.session.get(AssessmentSheet, sheet_id).subsidy_fen is None


def test_the_years_station_sheets_export_to_xlsx(app, station_year, login):
    import io

    from openpyxl import load_workbook
    region, sheet_id = _graded(app, login, station_year["home"])
    assert region.post(f"/assessments/sheets/{sheet_id}/subsidy",
                       data={"subsidy": "180000"}).status_code == 302
    response = region.get(f"/assessments/{YEAR}/stations?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    assert header[0] == "工作站" and header[-1] == "后补助（元）"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows["土左旗基层工作站"][-1].value == 180000
    assert rows["土左旗基层工作站"][-2].value == "优秀"
