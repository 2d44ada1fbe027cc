"""Sync benchmark: push a county's three-year dataset from a fresh station to a fresh
league over loopback HTTP, and compare what went over the wire with the same records
as gzip-compressed JSON Lines.

    .venv/bin/python bench/sync.py [--scale county|small] [--league-db URL]

Both nodes are real processes (the league a waitress server; the station `flask sync`).
Prints one run's figures; record them in docs/benchmarks.md. Not a test.
"""
import argparse
import gzip
import json
import os
import re
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.node_processes import Node, fresh_postgres  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "county"], default="county")
    parser.add_argument("--league-db", help="PostgreSQL URL for the league (default SQLite)")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kepai-bench-sync-")
    league_db = fresh_postgres(args.league_db, "kepai_bench_league") if args.league_db else None
    league = Node(os.path.join(folder, "league"), "league", "1501", "呼和浩特市科技局", league_db)
    league.start()
    station = Node(os.path.join(folder, "station"), "station", "150121-01", "土默特左旗科技特派员工作站")
    started = time.monotonic()
    station.flask("seed-demo", "--scale", args.scale, timeout=1800)
    seeded = time.monotonic() - started
    print(station.flask("upstream", "resend").stdout.strip())
    token = league.enroll("150121-01", "土默特左旗科技特派员工作站")
    station.flask("upstream", "set", "--url", league.url, "--token", token)

    db_path = os.path.join(folder, "station", "kepai.sqlite3")
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT record_type, record_id, version, fields FROM outbox_entry").fetchall()
    jsonl = "".join(json.dumps({"type": t, "id": i, "version": v, "fields": json.loads(f)},
                               ensure_ascii=False, separators=(",", ":")) + "\n"
                    for t, i, v, f in rows).encode()
    packed = gzip.compress(jsonl, 6)
    by_type = {}
    for t, *_ in rows:
        by_type[t] = by_type.get(t, 0) + 1

    out = station.flask("sync", timeout=3600).stdout
    with sqlite3.connect(db_path) as conn:
        elapsed = conn.execute("SELECT (julianday(finished_at) - julianday(started_at)) * 86400 "
                               "FROM sync_run ORDER BY id DESC LIMIT 1").fetchone()[0]
    league.stop()
    figures = {k: int(v) for v, k in re.findall(r"(\d+) (requests|bytes sent|received)", out)}
    sent = int(re.search(r"sent (\d+)", out).group(1))
    print(f"scale {args.scale}; league on {'PostgreSQL' if league_db else 'SQLite'}; demo data made in {seeded:.0f} s")
    print("records by type: " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())))
    print(f"flask sync: {out.strip()}")
    print(f"records pushed: {sent} in {elapsed:.1f} s (the run, without process start) = "
          f"{sent / elapsed:.0f} records/s")
    print(f"requests: {figures['requests']} ({sent / figures['requests']:.0f} records per request)")
    print(f"bytes on the wire, up: {figures['bytes sent']:,} = {figures['bytes sent'] / sent:.0f} per record; "
          f"down: {figures['received']:,}")
    print(f"same records as JSON Lines: {len(jsonl):,} bytes, gzip -6: {len(packed):,} = "
          f"{len(packed) / sent:.0f} per record; wire / gzip JSONL = {figures['bytes sent'] / len(packed):.2f}")


if __name__ == "__main__":
    main()
