"""Two nodes in one process for sync tests: a station and its league, the station's
requests carried to the league's WSGI app without a network."""
import os
import urllib.parse

from flask import g

from app import create_app
from app.auth.services import create_user
from app.extensions import db
from app.setup import initialise
from app.sync import client, peers

BASE = "http://league.test"


def make_node(tmp_path, name, role, code, title, url=None):
    """A node with its own instance folder and database, set up and with an admin."""
    previous = os.environ.get("KEPAI_INSTANCE")
    os.environ["KEPAI_INSTANCE"] = str(tmp_path / name)
    try:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": name,
                          "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp_path}/{name}.sqlite3"})
    finally:
        if previous is None:
            os.environ.pop("KEPAI_INSTANCE")
        else:
            os.environ["KEPAI_INSTANCE"] = previous
    with app.app_context():
        db.create_all()
        g.actor = "test"
        initialise(role, code, title)
        create_user(username="admin", password="secret-pass-1",
                    role={"station": "station_admin", "league": "league_admin",
                          "region": "region_admin"}[role], node_code=code)
    return app


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
