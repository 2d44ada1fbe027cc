"""Two nodes in one process for sync tests: a station and its league, the station's
requests carried to the league's WSGI app without a network."""
import atexit
import os
import shutil
import sqlite3
import tempfile
import urllib.parse
import uuid

import pytest
from flask import g

from app import create_app
from app.auth.services import create_user
from app.core.extensions import db
from app.setup import initialise
from app.sync import client, peers, wire
from tests.node_processes import fresh_postgres, sibling_database
from tests.settings import STATION

BASE = "http://league.test"


_templates: dict = {}  # (role, code, title) -> a SQLite file made by make_node, to copy


def make_node(tmp_path, name, role, code, title, url=None):
    """A node with its own instance folder and database, set up and with an admin. On
    SQLite the database is a copy of the first one made for the same identity in this
    process (setting up the shipped data and hashing the password cost most of the time)."""
    path = f"{tmp_path}/{name}.sqlite3"
    made = None if url else _templates.get((role, code, title))
    if made:
        shutil.copy(made, path)
    previous = os.environ.get("KEPAI_INSTANCE")
    os.environ["KEPAI_INSTANCE"] = str(tmp_path / name)
    try:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": name,
                          "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{path}"})
    finally:
        if previous is None:
            os.environ.pop("KEPAI_INSTANCE")
        else:
            os.environ["KEPAI_INSTANCE"] = previous
    if made:
        return app
    with app.app_context():
        db.create_all()
        g.actor = "test"
        initialise(role, code, title)
        create_user(username="admin", password="secret-pass-1",
                    role={"station": "station_admin", "league": "league_admin",
                          "region": "region_admin"}[role], node_code=code)
        if url is None:
            copy = os.path.join(_folder(), f"{len(_templates)}.sqlite3")
            with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
                source.backup(target)
            target.close()
            source.close()
            _templates[(role, code, title)] = copy
    return app


_template_folder = None


def _folder() -> str:
    global _template_folder
    if _template_folder is None:
        _template_folder = tempfile.mkdtemp(prefix="kepai-make-node-")
        atexit.register(shutil.rmtree, _template_folder, True)
    return _template_folder


class InProcess:
    """A transport that hands the request to another app's test client, recording each
    call (method, path, status)."""

    def __init__(self, upstream_app):
        self.client = upstream_app.test_client()
        self.calls = []

    def __call__(self, method, url, data, headers, timeout):
        path = urllib.parse.urlsplit(url)
        target = path.path + ("?" + path.query if path.query else "")
        response = self.client.open(target, method=method, data=data, headers=headers)
        self.calls.append((method, path.path, response.status_code))
        return response.status_code, response.headers.get("Content-Encoding"), response.get_data()


def link(station, league, code="150121-01"):
    """Enrol the station on the league and point the station at it; returns the transport."""
    with league.app_context():
        _, token = peers.enroll(code, "土左旗工作站")
    with station.app_context():
        client.set_upstream(BASE, token)
    return InProcess(league)


def sync(station, transport):
    with station.app_context():
        g.actor = "sync"
        return client.sync_once("test", transport=transport)


class SlowLink:
    """A simulated slow link around another transport, on a simulated clock (no sleeping):
    a request takes ``rtt`` plus its body's bytes at ``rate`` bytes/s. One that would take
    longer than its timeout fails as a timeout would, and the upstream never gets it
    (its body did not arrive whole). ``lose`` maps a file's digest to the PUTs of it
    (1 = its first) whose chunk the upstream keeps but whose answer is lost. ``puts``
    records each PUT that arrived: (digest, offset, size)."""

    def __init__(self, inner, rate: float, rtt: float = 0.3, lose=None):
        self.inner, self.rate, self.rtt, self.lose = inner, rate, rtt, lose or {}
        self.now, self.puts, self.timeouts = 0.0, [], 0

    def clock(self) -> float:
        return self.now

    def chunks(self, sha: str) -> list:
        """(offset, size) of the PUTs of one file that arrived, in order."""
        return [(offset, size) for digest, offset, size in self.puts if digest == sha]

    def __call__(self, method, url, data, headers, timeout):
        seconds = self.rtt + len(data or b"") / self.rate
        if seconds > timeout:
            self.now += timeout
            self.timeouts += 1
            raise client.SyncError("upstream unreachable: timed out")
        self.now += seconds
        answer = self.inner(method, url, data, headers, timeout)
        if method == "PUT":
            parts = urllib.parse.urlsplit(url)
            sha = parts.path.rsplit("/", 1)[-1]
            self.puts.append((sha, int(urllib.parse.parse_qs(parts.query)["offset"][0]), len(data)))
            if len(self.chunks(sha)) in self.lose.get(sha, ()):
                raise client.SyncError("upstream unreachable: connection reset")
        return answer


def station_and_league(database: str, tmp_path, name: str):
    """A station and its league (the league on PostgreSQL when ``database`` says so,
    in a database named after the suite's), enrolled and linked; yields (station, league,
    transport) and disposes of both."""
    url = None
    if database == "postgresql":
        if not os.environ.get("TEST_DATABASE_URL"):
            pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
        pg = os.environ["TEST_DATABASE_URL"]
        url = fresh_postgres(pg, sibling_database(pg, name))
    station = make_node(tmp_path, "station", "station", STATION, "土左旗工作站")
    league = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局", url=url)
    transport = link(station, league)
    yield station, league, transport
    for app in (station, league):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def push(league, ops, token):
    """Ops pushed as a (hostile) station holding a valid token would push them."""
    response = league.test_client().post(
        "/api/sync/v1/push", data=wire.pack({"ops": ops}),
        headers={"Authorization": f"Bearer {token}", "X-Kepai-Protocol": str(wire.PROTOCOL),
                 "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.get_data()
    return wire.unpack(response.get_data(), "gzip")["results"]


def token_of(station):
    with station.app_context():
        return client.read_token()


def create_op(record_type, record_id, fields, owner=STATION):
    return {"op_id": str(uuid.uuid4()), "type": record_type, "id": record_id,
            "action": "create", "base_version": 0, "version": 1,
            "changed": sorted(fields), "fields": {"owner_node": owner, **fields}}
