"""Plan targets (目标): the shipped targets, the progress report hand-counted (JSON,
XLSX and the page), and who may edit them (league and region admins, their own node's
only; a station user gets 403 and writes nothing)."""
import io
from datetime import date, datetime

import pytest
from flask import g
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.auth.services import create_user
from app.core.extensions import db
from app.goals import services
from app.models import AuditEntry, PlanTarget, ServiceTeam, Site, Station
from app.models.shipped import shipped_id
from tests.sync_helpers import make_node

STATION = "150121-01"
OTHER = "150122-01"
PASSWORD = "secret-pass-1"
GONE = datetime(2025, 7, 1)


@pytest.fixture
def counted(app):
    """Records the targets count (hand counts in the tests)."""
    with app.app_context():
        g.actor = "test"
        home = Station(name="本站", kind="grassroots", owner_node=STATION,
                       established_on=date(2021, 5, 20))
        db.session.add(home)
        db.session.add_all([
            Station(name="末日", kind="expert", owner_node=STATION, established_on=date(2023, 12, 31)),
            Station(name="早了一天", kind="expert", owner_node=STATION, established_on=date(2021, 5, 19)),
            Station(name="晚了一天", kind="expert", owner_node=STATION, established_on=date(2024, 1, 1)),
            Station(name="无日期", kind="expert", owner_node=STATION),
            Station(name="已删除", kind="expert", owner_node=STATION, established_on=date(2022, 1, 1),
                    deleted_at=GONE),
            Station(name="外站", kind="expert", owner_node=OTHER, established_on=date(2022, 1, 1)),
        ])
        db.session.flush()
        site = {"station_id": home.id}
        db.session.add_all([
            Site(name="试验站一", kind="trial_station", owner_node=STATION, **site),
            Site(name="试验站二", kind="trial_station", owner_node=STATION, **site),
            Site(name="试验站删", kind="trial_station", owner_node=STATION, deleted_at=GONE, **site),
            Site(name="服务点一", kind="service_point", owner_node=STATION, **site),
            Site(name="服务点二", kind="service_point", owner_node=STATION, **site),
            Site(name="服务点三", kind="service_point", owner_node=STATION, **site),
            Site(name="外站基地", kind="industry_base", owner_node=OTHER, **site),
        ])
        sheep, corn, milk = (shipped_id("cluster", n) for n in ("肉羊", "玉米", "奶业"))
        db.session.add_all([
            ServiceTeam(name="肉羊一团", cluster_id=sheep, owner_node=STATION),
            ServiceTeam(name="肉羊二团", cluster_id=sheep, owner_node=STATION),
            ServiceTeam(name="玉米团", cluster_id=corn, owner_node=STATION),
            ServiceTeam(name="奶业团", cluster_id=milk, owner_node=STATION, deleted_at=GONE),
            ServiceTeam(name="无产业", owner_node=STATION),
        ])
        db.session.commit()


HAND = {"new_stations": 2,          # 2021-05-20 and 2023-12-31 (edges); not the day before or after
        "clusters_with_team": 2,    # 肉羊 (two teams), 玉米; not the deleted 奶业 team
        "trial_stations": 2, "industry_bases": 0, "service_points": 3}


def test_the_report_equals_the_hand_count(app, counted, login):
    data = login("staff").get("/reports/targets?format=json").get_json()
    assert data["report"] == "targets" and data["scope"]["code"] == STATION
    assert {r["indicator"]: r["count"] for r in data["rows"]} == HAND
    assert {r["indicator"]: r["target"] for r in data["rows"]} == {
        "new_stations": 30, "clusters_with_team": 11, "trial_stations": 10,
        "industry_bases": 50, "service_points": 100}
    row = next(r for r in data["rows"] if r["indicator"] == "trial_stations")
    assert (row["progress"], row["deadline"], row["met"]) == (20.0, "2023-12-31", False)
    assert data["totals"]["targets"] == 5
    assert data["period"] == {"from": "2021-05-20", "to": "2023-12-31", "label": data["period"]["label"]}


