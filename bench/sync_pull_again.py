"""The pull phase of bench/sync.py again and again, from one snapshot: for comparing two
versions of the code on a shared machine, where one county run (30 minutes, most of it
seeding and pushing) gives one pull figure and the floor moves from run to run.

    .venv/bin/python bench/sync_pull_again.py [--runs N] [--scale county|small]
                                              [--league-db postgresql+psycopg:///kepai_test]
                                              [--folder /tmp/kepai-pull-again]

The first call makes the snapshot in ``--folder`` as bench/sync.py does: a station seeded
at the scale (`flask seed-demo`), pushed whole to a league (waitress, PostgreSQL), whose
reviewer then reviews 3,000 visits (bench/sync.py's REVIEW); the station's database and
the league's (a PostgreSQL template) are kept. Each run then restores both, starts the
league, runs the station's `flask sync` (timed by its sync run, less that of a second run
with nothing to do) and measures the floor as bench/sync.py does (the same UPDATEs, audit
and change-log rows by executemany into the station's database as it was). Run from a
checkout to time that checkout's code; the snapshot serves any checkout with the same
schema. Not a test.
"""
import argparse
import importlib.util
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.getcwd()  # the checkout whose code is timed
sys.path.insert(0, ROOT)
from tests.node_processes import Node, fresh_postgres, node_env  # noqa: E402

STATION, STATION_NAME = "150121-01", "土默特左旗科技特派员工作站"
_spec = importlib.util.spec_from_file_location("bench_sync", os.path.join(ROOT, "bench", "sync.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def backup(source: str, target: str) -> None:
    with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
        a.backup(b)


def snapshot(args, snap: str) -> None:
    """Seed, push and review once; keep the station's files and the league's database."""
    shutil.rmtree(args.folder, ignore_errors=True)
    os.makedirs(snap)
    league = Node(f"{args.folder}/league", "league", "1501", "呼和浩特市科技局",
                  fresh_postgres(args.league_db, "kepai_pull_again_league"))
    station = Node(f"{args.folder}/station", "station", STATION, STATION_NAME)
    station.env["KEPAI_SYNC_TIMEOUT"] = "900"
    started = time.monotonic()
    station.flask("seed-demo", "--scale", args.scale, timeout=7200)
    print(f"seeded in {time.monotonic() - started:.0f} s;", station.flask("upstream", "resend").stdout.strip(),
          flush=True)
    station.flask("upstream", "set", "--url", league.url, "--token", league.enroll(STATION, STATION_NAME))
    league.start()
    print("push:", station.flask("sync", timeout=7200).stdout.strip(), flush=True)
    league.close()
    reviewed = subprocess.run([sys.executable, "-c", bench.REVIEW, "3000", "-"], cwd=ROOT, env=league.env,
                              check=True, capture_output=True, text=True).stdout.split()[-2]
    print(f"reviewed {reviewed} visits", flush=True)
    backup(f"{args.folder}/station/kepai.sqlite3", f"{snap}/kepai.sqlite3")
    for name in os.listdir(f"{args.folder}/station"):
        source = f"{args.folder}/station/{name}"
        if not name.startswith("kepai.sqlite3") and os.path.isfile(source):
            shutil.copy(source, f"{snap}/{name}")
    fresh_postgres(args.league_db, "kepai_pull_again_snap", "kepai_pull_again_league")
    with open(f"{snap}/league.json", "w") as f:
        json.dump({"port": league.port}, f)


def node(folder: str, database_url: str | None, port: int) -> Node:
    """A node on files (and a database) that already exist, listening on ``port``."""
    made = Node.__new__(Node)
    made.folder, made.env, made.port, made.process, made._app = folder, node_env(folder, database_url), port, None, None
    made.url = f"http://127.0.0.1:{port}"
    made.database_url = database_url or f"sqlite:///{folder}/kepai.sqlite3"
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", choices=["small", "county"], default="county")
    parser.add_argument("--league-db", default=os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg:///kepai_test"))
    parser.add_argument("--folder", default="/tmp/kepai-pull-again")
    args = parser.parse_args()
    snap = f"{args.folder}/snapshot"
    if not os.path.exists(f"{snap}/league.json"):
        snapshot(args, snap)
    with open(f"{snap}/league.json") as f:
        port = json.load(f)["port"]
    ratios = []
    for _ in range(args.runs):
        folder = f"{args.folder}/run"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(snap, folder)
        league = node(f"{args.folder}/league", fresh_postgres(args.league_db, "kepai_pull_again_run",
                                                              "kepai_pull_again_snap"), port)
        station = node(folder, None, 0)
        league.start()
        try:
            out = station.flask("sync", timeout=3600).stdout.strip()
            whole = bench.run_seconds(f"{folder}/kepai.sqlite3")
            station.flask("sync", timeout=3600)
            idle = bench.run_seconds(f"{folder}/kepai.sqlite3")
        finally:
            league.stop()
        shutil.copy(f"{snap}/kepai.sqlite3", f"{args.folder}/before.sqlite3")
        floor, changes = bench.pull_floor(f"{args.folder}/before.sqlite3", f"{folder}/kepai.sqlite3",
                                          station.env["KEPAI_SQLITE_SYNCHRONOUS"])
        pulled, seconds = bench.figures(out)["pulled"], whole - idle
        ratios.append((pulled / seconds) / (changes / floor))
        print(f"pull: {pulled} changes in {seconds:.2f} s (the run less an idle run's {idle:.2f} s) = "
              f"{pulled / seconds:.0f} changes/s; floor {floor:.2f} s = {changes / floor:.0f} changes/s; "
              f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"median ratio of {len(ratios)} runs: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
