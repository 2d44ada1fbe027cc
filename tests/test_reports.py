"""Reports (统计): a hand-counted fixture, and every cell of every report's JSON equals
the hand count; XLSX types; the scope; bad parameters are a 400 with a message."""
import io
import re
from datetime import date, datetime

import pytest
from flask import g
from openpyxl import load_workbook

from app.auth.services import create_user
from app.core.extensions import db
from app.models import (
    Agreement,
    AgreementParty,
    Commissioner,
    Payout,
    Place,
    ServiceTarget,
    ServiceTeam,
    Training,
    TrainingAttendee,
    Visit,
)
from app.models.shipped import shipped_id

STATION = "150121-01"
OTHER = "150122-01"
PASSWORD = "secret-pass-1"
GONE = datetime(2025, 7, 1)
YEAR = {"year": "2025"}


@pytest.fixture
def world(app):
    """The hand-counted records (see each report's test for the counts); {name: id}."""
    with app.app_context():
        g.actor = "test"
        county = shipped_id("place", "150121")
        v1 = Place(name="红旗村", level="village", parent_id=county, owner_node=STATION)
        v2 = Place(name="把什村", level="village", parent_id=county, owner_node=STATION)
        db.session.add_all([v1, v2])
        c = {
            "A": Commissioner(name="王建国", kind="individual", level="county",
                              sending_org_type="university", three_areas_talent=True,
                              status="dispatched", recognised_on=date(2024, 3, 1),
                              dispatched_on=date(2025, 2, 1), owner_node=STATION),
            "B": Commissioner(name="其木格", kind="team", level="league",
                              sending_org_type="institute", hotline_expert=True,
                              recognised_on=date(2025, 1, 1), owner_node=STATION),
            "C": Commissioner(name="李法人", kind="legal_entity", level="region",
                              sending_org_type="enterprise", three_areas_talent=True,
                              hotline_expert=True, status="exited", recognised_on=date(2023, 1, 1),
                              exited_on=date(2025, 6, 30), owner_node=STATION),
            "D": Commissioner(name="赵明年", kind="individual", level="county",
                              sending_org_type="local_talent", recognised_on=date(2026, 1, 1),
                              owner_node=STATION),
            "E": Commissioner(name="钱已删", kind="individual", recognised_on=date(2025, 2, 2),
                              deleted_at=GONE, owner_node=STATION),
            "F": Commissioner(name="别站的", kind="individual", sending_org_type="extension",
                              recognised_on=date(2025, 5, 5), owner_node=OTHER),
        }
        t = {
            "T1": ServiceTarget(name="脱贫户甲", kind="household", poverty_alleviated=True,
                                owner_node=STATION),
            "T2": ServiceTarget(name="监测户乙", kind="household", monitored=True,
                                owner_node=STATION),
            "T3": ServiceTarget(name="合作社丙", kind="coop", owner_node=STATION),
            "T4": ServiceTarget(name="已删户丁", kind="household", poverty_alleviated=True,
                                deleted_at=GONE, owner_node=STATION),
        }
        db.session.add_all([*c.values(), *t.values()])
        db.session.flush()
        sheep, corn = shipped_id("cluster", "肉羊"), shipped_id("cluster", "玉米")
        visits = [
            # number, date, commissioners, targets, cluster, stage, types, mode, hours, village, owner, deleted
            ("V1", date(2025, 1, 1), "AB", ["T1", "T3"], sheep, "pre", "guidance promotion",
             "onsite", 3, v1, STATION, None),
            ("V2", date(2025, 1, 1), "A", ["T1"], sheep, "pre", "guidance", "online", 2, v1,
             STATION, None),
            ("V3", date(2025, 6, 15), "B", ["T2", "T4"], corn, "during", "market", "onsite",
             None, v2, STATION, None),
            ("V4", date(2025, 12, 31), "AC", [], None, "", "", "hotline", 1.5, None, STATION,
             None),
            ("V5", date(2024, 12, 31), "A", ["T3"], sheep, "pre", "guidance", "onsite", 4, v1,
             STATION, None),
            ("V6", date(2025, 3, 3), "A", ["T1"], sheep, "pre", "guidance", "onsite", 5, v1,
             STATION, GONE),
            ("V7", date(2025, 5, 5), "F", [], sheep, "pre", "guidance", "onsite", 2, None,
             OTHER, None),
        ]
        for n, (number, on, who, whom, cluster, stage, types, mode, hours, village, owner,
                gone) in enumerate(visits, start=1):
            db.session.add(Visit(
                number=number, year=on.year, sequence=n, visited_on=on, cluster_id=cluster,
                stage=stage, service_types=types, mode=mode, hours=hours,
                village_id=village.id if village else None, owner_node=owner, deleted_at=gone,
                commissioners=[c[k] for k in who], targets=[t[k] for k in whom]))
        tr1 = Training(title="有名单", held_on=date(2025, 3, 1), status="held", mode="offline",
                       head_counts={"farmer": 10}, women_count=9, trainers=[c["A"]],
                       owner_node=STATION)
        tr2 = Training(title="只有人数", held_on=date(2025, 12, 31), status="held", mode="online",
                       head_counts={"farmer": 5, "village_secretary": 2}, women_count=3,
                       minority_count=1, trainers=[c["B"]], owner_node=STATION)
        others = [
            Training(title="计划中", held_on=date(2025, 5, 1), status="planned",
                     head_counts={"farmer": 50}, owner_node=STATION),
            Training(title="去年", held_on=date(2024, 12, 31), status="held",
                     head_counts={"farmer": 50}, owner_node=STATION),
            Training(title="已删", held_on=date(2025, 4, 4), status="held",
                     head_counts={"farmer": 50}, deleted_at=GONE, owner_node=STATION),
        ]
        db.session.add_all([tr1, tr2, *others])
        db.session.flush()
        for name, sex, ethnicity, category, poor, gone in (
                ("甲", "female", "蒙古族", "farmer", True, None),
                ("乙", "male", "汉族", "farmer", False, None),
                ("丙", "female", "汉族", "coop_head", True, None),
                ("丁", "female", "蒙古族", "farmer", True, GONE)):
            db.session.add(TrainingAttendee(training_id=tr1.id, name=name, sex=sex,
                                            ethnicity=ethnicity, category=category,
                                            poverty_alleviated=poor, deleted_at=gone,
                                            owner_node=STATION))
        ag = {
            "AG1": Agreement(number="AG1", title="技术入股", form="technology_equity",
                             status="in_force", signed_on=date(2025, 1, 1),
                             valuation_fen=5_000_000, owner_node=STATION),
            "AG2": Agreement(number="AG2", title="有偿服务", form="paid_service", status="signed",
                             signed_on=date(2025, 12, 31), owner_node=STATION),
            "AG3": Agreement(number="AG3", title="去年的", form="capital_equity",
                             status="in_force", signed_on=date(2024, 6, 1),
                             valuation_fen=1_000_000, owner_node=STATION),
            "AG4": Agreement(number="AG4", title="已删", form="asset_equity", status="signed",
                             signed_on=date(2025, 3, 3), valuation_fen=777, deleted_at=GONE,
                             owner_node=STATION),
            "AG5": Agreement(number="AG5", title="草稿", form="ip_equity", status="draft",
                             owner_node=STATION),
        }
        db.session.add_all(ag.values())
        db.session.flush()
        for agreement, who in (("AG1", "A"), ("AG2", "B"), ("AG3", "A"), ("AG4", "A")):
            db.session.add(AgreementParty(agreement_id=ag[agreement].id,
                                          commissioner_id=c[who].id, owner_node=STATION))
        for agreement, on, fen, kind, who, gone in (
                ("AG1", date(2025, 6, 1), 100_000, "dividend", "A", None),
                ("AG1", date(2024, 12, 31), 50_000, "dividend", "A", None),
                ("AG1", date(2025, 12, 31), 20_050, "service_fee", "A", None),
                ("AG1", date(2025, 7, 1), 99_900, "dividend", "A", GONE),
                ("AG2", date(2025, 8, 8), 30_000, "service_fee", "B", None),
                ("AG3", date(2025, 2, 2), 40_000, "dividend", "A", None),
                ("AG4", date(2025, 3, 4), 10_000, "dividend", "A", None)):
            db.session.add(Payout(agreement_id=ag[agreement].id, paid_on=on, amount_fen=fen,
                                  kind=kind, payee_id=c[who].id, deleted_at=gone,
                                  owner_node=STATION))
        db.session.add_all([
            ServiceTeam(name="肉羊一团", cluster_id=sheep, owner_node=STATION),
            ServiceTeam(name="肉羊二团", cluster_id=sheep, owner_node=STATION),
            ServiceTeam(name="玉米团", cluster_id=corn, owner_node=STATION),
            ServiceTeam(name="已删团", cluster_id=shipped_id("cluster", "奶业"), deleted_at=GONE,
                        owner_node=STATION)])
        db.session.commit()
        create_user(username="wang", password=PASSWORD, role="commissioner", node_code=STATION,
                    commissioner_id=c["A"].id)
        create_user(username="league", password=PASSWORD, role="league_reviewer",
                    node_code="1501")
        return {"sheep": sheep, "corn": corn, **{k: v.id for k, v in c.items()}}


