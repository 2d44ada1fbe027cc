"""Sync benchmark: each figure against its floor, measured in the same run.

    .venv/bin/python bench/sync.py [--quick] [--scale county|small] [--reviews N]
                                   [--league-db postgresql+psycopg:///kepai_test]

1. Push: a fresh station (`flask seed-demo`, queued by `flask upstream resend`) pushes
   everything to a fresh league (waitress, PostgreSQL) with `flask sync`. Floor: the rows
   the push wrote on the league (records, links, applied operations, audit, change log,
   the league's own outbox) inserted by executemany, 200 rows a transaction, into an
   empty copy of the schema (`flask db upgrade`) holding what the league held before.
2. Pull: the league reviews N visits; the station pulls and applies them with
   `flask sync` (SQLite). Floor: the same visit UPDATEs, audit and change-log rows by
   executemany into a copy of the station's database as it was before the pull, a
   transaction per pulled page (500 changes).
3. Bytes up per record of the push, against the same records as gzip JSON Lines.

Times are the sync runs' own (the station's sync_run rows), without process start; the
pull's is its run's less that of a run with nothing to do (hello, report).
``--quick``: the small demo station (its 40 visits reviewed, and the league's notes on
its commissioners, targets, trainings and agreements, to have a few hundred changes to
pull); a few minutes. Not a test.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sqlalchemy import create_engine, select  # noqa: E402

from app.models import Base  # noqa: E402
from tests.node_processes import ROOT, Node, fresh_postgres  # noqa: E402

STATION = "150121-01"
CHUNK = 200  # rows per transaction of the push floor
PAGE = 500   # changes per pulled page (wire.PULL_LIMIT), a transaction each

REVIEW = """
import sys
from datetime import datetime
from flask import g
from sqlalchemy import select
from app import create_app
from app.core.extensions import db
from app.models import Agreement, Commissioner, ServiceTarget, Training, Visit
app = create_app()
with app.app_context():
    g.actor = "reviewer"
    ids = db.session.scalars(select(Visit.id).order_by(Visit.id).limit(int(sys.argv[1]))).all()
    for at in range(0, len(ids), 500):
        for visit in db.session.scalars(select(Visit).where(Visit.id.in_(ids[at:at + 500]))):
            visit.review_state, visit.review_comment = "approved", "数据完整，同意。"
            visit.reviewed_at = datetime(2026, 11, 30, 9, 0)
        db.session.commit()
    notes = 0
    if sys.argv[2] == "notes":  # --quick: a small station has few visits; notes on the rest
        for model in (Commissioner, ServiceTarget, Training, Agreement):
            for record in db.session.scalars(select(model)):
                record.notes, notes = (record.notes or "") + "（盟里补注）", notes + 1
        db.session.commit()
    print(len(ids), notes)
