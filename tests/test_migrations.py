"""The migrations build an empty database that matches the models exactly, on SQLite and
on PostgreSQL, and go back down to nothing."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app import create_app
from app.core.extensions import db
from tests.settings import DATABASES, PG_URL, TEST_CONFIG


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


def _visit_ids_matching(conn, table, column, phrase):
    from sqlalchemy import text
    return {row[0] for row in conn.execute(text(
        f"SELECT visit_id FROM {table} WHERE {table} MATCH :q"), {"q": f'{column}:"{phrase}"'})}


def test_search_index_rekeyed_with_the_visits_already_there(tmp_path, monkeypatch):
    """Migration e6f7a8b9c0d1 on a database with visits: their index rows move to keyed
    rowids, searches still answer, and edits and deletes afterwards change the right rows
    (and the same after going back down)."""
    from datetime import date

    from sqlalchemy import text

    from app.models import Visit
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / "instance"))
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'k.sqlite3'}"})
    with app.app_context():
        upgrade(revision="d5e6f7a8b9c0")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.execute(Visit.__table__.insert(), [
                {"id": f"v{i}", "number": f"n{i}", "year": 2024, "sequence": i,
                 "visited_on": date(2024, 1, 1), "owner_node": "150121-01", "origin_node": "150121-01",
                 "problem": "奶牛乳房炎" if i % 2 else "玉米螟虫害"} for i in range(10)])
        upgrade()
        with db.engine.begin() as conn:
            assert _visit_ids_matching(conn, "visit_fts", "body", "乳房炎") == {"v1", "v3", "v5", "v7", "v9"}
            assert _visit_ids_matching(conn, "visit_fts_pairs", "pairs", "玉米") == {"v0", "v2", "v4", "v6", "v8"}
            conn.execute(text("UPDATE visit SET problem = '羊群口蹄疫' WHERE id = 'v1'"))
            conn.execute(text("DELETE FROM visit WHERE id = 'v2'"))
            assert _visit_ids_matching(conn, "visit_fts", "body", "乳房炎") == {"v3", "v5", "v7", "v9"}
            assert _visit_ids_matching(conn, "visit_fts_pairs", "pairs", "口蹄") == {"v1"}
            assert _visit_ids_matching(conn, "visit_fts_pairs", "pairs", "玉米") == {"v0", "v4", "v6", "v8"}
            assert conn.execute(text("SELECT count(*) FROM visit_fts_key")).scalar() == 9
        downgrade(revision="d5e6f7a8b9c0")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE visit SET problem = '马铃薯晚疫病' WHERE id = 'v3'"))
            assert _visit_ids_matching(conn, "visit_fts", "body", "乳房炎") == {"v5", "v7", "v9"}
            assert _visit_ids_matching(conn, "visit_fts_pairs", "pairs", "晚疫") == {"v3"}
        db.engine.dispose()
