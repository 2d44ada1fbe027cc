"""search index rows found by key: edits and deletes of visits in constant time

On SQLite the search-index triggers found a visit's rows in ``visit_fts`` and
``visit_fts_pairs`` by their UNINDEXED ``visit_id`` column: every edit or delete of a visit
read the whole of both indexes (45 ms on a 60,000-visit county, growing with it). Here
each visit gets a key, ``visit_fts_key`` (visit id UNIQUE → an integer), and its rows in
both FTS5 tables sit at that rowid; the three triggers find them by it.

The rows already indexed are moved to their key's rowid as they are (the pairs text is
copied, not worked out again, so this needs no function of the program). PostgreSQL has
nothing to change: its GIN indexes find an updated row's entries themselves. No table
is altered (new ones only, and triggers), so there is no batch operation.

The DDL is written here, not imported: app.visits.search.install() makes the same for
databases built with create_all; keep the two in step.

Revision ID: e6f7a8b9c0d1
Revises: d5e6f7a8b9c0
Create Date: 2026-11-30 11:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e6f7a8b9c0d1'
down_revision = 'd5e6f7a8b9c0'
branch_labels = None
depends_on = None

BODY = "{t}.problem || ' ' || {t}.action || ' ' || {t}.result"
KEY = "(SELECT fts_rowid FROM visit_fts_key WHERE visit_id = {t}.id)"
PAIRS = "kepai_pairs(" + BODY + ")"

OLD_TRIGGERS = ["visit_fts_insert", "visit_fts_update", "visit_fts_delete",
                "visit_fts_pairs_insert", "visit_fts_pairs_update", "visit_fts_pairs_delete"]
NEW_TRIGGERS = ["visit_search_insert", "visit_search_update", "visit_search_delete"]


def _put(t: str) -> str:
    """Statements that write the index rows of visit ``t`` (new) at its key's rowid."""
    return ("INSERT INTO visit_fts (rowid, visit_id, body) VALUES "
            f"({KEY.format(t=t)}, {t}.id, {BODY.format(t=t)}); "
            "INSERT INTO visit_fts_pairs (rowid, visit_id, pairs) VALUES "
            f"({KEY.format(t=t)}, {t}.id, {PAIRS.format(t=t)}); ")


def _drop(t: str) -> str:
    """Statements that delete the index rows of visit ``t`` by its key's rowid."""
    return (f"DELETE FROM visit_fts WHERE rowid = {KEY.format(t=t)}; "
            f"DELETE FROM visit_fts_pairs WHERE rowid = {KEY.format(t=t)}; ")


NEW_DDL = [
    "CREATE TRIGGER visit_search_insert AFTER INSERT ON visit BEGIN "
    "INSERT OR IGNORE INTO visit_fts_key (visit_id) VALUES (new.id); "
    + _drop("new") + _put("new") + "END",
    "CREATE TRIGGER visit_search_update AFTER UPDATE OF problem, action, result ON visit BEGIN "
    + _drop("old") + _put("new") + "END",
    "CREATE TRIGGER visit_search_delete AFTER DELETE ON visit BEGIN "
    + _drop("old") + "DELETE FROM visit_fts_key WHERE visit_id = old.id; END",
]
OLD_DDL = [
    "CREATE TRIGGER visit_fts_insert AFTER INSERT ON visit BEGIN "
    f"INSERT INTO visit_fts (visit_id, body) VALUES (new.id, {BODY.format(t='new')}); END",
    "CREATE TRIGGER visit_fts_update AFTER UPDATE OF problem, action, result "
    "ON visit BEGIN DELETE FROM visit_fts WHERE visit_id = old.id; "
    f"INSERT INTO visit_fts (visit_id, body) VALUES (new.id, {BODY.format(t='new')}); END",
    "CREATE TRIGGER visit_fts_delete AFTER DELETE ON visit BEGIN "
    "DELETE FROM visit_fts WHERE visit_id = old.id; END",
    "CREATE TRIGGER visit_fts_pairs_insert AFTER INSERT ON visit BEGIN "
    "INSERT INTO visit_fts_pairs (visit_id, pairs) VALUES "
    f"(new.id, {PAIRS.format(t='new')}); END",
    "CREATE TRIGGER visit_fts_pairs_update AFTER UPDATE OF problem, action, result "
    "ON visit BEGIN DELETE FROM visit_fts_pairs WHERE visit_id = old.id; "
    f"INSERT INTO visit_fts_pairs (visit_id, pairs) VALUES (new.id, {PAIRS.format(t='new')}); END",
    "CREATE TRIGGER visit_fts_pairs_delete AFTER DELETE ON visit BEGIN "
    "DELETE FROM visit_fts_pairs WHERE visit_id = old.id; END",
]


def _rekey(table: str, column: str) -> None:
    """Move the rows of FTS5 ``table`` to their visit's key as rowid (one per visit)."""
    op.execute(f"CREATE TABLE _rekey AS SELECT visit_id, max({column}) AS content "
               f"FROM {table} GROUP BY visit_id")
    op.execute(f"DELETE FROM {table}")
    op.execute(f"INSERT INTO {table} (rowid, visit_id, {column}) "
               "SELECT k.fts_rowid, r.visit_id, r.content FROM _rekey AS r "
               "JOIN visit_fts_key AS k ON k.visit_id = r.visit_id")
    op.execute("DROP TABLE _rekey")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in OLD_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("CREATE TABLE visit_fts_key (fts_rowid INTEGER PRIMARY KEY, "
               "visit_id VARCHAR(36) NOT NULL UNIQUE)")
    op.execute("INSERT INTO visit_fts_key (visit_id) SELECT id FROM visit")
    _rekey("visit_fts", "body")
    _rekey("visit_fts_pairs", "pairs")
    for statement in NEW_DDL:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in NEW_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE visit_fts_key")
    for statement in OLD_DDL:
        op.execute(statement)
