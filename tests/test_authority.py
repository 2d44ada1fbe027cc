"""Who may write which field, through the pages: the declaration in app/core/authority.py
that the upstream applies to pushes applies to every form too. A league reviews a
station's visit; it never edits, deletes or restores the station's own records, and a
station never writes the league's review."""
from datetime import date

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from app.auth.services import create_user
from app.core.extensions import db
from app.models import AuditEntry, Commissioner, ServiceTarget, Visit, utcnow
from tests.sync_helpers import make_node

STATION = "150121-01"
PASSWORD = "secret-pass-1"


@pytest.fixture
def league(tmp_path):
    """A league holding a station's commissioner, target and visit, as pushed by it."""
    app = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局")
    with app.app_context():
        g.actor = "test"
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer", node_code="1501")
        db.session.info["applying_sync"] = True
        commissioner = Commissioner(name="王建国", owner_node=STATION)
        target = ServiceTarget(name="李四", kind="household", owner_node=STATION)
        visit = Visit(number=f"{STATION}-2026-00001", year=2026, sequence=1,
                      visited_on=date(2026, 5, 1), problem="玉米倒伏", owner_node=STATION)
        gone = Commissioner(name="已删除", owner_node=STATION, deleted_at=utcnow())
        db.session.add_all([commissioner, target, visit, gone])
        db.session.commit()
        db.session.info.pop("applying_sync")
        app.ids = {"commissioner": commissioner.id, "target": target.id, "visit": visit.id,
                   "gone": gone.id}
    yield app
    with app.app_context():
        db.engine.dispose()


def login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def audit_count(app):
    with app.app_context():
        return len(db.session.scalars(select(AuditEntry.id)).all())


@pytest.mark.parametrize("path, data", [
    ("/visits/{visit}/edit", {"visited_on": "2026-05-02", "problem": "盟里改的", "mode": "onsite"}),
    ("/visits/{visit}/delete", {}),
    ("/commissioners/{commissioner}/edit", {"name": "盟里改的", "kind": "individual", "level": "county"}),
    ("/commissioners/{commissioner}/delete", {}),
    ("/commissioners/{gone}/restore", {}),
    ("/targets/{target}/edit", {"name": "盟里改的", "kind": "household"}),
    ("/targets/{target}/delete", {}),
])
def test_a_league_admin_cannot_rewrite_a_stations_records(league, path, data):
    before = audit_count(league)
    response = login(league, "admin").post(path.format(**league.ids), data=data)
    assert response.status_code == 403
    assert audit_count(league) == before
    with league.app_context():
        assert db.session.get(Visit, league.ids["visit"]).problem == "玉米倒伏"
        assert db.session.get(Commissioner, league.ids["commissioner"]).name == "王建国"
        assert db.session.get(Commissioner, league.ids["commissioner"]).deleted_at is None
        assert db.session.get(Commissioner, league.ids["gone"]).deleted_at is not None


def test_the_league_reviews_a_stations_visit_and_sees_no_edit_button(league):
    client = login(league, "reviewer")
    page = client.get(f"/visits/{league.ids['visit']}").get_data(as_text=True)
    assert f"/visits/{league.ids['visit']}/edit" not in page
    response = client.post(f"/visits/{league.ids['visit']}/review",
                           data={"review_state": "approved", "review_comment": ""})
    assert response.status_code == 302
    with league.app_context():
        visit = db.session.get(Visit, league.ids["visit"])
        assert visit.review_state == "approved" and visit.problem == "玉米倒伏"
    admin_page = login(league, "admin").get(f"/commissioners/{league.ids['commissioner']}")
    assert f"/commissioners/{league.ids['commissioner']}/edit" not in admin_page.get_data(as_text=True)


def test_a_station_user_cannot_write_the_leagues_review_by_any_path(tmp_path):
    """Whatever a service forgets, the flush refuses it (the same declaration)."""
    station = make_node(tmp_path, "station", "station", STATION, "土左旗工作站")
    with station.app_context():
        g.actor = "test"
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
        visit = Visit(number=f"{STATION}-2026-00002", year=2026, sequence=2,
                      visited_on=date(2026, 5, 1), owner_node=STATION)
        db.session.add(visit)
        db.session.commit()
        visit_id = visit.id
    client = login(station, "staff")
    with station.test_request_context():
        from flask_login import login_user

        from app.models import User
        login_user(db.session.scalar(select(User).where(User.username == "staff")))
        visit = db.session.get(Visit, visit_id)
        visit.review_state = "approved"
        with pytest.raises(Forbidden):
            db.session.commit()
        db.session.rollback()
        visit.problem = "本站自己的话"
        db.session.commit()
    with station.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.review_state, visit.problem) == ("", "本站自己的话")
        db.engine.dispose()
    assert client
