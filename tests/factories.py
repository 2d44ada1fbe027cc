"""Shared fixtures and builders, loaded by conftest.py (``pytest_plugins``) so that no
test module imports another: records of a station, a station with its league, the forms
of a visit, a training session and an agreement, pictures, and counting rows."""
import io
from datetime import date, timedelta

import pytest
from flask import g
from PIL import Image
from sqlalchemy import func, select

from app.auth.services import create_user
from app.core.extensions import db
from app.models import Agreement, Commissioner, Place, ServiceTarget, Station
from app.models.shipped import shipped_id
from tests.settings import PASSWORD, STATION
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


def count(app, model, *where, alive=False) -> int:
    """How many rows of ``model`` (matching ``where``; not soft-deleted if ``alive``)."""
    if alive:
        where = (*where, model.deleted_at.is_(None))
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def picture(fmt: str, width=400, height=300) -> bytes:
    """A small image in ``fmt`` (a Pillow format name: JPEG, PNG, ...)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 60)).save(out, fmt)
    return out.getvalue()


def visit_form(world, **extra):
    """A valid visit form for the ``world`` fixture's station."""
    data = {"visited_on": "2025-05-06", "start_time": "09:00", "end_time": "11:30",
            "commissioner_ids": [world["wang"]], "target_ids": [world["target"]],
            "village_id": world["v1"], "cluster_id": world["cluster"], "stage": "during",
            "service_types": ["guidance", "consulting"], "mode": "onsite",
            "problem": "母羊产后瘫痪，食欲不振", "action": "补充钙剂并调整日粮配方",
            "result": "三天后母羊恢复站立", "people_reached": "4",
            "latitude": "40.72", "longitude": "111.13"}
    data.update(extra)
    return data


def training_form(places, **extra):
    """A valid training session form for the ``places`` fixture's villages."""
    return {"title": "玉米密植高产技术培训",
            "held_on": (date.today() - timedelta(days=3)).isoformat(),
            "hours": "3", "mode": "offline", "village_id": places["红旗村"],
            "trainer_ids": [places["王建国"]], "outside_trainers": "李教授",
            "content": "密植、水肥一体化", "status": "held", **extra}


def create_training(client, places, **extra) -> str:
    """Post a training session; its id."""
    response = client.post("/trainings/new", data=training_form(places, **extra))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def head_counts(**values):
    """A training form's head count fields, blank but for ``values``."""
    data = {f"count_{k}": "" for k in ("rich_leader", "coop_head", "enterprise_head",
                                       "village_secretary", "farmer", "commissioner",
                                       "technician", "other")}
    data.update({"women_count": "", "minority_count": "", "poverty_count": ""})
    data.update({k: str(v) for k, v in values.items()})
    return data


def agreement_people(app, owner=STATION):
    """Two commissioners and a co-op of ``owner``; returns their ids."""
    with app.app_context():
        g.actor = "test"
        a = Commissioner(name="王建国", owner_node=owner)
        b = Commissioner(name="其木格", owner_node=owner)
        t = ServiceTarget(name="把什村肉羊合作社", kind="coop", owner_node=owner)
        db.session.add_all([a, b, t])
        db.session.commit()
        return a.id, b.id, t.id


def agreement_form(a, b, t, **extra):
    """A valid agreement form: commissioners ``a`` (60 %) and ``b`` (40 %), counterpart ``t``."""
    data = {"title": "肉羊繁育技术入股", "form": "technology_equity", "counterpart_id": t,
            "parties-0-commissioner_id": a, "parties-0-share_bp": "60",
            "parties-1-commissioner_id": b, "parties-1-share_bp": "40",
            "valuation_fen": "￥50,000.50", "stake_bp": "12.5", "profit_basis": "by_share",
            "profit_terms": "按股比分红", "risk_basis": "by_share", "ip_ownership": "归合作社",
            "starts_on": "2025-01-01", "ends_on": "2027-12-31",
            "cluster_id": shipped_id("cluster", "肉羊")}
    data.update(extra)
    return data


def create_agreement(app, client, **extra):
    """Post an agreement between new people; (its id, (a, b, t))."""
    a, b, t = agreement_people(app)
    response = client.post("/agreements/new", data=agreement_form(a, b, t, **extra))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(select(Agreement.id)), (a, b, t)
