"""Sync benchmark: each figure against its floor, measured in the same run.

    .venv/bin/python bench/sync.py [--quick] [--scale county|small] [--reviews N]
                                   [--league-db postgresql+psycopg:///kepai_test]
                                   [--part all|sync|stations] [--stations N] [--day-visits N]

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
4. Stations (``--part stations``): N stations (default 60; 12 with ``--quick``), each a
   copy of one freshly set-up station database with its own node code, enrolled on one
   league (waitress with 8 threads, as `make serve`; PostgreSQL). Each is seeded by a
   generator seeded by its code (new record and operation ids): its villages, station,
   commissioners and targets, synced; then a day (50 visits, 3 trainings with their
   attendees) left in the outbox. All N `flask sync` start together; then, on copies of
   the stations and of the league's database made before, one after another. Printed:
   whether every push succeeded (exit 0, its whole day applied, nothing held or refused),
   the total wall of both modes, each push's p50/p95 (its sync run's own time), and what
   the league's PostgreSQL sessions did meanwhile (busy, waiting on a lock).

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
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.models import Base  # noqa: E402
from tests.node_processes import ROOT, Node, fresh_postgres, node_env  # noqa: E402

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


FLEET_SEED = """
import json, os, sys
from datetime import date
from flask import g
from app import create_app
from app.core.extensions import db
from app.models import Training, TrainingAttendee
from app.sync import client
from app.trainings.demo import _attendee, _session
from bench.fleet import synced_yesterday, todays_visits

