"""Fixtures: ``app`` (a station node with shipped reference data and three accounts),
``client``, ``runner``, ``login``. Every test runs on SQLite, and again on PostgreSQL
when TEST_DATABASE_URL is set (CI sets it)."""
import os
import shutil

# Commits need not wait for the disk in tests: a killed process loses nothing either way
# (only a power cut does). A station always runs with FULL (app/core/database.py).
os.environ.setdefault("KEPAI_SQLITE_SYNCHRONOUS", "OFF")

import pytest
from sqlalchemy import text

from app import create_app
from app.auth.services import create_user
from app.core.extensions import db
from app.setup import initialise
from tests.settings import DATABASES, PASSWORD, PG_URL, STATION, TEST_CONFIG

pytest_plugins = ["tests.factories"]

# `make test` hands each file whole to one worker (--dist loadfile), in collection order
# (--no-loadscope-reorder): the files that take longest go first, so that no worker is
# still busy with one of them when the others are done. The rest keep their order.
SLOWEST_FIRST = ("test_sync_faults.py", "test_sync_first.py", "test_no_server_errors.py",
                 "browser/test_visit_draft.py", "browser/", "test_sync_property.py",
                 "test_backup.py", "test_sync_guards.py", "test_sync_integrity.py", "test_sync.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return next((i for i, name in enumerate(SLOWEST_FIRST) if path.endswith(name) or
                     name.endswith("/") and name in path), len(SLOWEST_FIRST))
    items.sort(key=rank)


def _seed(app):
    """What every test starts from: the node, its places and clusters, three users."""
    with app.app_context():
        from flask import g
        g.actor = "test"
        initialise("station", STATION, "土左旗科技特派员工作站")
        for username, role in (("admin", "station_admin"), ("staff", "station_staff"),
                               ("reviewer", "league_reviewer")):
            create_user(username=username, password=PASSWORD, role=role, node_code=STATION)


def _search_indexes():
    """What create_all cannot make: full-text indexes (the migrations make them too)."""
    from app.visits.search import install
    with db.engine.begin() as conn:
        install(conn)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "kepai.sqlite3"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        _search_indexes()
    _seed(app)
    with app.app_context():
        db.engine.dispose()
    return path


SNAPSHOT = "kepai_seed"  # the schema that keeps the seeded rows of the PostgreSQL tables


@pytest.fixture(scope="session")
def pg_schema():
    """The tables, seeded once; their rows and sequences are kept aside (schema
    ``kepai_seed``) for ``_restore_seed`` to put back before each test."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": PG_URL})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        _search_indexes()
        db.engine.dispose()
    _seed(app)
    seeded = {"tables": [], "sequences": []}
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
            for table in db.metadata.sorted_tables:  # parents first
                conn.execute(text(f'CREATE TABLE {SNAPSHOT}."{table.name}" AS TABLE "{table.name}"'))
                if conn.execute(text(f'SELECT EXISTS (SELECT FROM "{table.name}")')).scalar():
                    seeded["tables"].append(table.name)
            for (name,) in conn.execute(text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")):
                last, called = conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
                seeded["sequences"].append((name, last, called))
        db.engine.dispose()
    return PG_URL, seeded


def _restore_seed(seeded):
    """Every table as ``_seed`` left it (what a new seeding would make, without paying
    for the shipped data and three password hashes again for every test)."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for name in seeded["tables"]:
            conn.execute(text(f'INSERT INTO "{name}" SELECT * FROM {SNAPSHOT}."{name}"'))
        for name, last, called in seeded["sequences"]:
            conn.execute(text("SELECT setval(:name, :last, :called)"),
                         {"name": f'"{name}"', "last": last, "called": called})


@pytest.fixture(params=DATABASES)
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / "instance"))
    if request.param == "sqlite":
        path = tmp_path / "kepai.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    else:
        url, seeded = request.getfixturevalue("pg_schema")
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            _restore_seed(seeded)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Log the test client in as one of the seeded users (admin, staff, reviewer)."""
    def do(username="staff", password=PASSWORD, lang=None):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        if lang:
            client.post("/language", data={"lang": lang})
        return client
    return do
