"""Database connection settings: SQLite is made safe for a laptop that loses power;
``rows_at_once`` reads a small result in one fetch."""
import json
import os
import sqlite3

from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


def _synchronous() -> str:
    """FULL: every commit reaches the disk before it is acknowledged, so a laptop that
    loses power loses nothing acknowledged. ``KEPAI_SQLITE_SYNCHRONOUS=OFF`` is for the
    test suite only (a killed process loses nothing either way; only power loss does)."""
    value = os.environ.get("KEPAI_SQLITE_SYNCHRONOUS", "FULL").upper()
    return value if value in ("FULL", "NORMAL", "OFF") else "FULL"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, synchronous=FULL, foreign keys on, a busy timeout and memory-mapped reads,
    on every connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={_synchronous()}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    # Read the file through memory mapping (up to 256 MB, shared by every connection via
    # the OS's page cache): a list looking up a few hundred visits by id reads twice as
    # fast as through each connection's own 2 MB page cache.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def configure(app):
    """Nothing to bind per app today; kept so create_app reads as a list of steps."""
    from app.core import history  # noqa: F401  (registers the audit/outbox listeners)


def analyze(connection) -> None:
    """Refresh SQLite's table statistics (ANALYZE: a fraction of a second for a county's
    three years). Without them SQLite cannot tell that one commissioner's visits are a few
    hundred among tens of thousands, and lists filtered by one get slow. PostgreSQL keeps
    its own statistics (autovacuum). Run after migrations, after the demo seed, and daily
    by the background worker."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("ANALYZE")


def status(db) -> dict:
    """The database's health for /healthz."""
    from sqlalchemy import text
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - health check reports any failure
        db.session.rollback()
        return {"ok": False, "dialect": db.engine.dialect.name, "error": type(exc).__name__}


class _json_rows(FunctionElement):
    """SQL: the rows of a subquery as one JSON array of arrays (an aggregate)."""
    name = "json_rows"
    inherit_cache = True


@compiles(_json_rows, "sqlite")
def _json_group_array(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(_json_rows, "postgresql")
def _json_agg(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def rows_at_once(session, stmt) -> list[list]:
    """The rows of ``stmt`` (a page: tens of rows) as lists of JSON values (dates and
    times as ISO text), read as one row, in no particular order.

    Python's sqlite3 gives up the interpreter lock for every row it steps through, and
    while other requests run it waits up to a switch interval (5 ms) to get it back: a
    25-row page took 28 ms instead of 1 ms beside three other requests. One row, one wait.
    """
    return _decoded(session.scalar(_wrapped(stmt)))


def _wrapped(stmt):
    sub = stmt.subquery()
    return select(_json_rows(*sub.c))


def _decoded(value) -> list[list]:
    if value is None:
        return []
    return value if isinstance(value, list) else json.loads(value)


class AtOnce:
    """A statement read as ``rows_at_once`` reads it, wrapped once, for a statement that
    runs on every view of a page with only its values changing (bound parameters: a
    page's ids as ``bindparam("ids", expanding=True)``). Building a select of a dozen
    columns and joins, wrapping it and working out its cache key took longer than the
    database took to run it (2 ms of CPU against 0.3 ms for a page of 25 sessions); a
    statement built once keeps its key.

        LINES = AtOnce(select(...).where(Training.id.in_(bindparam("ids", expanding=True))))
        LINES.rows(db.session, ids=[...])
    """

    def __init__(self, stmt):
        self.select = _wrapped(stmt)

    def rows(self, session, **values) -> list[list]:
        return _decoded(session.scalar(self.select, values))


class NamesAtOnce(AtOnce):
    """An ``AtOnce`` of ``(record id, name, position)`` rows for a page's ids (``ids``),
    answered as {record id: its names in position order}, every id asked for with a list:
    the names of the clusters of a page's stations or commissioners."""

    def by_id(self, session, ids) -> dict[str, list[str]]:
        found = {record_id: [] for record_id in ids}
        if found:
            for record_id, name, _ in sorted(self.rows(session, ids=list(found)),
                                             key=lambda row: (row[2], row[1])):
                found[record_id].append(name)
        return found