"""


def run_seconds(db_path: str) -> float:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT (julianday(finished_at) - julianday(started_at)) * 86400 "
                            "FROM sync_run ORDER BY id DESC LIMIT 1").fetchone()[0]


def figures(out: str) -> dict:
    found = {k: int(v) for v, k in re.findall(
        r"(\d+) (requests|bytes sent|received|applied|held|rejected|conflicts)", out)}
    found["sent"] = int(re.search(r"sent (\d+)", out).group(1))
    found["pulled"] = int(re.search(r"pulled (\d+)", out).group(1))
    return found


def tables():
    return [t for t in Base.metadata.sorted_tables]


def key_of(table):
    columns = list(table.primary_key.columns) or list(table.columns)
    return lambda row: tuple(row[c.name] for c in columns)


def snapshot(engine) -> dict:
    """Every row of every table, as dicts."""
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in tables()}


def push_floor(league_url: str, before: dict, after: dict, env: dict) -> tuple[float, int]:
    """Seconds to insert the rows the push added into an empty copy of the schema that
    holds what the league held before; and how many rows."""
    copy_url = fresh_postgres(league_url, f"kepai_bench_floor_{os.getpid()}")
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, check=True,
                   env={**env, "DATABASE_URL": copy_url}, capture_output=True)
    engine = create_engine(copy_url)
    with engine.begin() as conn:
        for t in tables():
            if before[t.name]:
                conn.execute(t.delete())
                conn.execute(t.insert(), before[t.name])
    new = {}
    for t in tables():
        known = set(map(key_of(t), before[t.name]))
        new[t.name] = [r for r in after[t.name] if key_of(t)(r) not in known]
    rows = sum(len(v) for v in new.values())
    started = time.perf_counter()
    for t in tables():
        batch = new[t.name]
        for at in range(0, len(batch), CHUNK):
            with engine.begin() as conn:
                conn.execute(t.insert(), batch[at:at + CHUNK])
    seconds = time.perf_counter() - started
    engine.dispose()
    drop(copy_url)
    return seconds, rows


def drop(url: str) -> None:
    import psycopg
    base, _, name = url.rpartition("/")
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BOOKKEEPING = ("version", "field_versions", "updated_at", "updated_by")


def pull_floor(before_path: str, after_path: str, synchronous: str) -> tuple[float, int]:
    """Seconds to write what the pull wrote (each record's changed columns, audit, change
    log, the checkpoint) by executemany into the station's database as it was before
    the pull, a transaction per page."""
    with sqlite3.connect(before_path) as conn:
        audit_max = conn.execute("SELECT coalesce(max(id), 0) FROM audit_entry").fetchone()[0]
        log_max = conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
    done = sqlite3.connect(after_path)
    done.row_factory = sqlite3.Row
    audit = [dict(r) for r in done.execute("SELECT * FROM audit_entry WHERE id > ? ORDER BY id", (audit_max,))]
    changes = [dict(r) for r in done.execute("SELECT * FROM change_log WHERE seq > ? ORDER BY seq", (log_max,))]
    columns, now = {}, {}
    for entry in audit:
        table = entry["record_type"]
        if table not in columns:
            columns[table] = {r[1] for r in done.execute(f"PRAGMA table_info({table})")}
        row = done.execute(f"SELECT * FROM {table} WHERE id = ?", (entry["record_id"],)).fetchone()
        now[entry["id"]] = dict(row)
    done.close()
    conn = sqlite3.connect(before_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")

    def insert(table, rows):
        if rows:
            keys = list(rows[0])
            conn.executemany(f"INSERT INTO {table} ({', '.join(keys)}) VALUES "
                             f"({', '.join('?' * len(keys))})", [tuple(r[k] for k in keys) for r in rows])
    started = time.perf_counter()
    for at in range(0, len(audit), PAGE):
        updates = {}
        for entry in audit[at:at + PAGE]:
            table = entry["record_type"]
            changed = [k for k in json.loads(entry["changes"]) if k in columns[table]]
            keys = tuple(dict.fromkeys(changed + list(BOOKKEEPING)))
            row = now[entry["id"]]
            updates.setdefault((table, keys), []).append(tuple(row[k] for k in keys) + (row["id"],))
        conn.execute("BEGIN")
        for (table, keys), rows in updates.items():
            conn.executemany(f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in keys)} WHERE id = ?", rows)
        insert("audit_entry", audit[at:at + PAGE])
        insert("change_log", changes[at:at + PAGE])
        conn.execute("UPDATE upstream SET pull_checkpoint = pull_checkpoint + 1")
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, len(audit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small demo station: a few minutes")
    parser.add_argument("--scale", choices=["small", "county"])
    parser.add_argument("--reviews", type=int, help="visits the league reviews (default 3000)")
    parser.add_argument("--league-db", default=os.environ.get("TEST_DATABASE_URL",
                                                              "postgresql+psycopg:///kepai_test"),
                        help="a PostgreSQL URL; the league's database is made beside it")
    args = parser.parse_args()
    scale = args.scale or ("small" if args.quick else "county")
    reviews = args.reviews or (500 if args.quick else 3000)
    folder = tempfile.mkdtemp(prefix="kepai-bench-sync-")
    league_db = fresh_postgres(args.league_db, f"kepai_bench_league_{os.getpid()}")
    league = Node(os.path.join(folder, "league"), "league", "1501", "呼和浩特市科技局", league_db)
    station = Node(os.path.join(folder, "station"), "station", STATION, "土默特左旗科技特派员工作站")
    station.env["KEPAI_SYNC_TIMEOUT"] = "900"  # a shared machine: a slow batch is a figure, not a failure
    started = time.monotonic()
    station.flask("seed-demo", "--scale", scale, timeout=3600)
    print(f"scale {scale}: demo station made in {time.monotonic() - started:.0f} s; "
          + station.flask("upstream", "resend").stdout.strip())
    token = league.enroll(STATION, "土默特左旗科技特派员工作站")
    station.flask("upstream", "set", "--url", league.url, "--token", token)
    db_path = os.path.join(folder, "station", "kepai.sqlite3")
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT record_type, record_id, version, fields FROM outbox_entry").fetchall()
    jsonl = "".join(json.dumps({"type": t, "id": i, "version": v, "fields": json.loads(f)},
                               ensure_ascii=False, separators=(",", ":")) + "\n"
                    for t, i, v, f in rows).encode()
    packed = gzip.compress(jsonl, 6)

    # 1. push
    league_engine = create_engine(league_db)
    before = snapshot(league_engine)
    league.start()
    out = station.flask("sync", timeout=7200).stdout
    push_seconds = run_seconds(db_path)
    pushed = figures(out)
    league.stop()
    after = snapshot(league_engine)
    league_engine.dispose()
    floor_seconds, floor_rows = push_floor(args.league_db, before, after, league.env)
    del before, after
    records = pushed["sent"]
    push_rate, floor_rate = records / push_seconds, records / floor_seconds
    print(f"push: {out.strip()}")
    print(f"push: {records} records in {push_seconds:.1f} s = {push_rate:.0f} records/s; "
          f"floor (executemany of the same {floor_rows} rows, {CHUNK} a transaction, PostgreSQL): "
          f"{floor_seconds:.1f} s = {floor_rate:.0f} records/s; ratio {push_rate / floor_rate:.2f}")

    # 2. pull
    league.start()
    station.flask("sync", timeout=600)  # nothing to do: what a run costs besides its pull
    idle_seconds = run_seconds(db_path)
    league.stop()
    reviewed, notes = map(int, subprocess.run(
        [sys.executable, "-c", REVIEW, str(reviews), "notes" if args.quick else "-"], cwd=ROOT,
        env=league.env, check=True, capture_output=True, text=True).stdout.split()[-2:])
    before_path = os.path.join(folder, "station-before-pull.sqlite3")
    with sqlite3.connect(db_path) as source, sqlite3.connect(before_path) as target:
        source.backup(target)
    league.start()
    out = station.flask("sync", timeout=7200).stdout
    pull_seconds = run_seconds(db_path) - idle_seconds
    league.stop()
    pulled = figures(out)["pulled"]
    floor_seconds, floor_changes = pull_floor(before_path, db_path, station.env["KEPAI_SQLITE_SYNCHRONOUS"])
    pull_rate, floor_rate = pulled / pull_seconds, floor_changes / floor_seconds
    print(f"pull: {out.strip()}")
    print(f"pull: {pulled} changes ({reviewed} visit reviews, {notes} notes) in {pull_seconds:.1f} s "
          f"(the run less an idle run's "
          f"{idle_seconds:.1f} s) = {pull_rate:.0f} changes/s; "
          f"floor (the same {floor_changes} UPDATEs, audit and change-log rows by executemany, SQLite): "
          f"{floor_seconds:.2f} s = {floor_rate:.0f} changes/s; ratio {pull_rate / floor_rate:.2f}")

    # 3. bytes
    up = pushed["bytes sent"]
    print(f"bytes up: {up:,} = {up / records:.1f} per record; same records as gzip -6 JSON Lines: "
          f"{len(packed):,} = {len(packed) / records:.1f} per record; ratio {up / len(packed):.2f}")
    drop(league_db)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
