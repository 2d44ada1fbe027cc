"""Between real processes (a league served by waitress, two stations each running `flask
sync`), on nodes built by the migrations and `flask node init`: each station records its
own work through the product's services (visits, trainings with a roster and with head
counts only, agreements with payouts, commissioners of every kind; some deleted, some
outside the period) and pushes it; then every standard report the league answers for a
period is the sum of what the two stations answer for the same period, cell by cell, and
its by-node rows are each station's own totals. The league is asked over HTTP at its live
address, the stations through their own app, each as a logged-in user, in JSON. The league
runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request
from datetime import date

import pytest
from sqlalchemy import select

from app.agreements import services as agreements
from app.commissioners import services as commissioners
from app.core import records
from app.core.extensions import db
from app.models import Place
from app.models.shipped import shipped_id
from app.places import services as places
from app.reports.services import BREAKDOWNS, REPORTS
from app.targets import services as targets
from app.teams import services as teams
from app.trainings import services as trainings
from app.visits import services as visits
from tests.node_processes import Node, app_for, as_user, ensure_user
from tests.node_processes import league_database as league_database_for
from tests.settings import PASSWORD

LEAGUE = "1501"
STATIONS = {"150121-01": "土默特左旗科技特派员工作站", "150122-01": "托克托县科技特派员工作站"}
FIRST = {"services": "visits", "trainings": "sessions", "agreements": "agreements",
         "workforce": "commissioners"}
PERIODS = ({"year": "2025"}, {"from": "2025-06-15", "to": "2025-12-31"})


@pytest.fixture(params=["sqlite", "postgresql"])
def league_database(request):
    return league_database_for(request.param, "reports_league")


def _checked(errors):
    assert errors == {}, errors


def record_station(code: str, more: int) -> None:
    """A station's year of work, through the services as its staff would enter it. The
    second station (``more`` = 1) has one more of several things, so that the two never
    answer the same figures."""
    county = shipped_id("place", code[:6])
    sheep, corn = shipped_id("cluster", "肉羊"), shipped_id("cluster", "玉米")

    township_data = {"name": "五申镇" if not more else "双河镇", "parent_id": county, "code": ""}
    _checked(places.errors(township_data, level="township"))
    township = places.save(None, "township", township_data)
    villages = []
    for name in ("红旗村", "把什村"):
        data = {"name": name, "parent_id": township.id, "code": ""}
        _checked(places.errors(data, level="village"))
        villages.append(places.save(None, "village", data))

    def person(name, kind, **data):
        data = {"name": name, "kind": kind, "level": "county", "sending_org_type": "",
                "local_talent_kind": "", "status": "recognised", "recognised_on": None,
                "dispatched_on": None, "exited_on": None, "exit_reason": "", "cluster_ids": [],
                "village_ids": [], "station_id": None, **data}
        _checked(commissioners.errors(data))
        return commissioners.save(None, data)

    a = person("王建国", "individual", sending_org_type="university", three_areas_talent=True,
               status="dispatched", recognised_on=date(2024, 3, 1), dispatched_on=date(2025, 2, 1))
    b = person("其木格农技团队", "team", level="league", sending_org_type="institute",
               hotline_expert=True, recognised_on=date(2025, 1, 1 + more))
    c = person("绿源农业公司", "legal_entity", level="region", sending_org_type="enterprise",
               status="exited", recognised_on=date(2023, 1, 1), exited_on=date(2025, 6, 30),
               exit_reason="合同期满")
    person("赵明年", "individual", recognised_on=date(2026, 1, 1))  # after the period
    records.soft_delete(person("钱已删", "individual", recognised_on=date(2025, 2, 2)))
    if more:
        person("孙新人", "individual", sending_org_type="extension", status="dispatched",
               recognised_on=date(2025, 7, 1), dispatched_on=date(2025, 7, 2))

    def target(name, kind, village, **flags):
        data = {"name": name, "kind": kind, "village_id": village.id, "credit_code": "",
                "id_number": "", "household_size": None, **flags}
        _checked(targets.errors(data))
        return targets.save(None, data)

    t1 = target("脱贫户甲", "household", villages[0], poverty_alleviated=True)
    t2 = target("监测户乙", "household", villages[1], monitored=True)
    t3 = target("合作社丙", "coop", villages[0])
    t4 = target("已删户丁", "household", villages[0], poverty_alleviated=True)

    def visit(on, who, whom, cluster, stage, types, mode, hours, village):
        data = {"visited_on": on, "commissioner_ids": [p.id for p in who],
                "target_ids": [t.id for t in whom], "cluster_id": cluster, "stage": stage,
                "service_types": types, "mode": mode, "hours": hours,
                "village_id": village.id if village else None, "station_id": None,
                "follow_up": False, "follow_up_on": None, "problem": "技术指导"}
        _checked(visits.errors(data))
        return visits.save(None, data)

    visit(date(2025, 1, 1), [a, b], [t1, t3], sheep, "pre", ["guidance", "promotion"], "onsite",
          3, villages[0])
    visit(date(2025, 6, 15), [b], [t2, t4], corn, "during", ["market"], "online", 2, villages[1])
    visit(date(2025, 12, 31), [a, c], [], None, "", [], "hotline", 1.5, None)
    visit(date(2024, 12, 31), [a], [t3], sheep, "pre", ["guidance"], "onsite", 4, villages[0])
    records.soft_delete(visit(date(2025, 3, 3), [a], [t1], sheep, "pre", ["guidance"], "onsite",
                              5, villages[0]))
    for _ in range(more):
        visit(date(2025, 9, 9), [a], [t1], corn, "post", ["transfer"], "onsite", 4, villages[1])
    records.soft_delete(t4)  # reached by a visit, then deleted: no longer counted

    def session(title, on, mode, trainer, status="held", **data):
        data = {"title": title, "held_on": on, "mode": mode, "status": status, "hours": 2.0,
                "village_id": villages[0].id if mode != "online" else None, "place_text": "",
                "station_id": None, "cluster_id": sheep, "trainer_ids": [trainer.id], **data}
        _checked(trainings.errors(data))
        return trainings.save(None, data)

    roster = session("肉羊养殖技术培训", date(2025, 3, 1), "offline", a)
    for name, sex, ethnicity, category, poor in (
            ("甲", "female", "蒙古族", "farmer", True), ("乙", "male", "汉族", "farmer", False),
            ("丙", "female", "汉族", "coop_head", True), ("丁", "male", "回族", "farmer", False)):
        trainings.add_attendee(roster, {"name": name, "sex": sex, "ethnicity": ethnicity,
                                        "category": category, "poverty_alleviated": poor,
                                        "village_id": None, "village_text": "", "phone": ""})
    trainings.remove_attendee(trainings.attendees(roster)[-1])
    counted = session("线上直播培训", date(2025, 12, 31), "online", b, cluster_id=corn)
    counts = {"farmer": 5 + more, "village_secretary": 2}
    extra = {"women_count": 3, "minority_count": 1, "poverty_count": 2 + more}
    _checked(trainings.count_errors(counted, counts, extra))
    trainings.save_counts(counted, counts, extra)
    for title, on, status in (("去年", date(2024, 12, 31), "held"), ("计划中", date(2025, 5, 1), "planned"),
                              ("已删", date(2025, 4, 4), "held")):
        other = session(title, on, "offline", a, status=status)
        trainings.save_counts(other, {"farmer": 50}, {})
        if title == "已删":
            records.soft_delete(other)

    def agreement(title, form, party, counterpart, valuation, signed, in_force=None):
        data = {"number": "", "title": title, "form": form, "parties": [(party.id, 10000)],
                "counterpart_id": counterpart.id, "valuation_fen": valuation, "stake_bp": None,
                "profit_basis": "", "profit_terms": "", "risk_basis": "", "risk_terms": "",
                "ip_ownership": "", "signed_on": None, "starts_on": None, "ends_on": None,
                "cluster_id": sheep, "notes": ""}
        _checked(agreements.errors(data))
        found = agreements.save(None, data, code)
        for to, on in (("signed", signed), ("in_force", in_force)):
            if on:
                _checked(agreements.transition_errors(found, to, on, ""))
                agreements.transition(found, to, on)
        return found

    def payout(of, on, fen, kind, payee, reason=""):
        data = {"paid_on": on, "amount_fen": fen, "kind": kind, "payee_id": payee.id, "note": "",
                "out_of_term_reason": reason}
        _checked(agreements.payout_errors(of, data))
        return agreements.save_payout(of, None, data)

    equity = agreement("技术入股", "technology_equity", a, t3, 5_000_000, date(2025, 1, 1),
                       date(2025, 1, 2))
    payout(equity, date(2025, 6, 1), 100_000, "dividend", a)
    payout(equity, date(2024, 12, 31), 50_000, "dividend", a, reason="提前支付")
    payout(equity, date(2025, 12, 31), 20_050 + more, "service_fee", a)
    records.soft_delete(payout(equity, date(2025, 7, 1), 99_900, "dividend", a))
    service = agreement("有偿服务", "paid_service", b, t1, None, date(2025, 12, 31))
    payout(service, date(2025, 12, 31), 30_000, "service_fee", b)
    earlier = agreement("资金入股", "capital_equity", a, t3, 1_000_000 * (1 + more), date(2024, 6, 1),
                        date(2024, 6, 2))
    payout(earlier, date(2025, 2, 2), 40_000, "dividend", a)
    gone = agreement("已删协议", "asset_equity", a, t1, 777, date(2025, 3, 3))
    payout(gone, date(2025, 3, 4), 10_000, "dividend", a)
    records.soft_delete(gone)
    agreement("草稿", "ip_equity", c, t3, 9_999, None)

    made = [("肉羊服务团", sheep, [a, b]), ("玉米服务团", corn, [b])]
    if more:
        made.append(("肉羊二团", sheep, [c]))
    for name, cluster, members in made:
        data = {"name": name, "cluster_id": cluster, "leader_id": members[0].id,
                "member_ids": [m.id for m in members], "notes": ""}
        _checked(teams.errors(data))
        teams.save(None, data)


class Station:
    """A station's own answers, through its app, as its logged-in staff."""

    def __init__(self, app):
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        answer = self.client.post("/login", data={"username": "staff", "password": PASSWORD,
                                                  "csrf_token": token})
        assert answer.status_code == 302, answer.get_data(as_text=True)

    def report(self, name, **query):
        answer = self.client.get(f"/reports/{name}", query_string={**query, "format": "json"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()


class Browser:
    """The league's answers over HTTP at its live address, as its logged-in reviewer."""

    def __init__(self, url, username):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(url + "/login", timeout=60).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                       "csrf_token": token}).encode()
        with self.opener.open(url + "/login", data=form, timeout=60) as answer:
            assert not answer.url.endswith("/login"), answer.read().decode()

    def report(self, name, **query):
        address = f"{self.url}/reports/{name}?" + urllib.parse.urlencode({**query, "format": "json"})
        with self.opener.open(address, timeout=120) as answer:
            assert answer.status == 200
            assert answer.headers.get_content_type() == "application/json"
            return json.loads(answer.read())


