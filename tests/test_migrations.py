"""The migrations build an empty database that matches the models exactly, on SQLite and
on PostgreSQL, and go back down to nothing."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import DATABASES, PG_URL, TEST_CONFIG


@pytest.fixture(params=DATABASES)
def empty_url(request, tmp_path, monkeypatch):
    """An empty database: a new SQLite file, or a PostgreSQL database of its own (the
    suite's test database keeps the tables conftest made for the other tests)."""
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / "instance"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    import psycopg
    url = make_url(PG_URL)
    name = f"{url.database}_mig"
    admin = url.set(drivername="postgresql", database="postgres") \
        .render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _differences(app):
    with db.engine.connect() as conn:
        from app.visits.search import include_name
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": include_name})
        return compare_metadata(context, db.metadata)


def test_upgrade_matches_models_and_downgrades(empty_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert _differences(app) == []
        upgrade()  # a second run has nothing to do
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _differences(app) == []
        db.engine.dispose()
