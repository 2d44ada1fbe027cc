"""A fresh station's first sync, between real processes: the demo station (`flask
seed-demo`) sends everything to a league on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set; nothing is refused or held, every record arrives equal field
by field, and a second sync has nothing to send."""
import os

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.core.history import record_fields
from app.core.node import subtree
from app.sync import registry
from tests.node_processes import Node, beside

STATION = "150121-01"
STAMPS = ("created_at", "updated_at", "created_by", "updated_by")


def station_records(app, code=STATION) -> dict:
    """{(type, id): fields} of every synced record of the station's subtree, stamps aside."""
    found = {}
    with app.app_context():
        for name, model in registry.types().items():
            for record in db.session.scalars(select(model).where(subtree(model.owner_node, code))):
                fields = record_fields(record)
                for key in STAMPS:
                    fields.pop(key)
                found[(name, record.id)] = fields
        db.session.remove()
    return found


def differences(here: dict, there: dict) -> list:
    keys = sorted(set(here) | set(there))
    return [(key, {f: (here.get(key, {}).get(f), there.get(key, {}).get(f))
                   for f in set(here.get(key, {})) | set(there.get(key, {}))
                   if here.get(key, {}).get(f) != there.get(key, {}).get(f)})
            for key in keys if here.get(key) != there.get(key)]


@pytest.fixture(params=["sqlite", "postgresql"])
def league_database(request):
    if request.param == "sqlite":
        return None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
    return beside(url, "first_league")


def test_a_fresh_demo_station_first_sync_is_clean_and_complete(tmp_path, league_database):
    league = Node(tmp_path / "league", "league", "1501", "呼和浩特市科技局", league_database).start()
    station = Node(tmp_path / "station", "station", STATION, "土默特左旗科技特派员工作站")
    try:
        station.flask("seed-demo")
        token = league.enroll(STATION, "土默特左旗科技特派员工作站", process=True)
        station.flask("upstream", "set", "--url", league.url, "--token", token)
        first = station.flask("sync", check=False, timeout=600)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "held 0, rejected 0" in first.stdout
        here, there = station_records(station.app), station_records(league.app)
        assert len(here) > 500
        assert differences(here, there) == []
        second = station.flask("sync", check=False)
        assert second.returncode == 0 and second.stdout.startswith("sent 0,"), second.stdout
        nodes = league.flask("nodes", "list").stdout
        assert STATION in nodes
    finally:
        league.close()
        station.close()