def _figures(row) -> dict:
    return {k: v for k, v in row.items() if k not in ("key", "label")}


def _rows(answer) -> dict:
    return {tuple(row["key"]): _figures(row) for row in answer["rows"]}


def _sum(name, parts: list[dict]) -> dict:
    """What a set of the stations' figures add up to, metric by metric: numbers add up;
    a share is worked out again from the summed counts; a figure no station can have
    (None) stays None."""
    total = {}
    for metric in dict.fromkeys(m for part in parts for m in part):
        values = [part[metric] for part in parts if metric in part]
        if all(v is None for v in values):
            total[metric] = None
        elif metric == "priority_share":
            total[metric] = None
        elif isinstance(values[0], float) or any(isinstance(v, float) for v in values):
            total[metric] = round(sum(v or 0 for v in values), 2)
        else:
            total[metric] = sum(v or 0 for v in values)
    if "priority_share" in total:
        whole = total["targets"]
        total["priority_share"] = round(100 * total["priority_targets"] / whole, 1) if whole else None
    return total


def _zero(metrics: dict) -> dict:
    return {m: (None if v is None else 0.0 if isinstance(v, float) else 0) for m, v in metrics.items()}


def _compare(name, by, league: dict, stations: list[dict]) -> None:
    """The league's answer is the stations' answers added up: its totals, and each of its
    rows (a key no station has is a row no station has)."""
    assert league["columns"] == stations[0]["columns"]
    if by == "team_cluster":
        # the clusters are the same shared list at every node: teams add up per cluster,
        # and a cluster has a team at the league when it has one at any station
        station_rows = [_rows(s) for s in stations]
        for key, row in _rows(league).items():
            teams_here = sum(r.get(key, {}).get("teams", 0) for r in station_rows)
            assert row == {"teams": teams_here, "clusters_with_team": int(teams_here > 0),
                           "clusters": 1 if key != ("",) else 0}, (key, row)
        assert league["totals"]["teams"] == sum(s["totals"]["teams"] for s in stations)
        assert league["totals"]["clusters"] == stations[0]["totals"]["clusters"]
        return
    assert league["totals"] == _sum(name, [s["totals"] for s in stations]), (name, by)
    if by == "node":
        return  # a station's own node row is the league's county row: compared by the caller
    station_rows = [_rows(s) for s in stations]
    keys = set(_rows(league)) | {k for rows in station_rows for k in rows}
    for key in keys:
        parts = [rows[key] for rows in station_rows if key in rows]
        assert key in _rows(league), (name, by, key)
        assert _rows(league)[key] == _sum(name, parts), (name, by, key)


