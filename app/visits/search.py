"""Full-text search of a visit's problem, action and result, for Chinese text.

Two indexes, because Chinese words are mostly two characters long and trigram indexes
answer only three or more:

- *trigrams*, for searches of three characters or more. SQLite: an FTS5 table
  ``visit_fts`` with the trigram tokenizer; PostgreSQL: pg_trgm GIN indexes on the three
  columns, used by ``ILIKE``.
- *pairs*, for two-character searches: every distinct run of two characters of the text
  (``防治乳房炎`` → ``防治 治乳 乳房 房炎``). SQLite: an FTS5 table ``visit_fts_pairs`` of
  those runs; PostgreSQL: a GIN index on the array ``kepai_pairs(text)``.

Both are kept in step with ``visit`` by the database itself (triggers; an expression
index). On SQLite the triggers call ``kepai_pairs``, a function this program registers
on each connection it opens: a tool that opens the database file on its own (the
sqlite3 shell) can read visits but cannot change their text.

None of this is in the models: ``install(connection)`` creates it for the test fixtures
(which build tables with ``create_all``); the migrations write the same DDL themselves
(the latest: migrations/versions/e6f7a8b9c0d1_search_index_rows_by_key.py), so keep the
two in step.
"""
import sqlite3

from sqlalchemy import and_, event, or_, text
from sqlalchemy.engine import Engine

from app.core import records
from app.models import Visit

BODY = "{t}.problem || ' ' || {t}.action || ' ' || {t}.result"
# Each visit has one row in each FTS5 table, at the rowid ``visit_fts_key`` gives it: an
# edit or a delete finds its index rows by that rowid (the key's UNIQUE index, then the
# FTS5 tables' own b-tree), in the same time on 2,000 visits as on 200,000. (Searching an
# FTS5 table by an UNINDEXED column reads every row of it.) Not the visit table's own
# rowid: VACUUM may renumber the rowids of a table without an INTEGER PRIMARY KEY.
KEY = "(SELECT fts_rowid FROM visit_fts_key WHERE visit_id = {t}.id)"
SQLITE_DDL = [
    "CREATE TABLE IF NOT EXISTS visit_fts_key ("
    "fts_rowid INTEGER PRIMARY KEY, visit_id VARCHAR(36) NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS visit_fts USING fts5("
    "visit_id UNINDEXED, body, tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS visit_fts_pairs USING fts5("
    "visit_id UNINDEXED, pairs, tokenize='unicode61')",
    # OR IGNORE and the deletes: a row put back with the id of one replaced without its
    # delete trigger (INSERT OR REPLACE) takes over its key and index rows.
    "CREATE TRIGGER IF NOT EXISTS visit_search_insert AFTER INSERT ON visit BEGIN "
    "INSERT OR IGNORE INTO visit_fts_key (visit_id) VALUES (new.id); "
    f"DELETE FROM visit_fts WHERE rowid = {KEY.format(t='new')}; "
    f"DELETE FROM visit_fts_pairs WHERE rowid = {KEY.format(t='new')}; "
    "INSERT INTO visit_fts (rowid, visit_id, body) VALUES "
    f"({KEY.format(t='new')}, new.id, {BODY.format(t='new')}); "
    "INSERT INTO visit_fts_pairs (rowid, visit_id, pairs) VALUES "
    f"({KEY.format(t='new')}, new.id, kepai_pairs({BODY.format(t='new')})); END",
    "CREATE TRIGGER IF NOT EXISTS visit_search_update AFTER UPDATE OF problem, action, result "
    "ON visit BEGIN "
    f"DELETE FROM visit_fts WHERE rowid = {KEY.format(t='old')}; "
    f"DELETE FROM visit_fts_pairs WHERE rowid = {KEY.format(t='old')}; "
    "INSERT INTO visit_fts (rowid, visit_id, body) VALUES "
    f"({KEY.format(t='new')}, new.id, {BODY.format(t='new')}); "
    "INSERT INTO visit_fts_pairs (rowid, visit_id, pairs) VALUES "
    f"({KEY.format(t='new')}, new.id, kepai_pairs({BODY.format(t='new')})); END",
    "CREATE TRIGGER IF NOT EXISTS visit_search_delete AFTER DELETE ON visit BEGIN "
    f"DELETE FROM visit_fts WHERE rowid = {KEY.format(t='old')}; "
    f"DELETE FROM visit_fts_pairs WHERE rowid = {KEY.format(t='old')}; "
    "DELETE FROM visit_fts_key WHERE visit_id = old.id; END",
]
PG_COLUMNS = ("problem", "action", "result")

PG_PAIRS_DDL = [
    # The runs of two characters without white space, lower-cased, each once.
    "CREATE OR REPLACE FUNCTION kepai_pairs(body text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT pair), '{}') FROM ("
    "SELECT lower(substr(body, i, 2)) AS pair FROM generate_series(1, length(body) - 1) AS i"
    ") AS runs WHERE pair !~ '\\s' $$",
    f"CREATE INDEX IF NOT EXISTS ix_visit_pairs ON visit USING gin (kepai_pairs({BODY.format(t='visit')}))",
]


