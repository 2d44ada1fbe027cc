"""two-character search index for visits

Chinese words are mostly two characters long, which trigram indexes cannot answer: this
adds the pairs index of app.visits.search (SQLite: an FTS5 table kept by triggers that
call the kepai_pairs function the program registers; PostgreSQL: a kepai_pairs SQL
function and a GIN index on it), filled from the visits already there.

Revision ID: 5ee78dff9979
Revises: 95e77fceb444
Create Date: 2026-11-28 17:45:00.000000

"""
from alembic import op


# The DDL as it was at this revision (app.visits.search follows the latest migration).
BODY = "{t}.problem || ' ' || {t}.action || ' ' || {t}.result"
SQLITE_DDL = [
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
    "INSERT INTO visit_fts_pairs (visit_id, pairs) "
    f"SELECT id, kepai_pairs({BODY.format(t='visit')}) FROM visit",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS visit_fts_pairs_insert",
               "DROP TRIGGER IF EXISTS visit_fts_pairs_update",
               "DROP TRIGGER IF EXISTS visit_fts_pairs_delete",
               "DROP TABLE IF EXISTS visit_fts_pairs"]
PG_DDL = [
    # The runs of two characters without white space, lower-cased, each once.
    "CREATE OR REPLACE FUNCTION kepai_pairs(body text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT pair), '{}') FROM ("
    "SELECT lower(substr(body, i, 2)) AS pair FROM generate_series(1, length(body) - 1) AS i"
    ") AS runs WHERE pair !~ '\\s' $$",
    f"CREATE INDEX IF NOT EXISTS ix_visit_pairs ON visit USING gin (kepai_pairs({BODY.format(t='visit')}))",
]
PG_DROP = ["DROP INDEX IF EXISTS ix_visit_pairs", "DROP FUNCTION IF EXISTS kepai_pairs(text)"]
STATEMENTS = {"sqlite": (SQLITE_DDL, SQLITE_DROP), "postgresql": (PG_DDL, PG_DROP)}


# revision identifiers, used by Alembic.
revision = '5ee78dff9979'
down_revision = '95e77fceb444'
branch_labels = None
depends_on = None


def upgrade():
    for statement in STATEMENTS.get(op.get_bind().dialect.name, ([], []))[0]:
        op.execute(statement)


def downgrade():
    for statement in STATEMENTS.get(op.get_bind().dialect.name, ([], []))[1]:
        op.execute(statement)