def test_league_reports_add_up_the_stations_reports_between_processes(tmp_path, league_database):
    league = Node(tmp_path / "league", "league", LEAGUE, "呼和浩特市科技局", league_database).start()
    stations = {code: Node(tmp_path / code, "station", code, name) for code, name in STATIONS.items()}
    apps = {}
    try:
        for more, (code, node) in enumerate(stations.items()):
            node.flask("upstream", "set", "--url", league.url, "--token", league.enroll(code, STATIONS[code]))
            apps[code] = app_for(node)
            ensure_user(apps[code], "staff", "station_staff", code)
            as_user(apps[code], "staff", lambda code=code, more=more: record_station(code, more))
            pushed = node.flask("sync", check=False, timeout=600)
            assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        league_app = app_for(league)
        ensure_user(league_app, "reviewer", "league_reviewer", LEAGUE)
        with league_app.app_context():  # what the stations recorded is at the league
            assert db.session.scalar(select(db.func.count(Place.id)).where(
                Place.level == "village", Place.deleted_at.is_(None))) == 4
            db.session.remove()

        at_league = Browser(league.url, "reviewer")
        at_station = [Station(apps[code]) for code in STATIONS]
        counties = [code[:6] for code in STATIONS]
        for period in PERIODS:
            for name in REPORTS:
                own = [s.report(name, **period) for s in at_station]
                for station_answer in own:  # each station adds something to each report
                    assert station_answer["totals"][FIRST[name]] > 0, (name, period, station_answer)
                for by in BREAKDOWNS[name]:
                    parts = [s.report(name, by=by, **period) for s in at_station]
                    answer = at_league.report(name, node=LEAGUE, by=by, **period)
                    assert answer["scope"]["code"] == LEAGUE
                    assert answer["period"] == parts[0]["period"]
                    _compare(name, by, answer, parts)
                # the by-node rows: one per county, each that county's station's own totals
                by_node = at_league.report(name, node=LEAGUE, by="node", **period)
                assert _rows(by_node) == {(county,): station["totals"]
                                          for county, station in zip(counties, own, strict=True)}
                # one level down (a county's scope): its station's row, the station's totals
                for county, (code, station) in zip(counties, zip(STATIONS, own, strict=True), strict=True):
                    down = at_league.report(name, node=county, by="node", **period)
                    assert _rows(down) == {(code,): station["totals"]}
                    assert down["totals"] == station["totals"]
                    mine = at_station[list(STATIONS).index(code)].report(name, by="node", **period)
                    assert _rows(mine) == {(code,): station["totals"]}
        # figures the two stations differ in: a league that counted one twice, or left one
        # out, could not have added up above
        first, second = (s.report("services", year="2025")["totals"] for s in at_station)
        assert (first["visits"], second["visits"]) == (3, 4)
    finally:
        for app in apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        league.kill()
