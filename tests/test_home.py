"""The home page of each role (app/main/overview.py), hand-counted: a commissioner's own
visits and follow-ups due, a station's late trainings, reviewed issues and year figures
(the same as the reports'), a league's nodes below."""
from datetime import date, datetime, timedelta

import pytest
from flask import g

from app.auth.services import create_user
from app.core.extensions import db
from app.main import overview
from app.models import Training, User, Visit
from tests.settings import PASSWORD, STATION
from tests.sync_helpers import sync

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=400)  # always in an earlier year


@pytest.fixture
def visits(app, world):
    """wang's and li's visits; {name: id}."""
    with app.app_context():
        g.actor = "test"
        from app.models import Commissioner, ServiceTarget
        wang, li = db.session.get(Commissioner, world["wang"]), db.session.get(Commissioner, world["li"])
        t1 = db.session.get(ServiceTarget, world["target"])
        t2 = ServiceTarget(name="李四", kind="household", owner_node=STATION)
        t3 = ServiceTarget(name="王五", kind="household", owner_node=STATION)
        db.session.add_all([t2, t3])
        rows = {
            # name: (date, commissioners, targets, follow-up date, follow-up, deleted, review)
            "this_month": (TODAY, [wang], [], None, False, None, ""),
            "new_year": (TODAY.replace(month=1, day=1), [wang], [], None, False, None, ""),
            "last_year": (TODAY.replace(year=TODAY.year - 1), [wang], [], None, False, None, ""),
            "li_today": (TODAY, [li], [], None, False, None, "has_issues"),
            "deleted": (TODAY, [wang], [], None, False, datetime.now(), "has_issues"),
            "due_soon": (LONG_AGO, [wang], [t1], TODAY + timedelta(days=3), True, None, ""),
            "overdue": (LONG_AGO, [wang], [t2], TODAY - timedelta(days=2), True, None, ""),
            "done": (LONG_AGO, [wang], [t3], TODAY - timedelta(days=5), True, None, ""),
            "later_visit": (LONG_AGO + timedelta(days=1), [li], [t3], None, False, None, ""),
            "too_far": (LONG_AGO, [wang], [t1], TODAY + timedelta(days=10), True, None, ""),
            "li_due": (LONG_AGO, [li], [t1], TODAY, True, None, ""),
            "not_marked": (LONG_AGO, [wang], [t2], TODAY, False, None, ""),
        }
        made = {}
        for n, (name, (on, who, whom, follow_on, follow, gone, review)) in enumerate(rows.items()):
            visit = Visit(number=f"H{n:02d}", year=on.year, sequence=n, visited_on=on,
                          commissioners=who, targets=whom, follow_up=follow,
                          follow_up_on=follow_on, review_state=review, owner_node=STATION,
                          deleted_at=gone)
            db.session.add(visit)
            made[name] = visit
        db.session.commit()
        return {name: visit.id for name, visit in made.items()}


def test_commissioner_counts_own_live_visits_this_month_and_year(app, visits):
    with app.test_request_context():
        wang = db.session.scalar(db.select(User).where(User.username == "wang"))
        counts = overview.my_visit_counts(wang, TODAY)
    january = TODAY.month == 1
    assert counts == {"month": 2 if january else 1, "year": 2}


def test_follow_ups_due_are_own_within_a_week_or_overdue_and_not_done(app, visits):
    with app.test_request_context():
        wang = db.session.scalar(db.select(User).where(User.username == "wang"))
        count, items = overview.follow_ups_due(wang, TODAY)
        assert count == 2
        assert [v.id for v in items] == [visits["overdue"], visits["due_soon"]]


def test_commissioner_home_is_phone_first(app, login, visits):
    page = login("wang").get("/").get_data(as_text=True)
    assert "记录服务" in page and 'href="/visits/new"' in page
    assert "需跟进" in page and "已逾期" in page
    assert "H05" in page and "H06" in page and "H07" not in page and "H10" not in page