def pairs(body: str | None) -> str:
    """The pairs index's text for ``body``: its distinct runs of two letters or digits,
    lower-cased, separated by spaces (what FTS5's unicode61 tokenizer keeps whole)."""
    if not body:
        return ""
    body = body.lower()
    runs = dict.fromkeys(a + b for a, b in zip(body, body[1:], strict=False) if a.isalnum() and b.isalnum())
    return " ".join(runs)


@event.listens_for(Engine, "connect")
def _register_pairs(dbapi_connection, connection_record):
    """Give every SQLite connection the ``kepai_pairs`` function its triggers call."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("kepai_pairs", 1, pairs, deterministic=True)


def install(connection) -> None:
    """Both indexes (what a database built with ``create_all`` needs); on SQLite filled
    from the visits already there when new."""
    if connection.dialect.name == "sqlite":
        exists = connection.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'visit_fts_key'")).first()
        for statement in SQLITE_DDL:
            connection.execute(text(statement))
        if not exists:
            rebuild(connection)
    elif connection.dialect.name == "postgresql":
        # No triggers here: a GIN index finds the entries of an updated or deleted row
        # itself, without reading the others.
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        for column in PG_COLUMNS:
            connection.execute(text(
                f"CREATE INDEX IF NOT EXISTS ix_visit_{column}_trgm ON visit "
                f"USING gin ({column} gin_trgm_ops)"))
        for statement in PG_PAIRS_DDL:
            connection.execute(text(statement))


def rebuild(connection) -> None:
    """Refill the SQLite indexes and their keys from the visit table (after bulk loads
    without triggers)."""
    if connection.dialect.name != "sqlite":
        return
    for table in ("visit_fts", "visit_fts_pairs", "visit_fts_key"):
        connection.execute(text(f"DELETE FROM {table}"))
    connection.execute(text("INSERT INTO visit_fts_key (visit_id) SELECT id FROM visit"))
    keyed = "FROM visit JOIN visit_fts_key AS k ON k.visit_id = visit.id"
    connection.execute(text(
        f"INSERT INTO visit_fts (rowid, visit_id, body) "
        f"SELECT k.fts_rowid, visit.id, {BODY.format(t='visit')} {keyed}"))
    connection.execute(text(
        f"INSERT INTO visit_fts_pairs (rowid, visit_id, pairs) "
        f"SELECT k.fts_rowid, visit.id, kepai_pairs({BODY.format(t='visit')}) {keyed}"))


def _fts_phrase(q: str) -> str:
    """``q`` as one FTS5 phrase (double quotes doubled)."""
    return '"' + q.replace('"', '""') + '"'


def _is_pair(q: str) -> bool:
    return len(q) == 2 and q.isalnum()


def words(q: str) -> list[str]:
    """The words of a search (split at spaces); a visit matches when its text contains
    each of them."""
    return records.search_words(q) or [q]


def _word_ids(q: str, n: int) -> tuple[str, dict]:
    """SQLite: the SQL of the ids of visits whose text contains the word ``q``, from an
    index, with its parameters (named after ``n``, the word's place in the search)."""
    if len(q) >= 3:  # the trigram index answers MATCH for three characters or more
        return (f"SELECT visit_id FROM visit_fts WHERE visit_fts MATCH :fts{n}",
                {f"fts{n}": "body:" + _fts_phrase(q)})
    if _is_pair(q):  # two characters, most Chinese words: the pairs index
        return (f"SELECT visit_id FROM visit_fts_pairs WHERE visit_fts_pairs MATCH :fts{n}",
                {f"fts{n}": "pairs:" + _fts_phrase(q.lower())})
    # one character, or a pair with a sign in it: a scan of the text
    return f"SELECT visit_id FROM visit_fts WHERE instr(body, :q{n}) > 0", {f"q{n}": q}


def fts_ids(q: str):
    """SQLite: a select of the ids of visits whose text contains every word of ``q``,
    from the indexes (one look-up a word, the sets intersected)."""
    parts = [_word_ids(word, n) for n, word in enumerate(words(q))]
    params = {key: value for _sql, bound in parts for key, value in bound.items()}
    sub = text(" INTERSECT ".join(sql for sql, _bound in parts)).bindparams(**params)
    return sub.columns(visit_id=Visit.id.type)


def condition(q: str, dialect: str, visit_id=Visit.id):
    """A where-condition: the visit's problem, action or result contains every word of
    ``q``. On SQLite ``visit_id`` may be an expression of the id (see listing.filtered)."""
    if dialect == "sqlite":
        return visit_id.in_(fts_ids(q))
    return and_(*(_pg_condition(word) for word in words(q)))


def _pg_condition(q: str):
    """PostgreSQL: the visit's text contains the word ``q`` (an index answers)."""
    if len(q) == 2 and not any(c.isspace() for c in q):
        return text(f"kepai_pairs({BODY.format(t='visit')}) @> ARRAY[CAST(:pair AS text)]") \
            .bindparams(pair=q.lower())
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
        return name not in {f"ix_visit_{column}_trgm" for column in PG_COLUMNS} | {"ix_visit_pairs"}
    return True