def report(client, name, **query):
    response = client.get(f"/reports/{name}", query_string={**query, "format": "json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def by_key(answer) -> dict:
    return {tuple(row["key"]): {k: v for k, v in row.items() if k not in ("key", "label")}
            for row in answer["rows"]}


SERVICE_KEYS = ("visits", "service_days", "hours", "commissioners", "villages", "targets",
                "priority_targets", "priority_share")


def services_row(*values) -> dict:
    return dict(zip(SERVICE_KEYS, values, strict=True))


def test_services_every_cell(app, login, world):
    client = login("staff")
    answer = report(client, "services", **YEAR)
    assert answer["report"] == "services"
    assert answer["period"] == {"from": "2025-01-01", "to": "2025-12-31", "label": "2025"}
    assert answer["scope"]["code"] == STATION
    assert answer["totals"] == services_row(4, 5, 6.5, 3, 2, 3, 2, 66.7)
    assert by_key(answer) == {
        (world["sheep"], "pre"): services_row(2, 2, 5, 2, 1, 2, 1, 50.0),
        (world["corn"], "during"): services_row(1, 1, 0, 1, 1, 1, 1, 100.0),
        ("", ""): services_row(1, 2, 1.5, 2, 0, 0, 0, None),
    }
    assert by_key(report(client, "services", by="service_type", **YEAR)) == {
        ("guidance",): services_row(2, 2, 5, 2, 1, 2, 1, 50.0),
        ("promotion",): services_row(1, 2, 3, 2, 1, 2, 1, 50.0),
        ("market",): services_row(1, 1, 0, 1, 1, 1, 1, 100.0),
    }
    assert by_key(report(client, "services", by="mode", **YEAR)) == {
        ("onsite",): services_row(2, 3, 3, 2, 2, 3, 2, 66.7),
        ("online",): services_row(1, 1, 2, 1, 1, 1, 1, 100.0),
        ("hotline",): services_row(1, 2, 1.5, 2, 0, 0, 0, None),
    }
    answer = report(client, "services", by="node", **YEAR)
    assert by_key(answer) == {(STATION,): services_row(4, 5, 6.5, 3, 2, 3, 2, 66.7)}


def test_period_edges_quarter_month_and_range(app, login, world):
    client = login("staff")
    q1 = report(client, "services", quarter="1", **YEAR)
    assert q1["period"]["to"] == "2025-03-31" and q1["totals"]["visits"] == 2  # V1, V2 on 1 Jan
    assert report(client, "services", month="12", **YEAR)["totals"]["visits"] == 1  # V4, 31 Dec
    edge = report(client, "services", **{"from": "2025-01-01", "to": "2025-01-01"})
    assert edge["totals"]["visits"] == 2 and edge["totals"]["service_days"] == 2
    assert report(client, "services", **{"from": "2024-12-31", "to": "2025-01-01"})[
        "totals"]["visits"] == 3  # V5 on the earlier edge too


def test_commissioner_sees_only_own_figures(app, login, world):
    client = login("wang")
    assert report(client, "services", **YEAR)["totals"] == services_row(3, 2, 6.5, 1, 1, 2, 1, 50.0)
    assert report(client, "trainings", by="mode", **YEAR)["totals"] == {
        "sessions": 1, "people": 3, "women": 2, "minorities": 1, "poverty": 2}
    assert report(client, "agreements", **YEAR)["totals"] == {
        "agreements": 1, "valuation_fen": 5_000_000, "payouts": 3, "payout_fen": 160_050}
    assert report(client, "workforce", **YEAR)["totals"] == {
        "commissioners": 1, "recognised": 0, "dispatched": 1, "exited": 0}


def training_row(sessions, people, women, minorities, poverty) -> dict:
    return {"sessions": sessions, "people": people, "women": women, "minorities": minorities,
            "poverty": poverty}


def test_trainings_roster_else_head_counts(app, login, world):
    client = login("staff")
    answer = report(client, "trainings", **YEAR)
    assert answer["totals"] == training_row(2, 10, 5, 2, 2)
    assert by_key(answer) == {
        ("village_secretary",): training_row(1, 2, None, None, None),
        ("farmer",): training_row(2, 7, None, None, None),
        ("coop_head",): training_row(1, 1, None, None, None),
    }
    assert [row["key"] for row in answer["rows"]] == [["coop_head"], ["village_secretary"],
                                                     ["farmer"]]  # the policy's order
    assert by_key(report(client, "trainings", by="mode", **YEAR)) == {
        ("offline",): training_row(1, 3, 2, 1, 2),
        ("online",): training_row(1, 7, 3, 1, 0),
    }
    assert by_key(report(client, "trainings", by="cluster", **YEAR)) == {
        ("",): training_row(2, 10, 5, 2, 2)}


def agreement_row(agreements, valuation, payouts, paid) -> dict:
    return {"agreements": agreements, "valuation_fen": valuation, "payouts": payouts,
            "payout_fen": paid}


def test_agreements_every_cell(app, login, world):
    client = login("staff")
    answer = report(client, "agreements", **YEAR)
    assert answer["totals"] == agreement_row(2, 5_000_000, 4, 190_050)
    assert by_key(answer) == {
        ("technology_equity", "in_force"): agreement_row(1, 5_000_000, 2, 120_050),
        ("capital_equity", "in_force"): agreement_row(0, 0, 1, 40_000),
        ("paid_service", "signed"): agreement_row(1, 0, 1, 30_000),
    }
    answer = report(client, "agreements", by="payout_year_kind", **YEAR)
    assert by_key(answer) == {
        ("2025", "dividend"): agreement_row(None, None, 2, 140_000),
        ("2025", "service_fee"): agreement_row(None, None, 2, 50_050),
    }
    assert answer["totals"] == agreement_row(2, 5_000_000, 4, 190_050)


def workforce_row(on_roster, recognised, dispatched, exited) -> dict:
    return {"commissioners": on_roster, "recognised": recognised, "dispatched": dispatched,
            "exited": exited}


def test_workforce_every_cell(app, login, world):
    client = login("staff")
    answer = report(client, "workforce", **YEAR)
    assert answer["totals"] == workforce_row(3, 1, 1, 1)
    assert by_key(answer) == {
        ("individual",): workforce_row(1, 0, 1, 0),  # A; D comes in 2026
        ("team",): workforce_row(1, 1, 0, 0),
        ("legal_entity",): workforce_row(1, 0, 0, 1),
    }
    assert by_key(report(client, "workforce", by="level", **YEAR)) == {
        ("region",): workforce_row(1, 0, 0, 1), ("league",): workforce_row(1, 1, 0, 0),
        ("county",): workforce_row(1, 0, 1, 0)}
    assert by_key(report(client, "workforce", by="sending_org_type", **YEAR)) == {
        ("university",): workforce_row(1, 0, 1, 0), ("institute",): workforce_row(1, 1, 0, 0),
        ("enterprise",): workforce_row(1, 0, 0, 1), ("local_talent",): workforce_row(0, 0, 0, 0)}
    assert by_key(report(client, "workforce", by="flags", **YEAR)) == {
        ("three_areas_talent",): workforce_row(2, 0, 1, 1),
        ("hotline_expert",): workforce_row(2, 1, 0, 1)}
    teams = report(client, "workforce", by="team_cluster", **YEAR)
    assert teams["totals"] == {"teams": 3, "clusters_with_team": 2, "clusters": 11}
    rows = by_key(teams)
    assert len(rows) == 11 and rows[(world["sheep"],)]["teams"] == 2 \
        and rows[(world["corn"],)]["teams"] == 1 \
        and sum(row["teams"] for row in rows.values()) == 3


def test_league_breaks_down_by_node_and_drills_down(app, login, world):
    client = login("league")
    answer = report(client, "services", by="node", **YEAR)
    assert answer["scope"]["code"] == "1501"
    assert {k: v["visits"] for k, v in by_key(answer).items()} == {("150121",): 4, ("150122",): 1}
    assert answer["totals"]["visits"] == 5 and answer["totals"]["commissioners"] == 4
    page = client.get("/reports/services", query_string={"by": "node", **YEAR}).get_data(as_text=True)
    assert "node=150121" in page and "土默特左旗" in page  # the county's name, a link down
    county = report(client, "services", by="node", node="150121", **YEAR)
    assert {k: v["visits"] for k, v in by_key(county).items()} == {(STATION,): 4}
    station = report(client, "workforce", node=OTHER, **YEAR)
    assert station["totals"] == workforce_row(1, 1, 0, 0)


@pytest.mark.parametrize("node", [OTHER, "150121", "1501", "15", "x"])
def test_station_user_cannot_ask_for_another_node(app, login, world, node):
    client = login("staff")
    response = client.get("/reports/services", query_string={"node": node, "format": "json"})
    assert response.status_code == 404
    assert client.get("/reports/services", query_string={"node": STATION}).status_code == 200


@pytest.mark.parametrize("path, query", [
    ("/reports/services", {"year": "abc"}),
    ("/reports/services", {"year": "1900"}),
    ("/reports/services", {"from": "2025-13-01", "to": "2025-12-31"}),
    ("/reports/services", {"from": "2025-06-01", "to": "2025-01-01"}),
    ("/reports/services", {"from": "2025-06-01"}),
    ("/reports/services", {"quarter": "5"}),
    ("/reports/services", {"quarter": "1", "month": "2"}),
    ("/reports/services", {"by": "nonsense"}),
    ("/reports/trainings", {"by": "service_type"}),
    ("/reports/nonsense", {}),
    ("/reports/services", {"format": "pdf"}),
])
def test_bad_parameters_are_400_in_chinese(app, login, world, path, query):
    client = login("staff")
    page = client.get(path, query_string=query)
    assert page.status_code == 400
    assert "flash-error" in page.get_data(as_text=True)
    if query.get("format") != "pdf":
        answer = client.get(path, query_string={**query, "format": "json"})
        assert answer.status_code == 400
        assert re.search(r"[\u4e00-\u9fff]", answer.get_json()["error"]), answer.get_json()


@pytest.mark.parametrize("user", ["staff", "wang", "league"])
def test_pages_render_for_every_report_and_breakdown(app, login, world, user):
    from app.reports.services import BREAKDOWNS
    client = login(user)
    assert client.get("/reports/").status_code == 200
    for name, breakdowns in BREAKDOWNS.items():
        for by in breakdowns:
            response = client.get(f"/reports/{name}", query_string={"by": by, **YEAR})
            assert response.status_code == 200, (user, name, by)
            fragment = client.get(f"/reports/{name}", query_string={"by": by, **YEAR},
                                  headers={"HX-Request": "true"})
            assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)


def test_xlsx_numbers_dates_chinese_headers_frozen(app, login, world):
    client = login("staff", lang="en")
    response = client.get("/reports/agreements", query_string={"format": "xlsx", **YEAR})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in sheet[1]]
    assert headers[:2] == ["合作形式", "状态"] and "签订协议数" in headers  # Chinese whatever the language
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    first = rows[0]
    assert first[2] == 1 and isinstance(first[2], int)
    assert float(first[3]) == 50000.0 and isinstance(first[3], (int, float))
    assert rows[-1][0] == "合计" and float(rows[-1][5]) == 1900.5
    about = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True)}
    assert about["起始日期"].date() == date(2025, 1, 1)
    assert about["截止日期"].date() == date(2025, 12, 31)
    assert sheet.column_dimensions["A"].width >= 10