def test_station_home_lists_late_trainings_and_visits_with_issues(app, login, visits):
    with app.app_context():
        g.actor = "test"
        db.session.add_all([
            Training(title="过期计划", held_on=TODAY - timedelta(days=1), status="planned",
                     owner_node=STATION),
            Training(title="今天的计划", held_on=TODAY, status="planned", owner_node=STATION),
            Training(title="已举办的", held_on=TODAY - timedelta(days=9), status="held",
                     owner_node=STATION),
            Training(title="已删的计划", held_on=TODAY - timedelta(days=9), status="planned",
                     deleted_at=datetime.now(), owner_node=STATION)])
        db.session.commit()
    page = login("staff").get("/").get_data(as_text=True)
    late = page.split('id="late-trainings"')[1].split("</section>")[0]
    assert "过期计划" in late and "今天的计划" not in late and "已举办的" not in late \
        and "已删的计划" not in late
    issues = page.split('id="visits-with-issues"')[1].split("</section>")[0]
    assert "H03" in issues and "H04" not in issues


def test_station_year_figures_are_the_reports_totals(app, login, visits):
    client = login("staff")
    answer = client.get("/reports/services", query_string={"year": TODAY.year, "format": "json"})
    last = client.get("/reports/services",
                      query_string={"year": TODAY.year - 1, "format": "json"}).get_json()
    with app.test_request_context():
        staff = db.session.scalar(db.select(User).where(User.username == "staff"))
        figures = {f.key: f for f in overview.year_figures(staff, TODAY)}
    assert figures["visits"].this_year == answer.get_json()["totals"]["visits"] == 3
    assert figures["visits"].last_year == last["totals"]["visits"]
    assert figures["service_days"].this_year == answer.get_json()["totals"]["service_days"]


def test_a_commissioner_never_sees_the_station_home(app, login, visits):
    page = login("wang").get("/").get_data(as_text=True)
    assert 'id="late-trainings"' not in page and 'id="visits-with-issues"' not in page


def test_league_home_lists_the_nodes_below_with_their_last_sync(nodes):
    station, league, transport = nodes
    sync(station, transport)
    with league.app_context():
        create_user(username="officer", password=PASSWORD, role="league_reviewer",
                    node_code="1501")
    client = league.test_client()
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    nodes_below = page.split('id="downstream-nodes"')[1].split("</section>")[0]
    assert STATION in nodes_below and "从未" not in nodes_below
    assert 'id="year-figures"' in page


def test_commissioner_home_shows_own_latest_assessment_sheet(app, login, world):
    with app.app_context():
        g.actor = "test"
        from app.models import AssessmentSheet
        db.session.add_all([
            AssessmentSheet(subject="commissioner", year=TODAY.year - 1, submission=1,
                            reviewed_submission=1, review_state="graded", final_grade="good",
                            commissioner_id=world["wang"], owner_node=STATION),
            AssessmentSheet(subject="commissioner", year=TODAY.year, submission=1,
                            commissioner_id=world["li"], owner_node=STATION)])
        db.session.commit()
    page = login("wang").get("/").get_data(as_text=True)
    mine = page.split('id="my-assessment"')[1].split("</section>")[0]
    assert str(TODAY.year - 1) in mine and "已评定" in mine and "良好" in mine
    assert str(TODAY.year) not in mine.replace(str(TODAY.year - 1), "")


def test_league_home_lists_sheets_awaiting_review(nodes):
    station, league, transport = nodes
    with league.app_context():
        g.actor = "test"
        from app.models import AssessmentSheet, Commissioner
        people = [Commissioner(name=name, owner_node=STATION) for name in ("待审甲", "已评乙")]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all([
            AssessmentSheet(subject="commissioner", year=TODAY.year, submission=1,
                            commissioner_id=people[0].id, owner_node=STATION),
            AssessmentSheet(subject="commissioner", year=TODAY.year, submission=1,
                            reviewed_submission=1, review_state="graded", final_grade="pass",
                            commissioner_id=people[1].id, owner_node=STATION)])
        db.session.commit()
        create_user(username="officer", password=PASSWORD, role="league_reviewer",
                    node_code="1501")
    client = league.test_client()
    assert client.post("/login", data={"username": "officer", "password": PASSWORD}).status_code == 302
    page = client.get("/").get_data(as_text=True)
    awaiting = page.split('id="sheets-awaiting-review"')[1].split("</section>")[0]
    assert "待审甲" in awaiting and "已评乙" not in awaiting


