"""two-character search index for visits

Chinese words are mostly two characters long, which trigram indexes cannot answer: this
adds the pairs index (SQLite: an FTS5 table kept by triggers that call the kepai_pairs
function the program registers on every connection, and this migration too, for its own
fill; PostgreSQL: a kepai_pairs SQL function and a GIN index on it), filled from the
visits already there. The DDL is written out here as it was at this revision.

Revision ID: 5ee78dff9979
Revises: 95e77fceb444
Create Date: 2026-11-28 17:45:00.000000

"""
import sqlite3

import sqlalchemy as sa
from alembic import op

BODY = "{t}.problem || ' ' || {t}.action || ' ' || {t}.result"
SQLITE_PAIRS_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS visit_fts_pairs USING fts5("
    "visit_id UNINDEXED, pairs, tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_pairs_insert AFTER INSERT ON visit BEGIN "
    "INSERT INTO visit_fts_pairs (visit_id, pairs) VALUES "
    f"(new.id, kepai_pairs({BODY.format(t='new')})); END",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_pairs_update AFTER UPDATE OF problem, action, result "
    "ON visit BEGIN DELETE FROM visit_fts_pairs WHERE visit_id = old.id; "
    "INSERT INTO visit_fts_pairs (visit_id, pairs) VALUES "
    f"(new.id, kepai_pairs({BODY.format(t='new')})); END",
    "CREATE TRIGGER IF NOT EXISTS visit_fts_pairs_delete AFTER DELETE ON visit BEGIN "
    "DELETE FROM visit_fts_pairs WHERE visit_id = old.id; END",
]
SQLITE_PAIRS_DROP = ["DROP TRIGGER IF EXISTS visit_fts_pairs_insert",
                     "DROP TRIGGER IF EXISTS visit_fts_pairs_update",
                     "DROP TRIGGER IF EXISTS visit_fts_pairs_delete",
                     "DROP TABLE IF EXISTS visit_fts_pairs"]
PG_PAIRS_DDL = [
    "CREATE OR REPLACE FUNCTION kepai_pairs(body text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT pair), '{}') FROM ("
    "SELECT lower(substr(body, i, 2)) AS pair FROM generate_series(1, length(body) - 1) AS i"
    ") AS runs WHERE pair !~ '\\s' $$",
    f"CREATE INDEX IF NOT EXISTS ix_visit_pairs ON visit USING gin (kepai_pairs({BODY.format(t='visit')}))",
]
PG_PAIRS_DROP = ["DROP INDEX IF EXISTS ix_visit_pairs", "DROP FUNCTION IF EXISTS kepai_pairs(text)"]


def pairs(body):
    """Distinct runs of two letters or digits, lower-cased, separated by spaces."""
    if not body:
        return ""
    body = body.lower()
    runs = dict.fromkeys(a + b for a, b in zip(body, body[1:]) if a.isalnum() and b.isalnum())
    return " ".join(runs)


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            raw.create_function("kepai_pairs", 1, pairs, deterministic=True)
        exists = connection.execute(sa.text(
            "SELECT 1 FROM sqlite_master WHERE name = 'visit_fts_pairs'")).first()
        for statement in SQLITE_PAIRS_DDL:
            connection.execute(sa.text(statement))
        if not exists:
            connection.execute(sa.text(
                "INSERT INTO visit_fts_pairs (visit_id, pairs) "
                f"SELECT id, kepai_pairs({BODY.format(t='visit')}) FROM visit"))
    elif connection.dialect.name == "postgresql":
        for statement in PG_PAIRS_DDL:
            connection.execute(sa.text(statement))


def downgrade():
    statements = {"sqlite": SQLITE_PAIRS_DROP, "postgresql": PG_PAIRS_DROP}
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.get_bind().execute(sa.text(statement))


# revision identifiers, used by Alembic.
revision = '5ee78dff9979'
down_revision = '95e77fceb444'
branch_labels = None
depends_on = None
