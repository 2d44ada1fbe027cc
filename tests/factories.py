"""Shared fixtures, loaded by conftest.py (``pytest_plugins``) so that no test module
imports another for its fixtures: records of a station, and a station with its league."""
import pytest
from flask import g

from app.auth.services import create_user
from app.core.extensions import db
from app.models import Commissioner, Place, ServiceTarget, Station
from app.models.shipped import shipped_id
from tests.conftest import PASSWORD, STATION
from tests.sync_helpers import link, make_node

OTHER = "150122-01"


@pytest.fixture
def world(app):
    """A station with two commissioners (one with a login), a target, two villages, and
    another node's commissioner, target and village."""
    with app.app_context():
        g.actor = "test"
        county = shipped_id("place", "150121")
        town = Place(name="察素齐镇", level="township", parent_id=county, owner_node=STATION)
        db.session.add(town)
        db.session.flush()
        v1 = Place(name="把什村", level="village", parent_id=town.id, owner_node=STATION)
        v2 = Place(name="水磨村", level="village", parent_id=town.id, owner_node=STATION)
        v_other = Place(name="外村", level="village", parent_id=town.id, owner_node=OTHER)
        station = Station(name="土左旗工作站", kind="grassroots", owner_node=STATION)
        db.session.add_all([v1, v2, v_other, station])
        db.session.flush()
        wang = Commissioner(name="王建国", station_id=station.id, owner_node=STATION)
        li = Commissioner(name="李秀英", station_id=station.id, owner_node=STATION)
        far = Commissioner(name="外站专家", owner_node=OTHER)
        target = ServiceTarget(name="张三", kind="household", village_id=v1.id, owner_node=STATION)
        far_target = ServiceTarget(name="外站农户", kind="household", owner_node=OTHER)
        db.session.add_all([wang, li, far, target, far_target])
        db.session.commit()
        create_user(username="wang", password=PASSWORD, role="commissioner", node_code=STATION,
                    commissioner_id=wang.id)
        create_user(username="li", password=PASSWORD, role="commissioner", node_code=STATION,
                    commissioner_id=li.id)
        return {"v1": v1.id, "v2": v2.id, "v_other": v_other.id, "station": station.id,
                "wang": wang.id, "li": li.id, "far": far.id, "target": target.id,
                "far_target": far_target.id, "cluster": shipped_id("cluster", "肉羊")}



@pytest.fixture
def places(app):
    """A township with two villages, and a commissioner; {name: id}."""
    with app.app_context():
        county = shipped_id("place", "150121")
        t = Place(name="察素齐镇", level="township", parent_id=county, owner_node=STATION)
        db.session.add(t)
        db.session.flush()
        ids = {"察素齐镇": t.id}
        for name in ("红旗村", "把什村"):
            v = Place(name=name, level="village", parent_id=t.id, owner_node=STATION)
            db.session.add(v)
            db.session.flush()
            ids[name] = v.id
        c = Commissioner(name="王建国", owner_node=STATION)
        db.session.add(c)
        db.session.commit()
        ids["王建国"] = c.id
        return ids


@pytest.fixture
def nodes(tmp_path):
    """A station and its league (both on SQLite), enrolled and linked in-process: (station
    app, league app, the transport that carries the station's requests to the league)."""
    station = make_node(tmp_path, "station", "station", STATION, "土左旗工作站")
    league = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局")
    transport = link(station, league)
    yield station, league, transport
    for app in (station, league):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