plan = json.load(open(sys.argv[1]))
today = date.today()
for code, folder, token in plan["stations"]:
    os.environ["KEPAI_INSTANCE"] = folder
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/kepai.sqlite3", "SYNC_AUTO": False})
    with app.app_context():
        g.actor = "bench"
        # Yesterday: what the station already synced; today: the day's delta, left in the
        # outbox for the timed push
        base = synced_yesterday(code, plan["league"], token)
        todays_visits(base, code, plan["visits"])
        rng, station, people, villages = base.rng, base.station, base.people, base.villages
        attendees = 0
        for _ in range(plan["trainings"]):
            data, trainers = _session(rng, today, 1, villages, people, station, base.clusters)
            data.update(held_on=today, status="held")
            training = Training(**data, owner_node=code, trainers=trainers)
            db.session.add(training)
            for _ in range(rng.randrange(8, 16)):
                db.session.add(TrainingAttendee(**_attendee(rng, training.id, villages), owner_node=code))
                attendees += 1
        db.session.commit()
        print(code, base.synced.applied, client.pending_count(), attendees, flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
"""


class LockWatch:
    """Samples the league database's active sessions every 50 ms while pushes run: how
    many were busy in PostgreSQL, and how many of those waited on a lock (the change
    log's advisory lock is ``Lock:advisory``). A league that serialised pushes would show
    sessions queued on a lock; a league bound by its own Python shows few busy sessions."""

    def __init__(self, url: str):
        import threading
        self.url, self.samples, self.busy, self.waits = url, 0, 0, {}
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import psycopg
        url = make_url(self.url)
        with psycopg.connect(make_url(self.url).set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:
            while not self.stop_event.wait(0.05):
                rows = conn.execute("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE "
                                    "datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                                    (url.database,)).fetchall()
                self.samples += 1
                self.busy += len(rows)
                for kind, event in rows:
                    if kind == "Lock":
                        self.waits[event] = self.waits.get(event, 0) + 1

    def stop(self) -> str:
        self.stop_event.set()
        self.thread.join()
        waiting = sum(self.waits.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(self.waits.items())) or "none"
        return (f"{self.samples} samples of the league's sessions: {self.busy / max(self.samples, 1):.2f} "
                f"busy in PostgreSQL on average, {waiting / max(self.samples, 1):.2f} waiting on a lock "
                f"({detail})")


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def station_codes(n: int) -> list[str]:
    """``n`` station codes spread over the league's counties (150102-01, 150103-01, …)."""
    counties = ["150102", "150103", "150104", "150105", "150121", "150122", "150123", "150124", "150125"]
    return [f"{counties[i % len(counties)]}-{i // len(counties) + 1:02d}" for i in range(n)]


def fleet(args, folder: str) -> None:
    """N stations push a day's delta to one league at once, then (fresh copies of the
    stations and of the league) one after another."""
    n = args.stations
    base = os.path.join(folder, "fleet")
    league_db = fresh_postgres(args.league_db, f"kepai_bench_fleet_{os.getpid()}")
    league = Node(os.path.join(base, "league"), "league", "1501", "呼和浩特市科技局", league_db)
    template = Node(os.path.join(base, "template"), "station", "150121-01", "模板")
    codes = station_codes(n)
    stations = []
    for code in codes:
        station_folder = os.path.join(base, code)
        os.makedirs(station_folder)
        with sqlite3.connect(os.path.join(template.folder, "kepai.sqlite3")) as source, \
                sqlite3.connect(os.path.join(station_folder, "kepai.sqlite3")) as target:
            source.backup(target)
            target.execute("UPDATE node_identity SET code = ?, name = ?", (code, f"{code}工作站"))
        stations.append([code, station_folder, league.enroll(code, f"{code}工作站")])
    plan_path = os.path.join(base, "plan.json")
    with open(plan_path, "w") as f:
        json.dump({"league": league.url, "stations": stations, "visits": args.day_visits,
                   "trainings": 3}, f)
    started = time.monotonic()
    league.start(threads=8)
    made = subprocess.run([sys.executable, "-c", FLEET_SEED, plan_path], cwd=ROOT, env=template.env,
                          check=True, capture_output=True, text=True).stdout.split("\n")
    league.stop()
    delta = [int(line.split()[2]) for line in made if line.strip()]
    print(f"stations: {n} stations made and enrolled on one league (waitress, 8 threads, PostgreSQL) in "
          f"{time.monotonic() - started:.0f} s; each synced its villages, station, 5 commissioners and "
          f"12 targets, then recorded a day: {args.day_visits} visits, 3 trainings with 8-15 attendees "
          f"(outbox {min(delta)}-{max(delta)} operations a station, {sum(delta)} in all)")
    # The serial run's copies: each station's folder, and the league's database
    for _, station_folder, _ in stations:
        shutil.copytree(station_folder, station_folder + "-serial")
    league.close()
    serial_db = fresh_postgres(args.league_db, f"kepai_bench_fleet_serial_{os.getpid()}",
                               template=make_url(league_db).database)

    def push(station_folder):
        return subprocess.Popen([sys.executable, "-m", "flask", "sync"], cwd=ROOT,
                                env=node_env(station_folder), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def outcome(index: int, process, station_folder: str, failed: list, runs: list, spans: list) -> None:
        """Whether the push succeeded (exit 0, its whole delta applied, nothing held or
        refused), and its run's own seconds (without the process's start)."""
        out = process.communicate(timeout=3600)[0]
        done = {k: int(v) for k, v in re.findall(r"(applied|held|rejected) (\d+)", out)}
        if process.returncode != 0 or done.get("applied") != delta[index] \
                or done.get("rejected") or done.get("held"):
            failed.append(f"{codes[index]}: exit {process.returncode}: {out.strip()[-300:]}")
        db_path = os.path.join(station_folder, "kepai.sqlite3")
        runs.append(run_seconds(db_path))
        with sqlite3.connect(db_path) as conn:
            spans.append(conn.execute("SELECT started_at, finished_at FROM sync_run ORDER BY id DESC "
                                      "LIMIT 1").fetchone())

    def league_cpu() -> float:
        """CPU seconds the league's process has used (user and system)."""
        with open(f"/proc/{league.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def machine() -> tuple[float, float]:
        """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")

    def window(spans: list) -> float:
        """Seconds from the first run's start to the last run's end."""
        first = min(datetime.fromisoformat(a) for a, _ in spans)
        return (max(datetime.fromisoformat(b) for _, b in spans) - first).total_seconds()

    league.start(threads=8)
    folders = [s[1] for s in stations]
    concurrent_failed, concurrent_runs, concurrent_spans = [], [], []
    watch, cpu, box = LockWatch(league_db), league_cpu(), machine()
    started = time.monotonic()
    processes = [push(f) for f in folders]
    for index, (process, station_folder) in enumerate(zip(processes, folders, strict=True)):
        outcome(index, process, station_folder, concurrent_failed, concurrent_runs, concurrent_spans)
    concurrent_wall = time.monotonic() - started
    concurrent_cpu = league_cpu() - cpu
    busy = (machine()[0] - box[0]) / (machine()[1] - box[1])
    locks = watch.stop()
    league.stop()
    league.env["DATABASE_URL"] = league.database_url = serial_db
    league.start(threads=8)
    serial_failed, serial_runs, serial_walls, serial_spans = [], [], [], []
    cpu, started = league_cpu(), time.monotonic()
    for index, (_, station_folder, _) in enumerate(stations):
        began = time.monotonic()
        outcome(index, push(station_folder + "-serial"), station_folder + "-serial", serial_failed,
                serial_runs, serial_spans)
        serial_walls.append(time.monotonic() - began)
    serial_wall = time.monotonic() - started
    serial_cpu = league_cpu() - cpu
    league.stop()
    drop(league_db)
    drop(serial_db)
    ok = not concurrent_failed and not serial_failed
    print(f"stations: all succeeded: {'yes' if ok else 'NO'} (concurrent: {n - len(concurrent_failed)}/{n} "
          f"exit 0 with their whole delta applied, nothing held or refused; serial: "
          f"{n - len(serial_failed)}/{n})")
    for line in (concurrent_failed + serial_failed)[:10]:
        print("  failed " + line)
    print(f"stations: total wall (processes started together, until the last exits) {concurrent_wall:.1f} s "
          f"concurrent vs {serial_wall:.1f} s serial (one after another): ratio {concurrent_wall / serial_wall:.2f}")
    print(f"stations: push (the sync run's own time, without process start) concurrent "
          f"p50 {percentile(concurrent_runs, 50):.2f} s, p95 {percentile(concurrent_runs, 95):.2f} s, "
          f"max {max(concurrent_runs):.2f} s; serial p50 {percentile(serial_runs, 50):.2f} s, "
          f"p95 {percentile(serial_runs, 95):.2f} s; concurrent p95 / serial p50 "
          f"{percentile(concurrent_runs, 95) / percentile(serial_runs, 50):.1f}")
    concurrent_window, serial_busy = window(concurrent_spans), sum(serial_runs)
    print(f"stations: the pushing itself (first run's start to last run's end, concurrent; the runs' "
          f"sum, serial): {concurrent_window:.1f} s concurrent vs {serial_busy:.1f} s serial: ratio "
          f"{concurrent_window / serial_busy:.2f}; the league's process used {concurrent_cpu:.1f} CPU s "
          f"concurrent ({concurrent_cpu / concurrent_window:.2f} of a core over that window), "
          f"{serial_cpu:.1f} CPU s serial")
    print(f"stations: while the concurrent pushes ran, {locks}; the machine's "
          f"{os.cpu_count()} cores were {busy:.0%} busy (the stations' processes, their start included, "
          f"share them with the league)")
    print(f"stations: a push's process, start to exit: serial p50 {percentile(serial_walls, 50):.2f} s, "
          f"p95 {percentile(serial_walls, 95):.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small demo station: a few minutes")
    parser.add_argument("--scale", choices=["small", "county"])
    parser.add_argument("--reviews", type=int, help="visits the league reviews (default 3000)")
    parser.add_argument("--league-db", default=os.environ.get("TEST_DATABASE_URL",
                                                              "postgresql+psycopg:///kepai_test"),
                        help="a PostgreSQL URL; the league's database is made beside it")
    parser.add_argument("--part", choices=["all", "sync", "stations"], default="all",
                        help="sync: push, pull and bytes; stations: many stations pushing at once")
    parser.add_argument("--stations", type=int, help="stations pushing at once (default 60; 12 with --quick)")
    parser.add_argument("--day-visits", type=int, default=50, help="visits in each station's day")
    args = parser.parse_args()
    scale = args.scale or ("small" if args.quick else "county")
    reviews = args.reviews or (500 if args.quick else 3000)
    args.stations = args.stations or (12 if args.quick else 60)
    folder = tempfile.mkdtemp(prefix="kepai-bench-sync-")
    if args.part in ("all", "sync"):
        push_pull_bytes(args, folder, scale, reviews)
    if args.part in ("all", "stations"):
        fleet(args, folder)
    shutil.rmtree(folder, ignore_errors=True)
    drop_templates(args.league_db)


def drop_templates(url: str) -> None:
    """The template databases this run's nodes were copied from (tests/node_processes.py)."""
    import psycopg
    plain = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(plain, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                            (f"kepai\\_bench\\_%\\_{os.getpid()}\\_tpl%",))]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def push_pull_bytes(args, folder: str, scale: str, reviews: int) -> None:
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


if __name__ == "__main__":
    main()