def test_the_report_page_and_xlsx(app, counted, login):
    client = login("staff")
    page = client.get("/reports/targets")
    assert page.status_code == 200
    assert "依托自治区科技特派员专家工作站部署科技服务点 100 个" in page.get_data(as_text=True)
    response = client.get("/reports/targets?format=xlsx")
    assert response.status_code == 200
    assert "%E7%9B%AE%E6%A0%87%E8%BF%9B%E5%BA%A6-150121-01-" in \
        response.headers["Content-Disposition"]  # 目标进度, the one file-name style
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "指标" and sheet["I1"].value == "截止日期"
    assert sheet.freeze_panes == "A2"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert len(rows) == 5
    for r in rows.values():
        assert isinstance(r[4].value, int) and isinstance(r[5].value, int)
        assert r[8].value.date() == date(2023, 12, 31)


def test_another_nodes_scope_is_404(app, login):
    client = login("staff")
    assert client.get("/reports/targets?node=150122-01").status_code == 404
    assert client.get("/reports/targets?format=csv").status_code == 400


def test_scopes_overlap():
    assert services.overlap("15", STATION) == STATION
    assert services.overlap("1501", "15") == "1501"
    assert services.overlap("1502", "1501") is None
    assert services.overlap(OTHER, STATION) is None


def audits(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)))


def test_a_station_user_cannot_edit_targets(app, login):
    goal_id = shipped_id("plan_target", "service_points")
    before = audits(app)
    for user in ("admin", "staff"):
        client = login(user)
        assert client.get("/goals/new").status_code == 403
        assert client.post("/goals/new", data={"indicator": "service_points", "scope": STATION,
                                               "value": "1", "deadline": "2026-12-31"}).status_code == 403
        assert client.post(f"/goals/{goal_id}/edit", data={"value": "1"}).status_code == 403
        assert client.post(f"/goals/{goal_id}/delete").status_code == 403
        page = client.get(f"/goals/{goal_id}").get_data(as_text=True)
        assert f"/goals/{goal_id}/edit" not in page
        client.post("/logout")
    assert audits(app) == before
    with app.app_context():
        assert db.session.get(PlanTarget, goal_id).value == 100


@pytest.fixture
def league(tmp_path):
    app = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局")
    with app.app_context():
        g.actor = "test"
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer", node_code="1501")
    yield app
    with app.app_context():
        db.engine.dispose()


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_a_league_admin_sets_and_edits_its_own_targets(league):
    admin = _login(league, "admin")
    bad = admin.post("/goals/new", data={"indicator": "service_points", "scope": "1502",
                                         "value": "0", "deadline": "2026-12-31",
                                         "starts_on": "2027-01-01"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Nothing has been saved" in text or "尚未保存" in text
    with league.app_context():
        assert db.session.scalar(select(func.count(PlanTarget.id))) == 5
    good = admin.post("/goals/new", data={"indicator": "service_points", "scope": "150121",
                                          "value": "12", "deadline": "2026-12-31",
                                          "wording": "土左旗服务点"})
    assert good.status_code == 302
    goal_id = good.headers["Location"].rsplit("/", 1)[-1]
    assert admin.post(f"/goals/{goal_id}/edit", data={
        "indicator": "service_points", "scope": "150121", "value": "15",
        "deadline": "2026-12-31"}).status_code == 302
    with league.app_context():
        goal = db.session.get(PlanTarget, goal_id)
        assert (goal.value, goal.owner_node) == (15, "1501")
    # the region's target is read-only here; a reviewer edits nothing
    region_goal = shipped_id("plan_target", "service_points")
    assert admin.post(f"/goals/{region_goal}/edit", data={"value": "1"}).status_code == 403
    reviewer = _login(league, "reviewer")
    assert reviewer.get("/goals/new").status_code == 403
    assert reviewer.get("/reports/targets").status_code == 200
