"""Full-text search of a visit's problem, action and result, for Chinese text.

SQLite: an FTS5 table ``visit_fts`` with the trigram tokenizer (so any run of three or
more characters matches, whatever the language), kept in step with ``visit`` by
triggers. PostgreSQL: pg_trgm GIN indexes on the three columns, used by ``ILIKE``.
Neither is in the models: ``install(connection)`` creates them, and is called by the
migration and by the test fixtures (which build tables with ``create_all``).
"""
from sqlalchemy import or_, text

from app.models import Visit

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS visit_fts USING fts5("
    "visit_id UNINDEXED, body, tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_insert AFTER INSERT ON visit BEGIN "
    "INSERT INTO visit_fts (visit_id, body) VALUES "
    "(new.id, new.problem || ' ' || new.action || ' ' || new.result); END",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_update AFTER UPDATE OF problem, action, result "
    "ON visit BEGIN DELETE FROM visit_fts WHERE visit_id = old.id; "
    "INSERT INTO visit_fts (visit_id, body) VALUES "
    "(new.id, new.problem || ' ' || new.action || ' ' || new.result); END",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_delete AFTER DELETE ON visit BEGIN "
    "DELETE FROM visit_fts WHERE visit_id = old.id; END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS visit_fts_insert", "DROP TRIGGER IF EXISTS visit_fts_update",
               "DROP TRIGGER IF EXISTS visit_fts_delete", "DROP TABLE IF EXISTS visit_fts"]
PG_COLUMNS = ("problem", "action", "result")


def install(connection) -> None:
    """Create the search index (and, on SQLite, the triggers); fill it from existing rows."""
    if connection.dialect.name == "sqlite":
        exists = connection.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'visit_fts'")).first()
        for statement in SQLITE_DDL:
            connection.execute(text(statement))
        if not exists:
            rebuild(connection)
    elif connection.dialect.name == "postgresql":
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        for column in PG_COLUMNS:
            connection.execute(text(
                f"CREATE INDEX IF NOT EXISTS ix_visit_{column}_trgm ON visit "
                f"USING gin ({column} gin_trgm_ops)"))


def uninstall(connection) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.execute(text(statement))
    elif connection.dialect.name == "postgresql":
        for column in PG_COLUMNS:
            connection.execute(text(f"DROP INDEX IF EXISTS ix_visit_{column}_trgm"))


def rebuild(connection) -> None:
    """Refill the SQLite index from the visit table (after bulk loads without triggers)."""
    if connection.dialect.name != "sqlite":
        return
    connection.execute(text("DELETE FROM visit_fts"))
    connection.execute(text(
        "INSERT INTO visit_fts (visit_id, body) SELECT id, "
        "problem || ' ' || action || ' ' || result FROM visit"))


def _fts_phrase(q: str) -> str:
    """``q`` as one FTS5 phrase (double quotes doubled)."""
    return '"' + q.replace('"', '""') + '"'


def fts_ids(q: str):
    """SQLite: a select of the ids of visits whose text contains ``q``, from the index."""
    if len(q) >= 3:  # the trigram index answers MATCH for three characters or more
        sub = text("SELECT visit_id FROM visit_fts WHERE visit_fts MATCH :fts") \
            .bindparams(fts="body:" + _fts_phrase(q))
    else:  # shorter (two Chinese characters are a word): a scan of the index's text
        sub = text("SELECT visit_id FROM visit_fts WHERE instr(body, :q) > 0").bindparams(q=q)
    return sub.columns(visit_id=Visit.id.type)


def condition(q: str, dialect: str):
    """A where-condition: the visit's problem, action or result contains ``q``."""
    if dialect == "sqlite":
        return Visit.id.in_(fts_ids(q))
    pattern = "%" + _escape(q) + "%"
    return or_(*(getattr(Visit, c).ilike(pattern, escape="\\") for c in PG_COLUMNS))


def _escape(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's ``include_name``: leave the search index out of model comparisons
    (autogenerate would otherwise offer to drop what ``install`` made)."""
    if type_ == "table":
        return not (name or "").startswith("visit_fts")
    if type_ == "index":
        return name not in {f"ix_visit_{column}_trgm" for column in PG_COLUMNS}
    return True