def test_nav_has_reports(app, login):
    page = login("staff").get("/").get_data(as_text=True)
    assert 'href="/reports/"' in page


def test_a_remembered_report_follows_every_write(app, login, world):
    """Answers are remembered until the data changes (app/core/cache.py): a visit added,
    then deleted, shows in the next answer at once; a commissioner's own answer and an
    answer in another language are their own."""
    client = login("staff")
    assert report(client, "services", **YEAR)["totals"]["visits"] == 4
    with app.app_context():
        g.actor = "test"
        visit = Visit(number="V8", year=2025, sequence=8, visited_on=date(2025, 9, 9),
                      mode="onsite", hours=2, owner_node=STATION,
                      commissioners=[db.session.get(Commissioner, world["D"])])
        db.session.add(visit)
        db.session.commit()
        added = visit.id
    totals = report(client, "services", **YEAR)["totals"]
    assert (totals["visits"], totals["commissioners"], totals["hours"]) == (5, 4, 8.5)
    with app.app_context():
        g.actor = "test"
        db.session.get(Visit, added).deleted_at = GONE
        db.session.commit()
    assert report(client, "services", **YEAR)["totals"]["visits"] == 4
    assert report(client, "services", **YEAR)["columns"]["visits"] == "服务次数"
    client.post("/language", data={"lang": "en"})
    assert report(client, "services", **YEAR)["columns"]["visits"] == "Visits"
    client.post("/logout")
    assert report(login("wang"), "services", **YEAR)["totals"]["visits"] == 3