def test_grades_appear_on_the_commissioner_and_station_pages(app, login, world):
    """A graded sheet (the league's grade, the region's subsidy) shows on the page of
    whom it grades; a sheet not yet graded does not."""
    with app.app_context():
        g.actor = "test"
        from app.models import AssessmentSheet
        db.session.add_all([
            AssessmentSheet(subject="commissioner", year=2025, submission=1, reviewed_submission=1,
                            review_state="graded", final_grade="excellent",
                            commissioner_id=world["wang"], owner_node=STATION),
            AssessmentSheet(subject="commissioner", year=2026, submission=1,
                            commissioner_id=world["wang"], owner_node=STATION),
            AssessmentSheet(subject="station", year=2025, submission=1, reviewed_submission=1,
                            review_state="graded", final_grade="excellent",
                            subsidy_fen=15_000_000, station_id=world["station"],
                            owner_node=STATION)])
        db.session.commit()
    client = login("staff")
    page = client.get(f"/commissioners/{world['wang']}").get_data(as_text=True)
    assert "年度考核" in page and "2025" in page and "优秀" in page and ">2026<" not in page
    page = client.get(f"/stations/{world['station']}").get_data(as_text=True)
    assert "年度绩效评估" in page and "150,000.00" in page


def test_sheets_awaiting_review_are_read_in_one_query_as_their_status_says(app, world):
    """Every combination of submission, reviewed submission and review state: the one
    query finds exactly the sheets whose status is "submitted", of the reviewer's subtree
    only, with whom they grade (no query per sheet)."""
    from sqlalchemy import event, select

    from app.models import AssessmentSheet
    with app.app_context():
        g.actor = "test"
        n = 0
        for submission in (0, 1, 2):
            for reviewed in range(submission + 1):
                for state in ("", "returned", "graded"):
                    n += 1
                    db.session.add(AssessmentSheet(
                        subject="commissioner", year=2000 + n, submission=submission,
                        submitted_at=datetime(2026, 1, 1) + timedelta(days=n) if submission else None,
                        reviewed_submission=reviewed, review_state=state,
                        final_grade="pass" if state == "graded" else "",
                        commissioner_id=world["wang"], owner_node=STATION))
        db.session.add(AssessmentSheet(subject="commissioner", year=2000, submission=1,
                                       commissioner_id=world["far"], owner_node="150122-01"))
        db.session.commit()
        every = db.session.scalars(select(AssessmentSheet)).all()
        expected = sorted(s.id for s in every if s.status == "submitted" and s.owner_node == STATION)
        assert 0 < len(expected) < n
        db.session.remove()
        reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
        statements = []

        def seen(conn, cursor, statement, *args):
            statements.append(statement)
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            found = overview.sheets_awaiting_review(reviewer)
            names = {s.subject_name for s in found}
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert sorted(s.id for s in found) == expected
        assert [s.year for s in found] == sorted((s.year for s in found), reverse=True)
        assert names == {"王建国"}
        assert len(statements) == 1, statements
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        assert overview.sheets_awaiting_review(staff) == []


def test_year_figures_show_at_once_when_known_else_are_fetched_after_the_page(app, login, visits):
    """Six reports' worth of work after each write: the home page does not wait for it.
    The first view after a write has the figures fetched by htmx once the page is shown
    (a link to a page of their own without JavaScript); once worked out they are on the
    page itself, until the next write."""
    client = login("staff")
    first = client.get("/").get_data(as_text=True)
    placeholder = first.split('id="home-figures"')[1].split("</div>")[0]
    assert 'hx-get="/home/figures"' in placeholder and 'hx-trigger="load"' in placeholder
    assert 'href="/home/figures"' in placeholder and 'class="stat figure"' not in placeholder

    fragment = client.get("/home/figures", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert 'id="year-figures"' in fragment and 'class="stat figure"' in fragment
    with app.test_request_context():
        staff = db.session.scalar(db.select(User).where(User.username == "staff"))
        visits_now = {f.key: f for f in overview.year_figures(staff, TODAY)}["visits"].this_year
    assert visits_now == 3 and f"<strong>{visits_now}</strong>" in fragment

    again = client.get("/").get_data(as_text=True)
    assert 'hx-get="/home/figures"' not in again and 'class="stat figure"' in again

    with app.app_context():
        g.actor = "test"
        db.session.get(Visit, visits["li_today"]).problem = "补充说明"
        db.session.commit()
    after_a_write = client.get("/").get_data(as_text=True)
    assert 'hx-get="/home/figures"' in after_a_write

    page = client.get("/home/figures").get_data(as_text=True)  # without JavaScript
    assert "<html" in page and "<h1>今年以来</h1>" in page and 'class="stat figure"' in page


def test_the_figures_page_is_behind_the_login(client):
    answer = client.get("/home/figures")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
