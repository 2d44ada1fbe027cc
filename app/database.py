"""Database connection settings: SQLite is made safe for a laptop that loses power."""
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, synchronous=FULL, foreign keys on, a busy timeout and memory-mapped reads,
    on every connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    # Read the file through memory mapping (up to 256 MB, shared by every connection via
    # the OS's page cache): a list looking up a few hundred visits by id reads twice as
    # fast as through each connection's own 2 MB page cache.
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def configure(app):
    """Nothing to bind per app today; kept so create_app reads as a list of steps."""
    from app import history  # noqa: F401  (registers the audit/outbox listeners)
    from app.visits import search  # noqa: F401  (registers kepai_pairs on SQLite connections)


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
