"""Reports on a league of several counties, on PostgreSQL (issue 12; ``make bench``).

Builds (once, or again with ``--fresh``) a PostgreSQL database of its own holding a
league (1501, 呼和浩特市) with N counties' workstations, each the three-year county
dataset of ``flask seed-demo --scale county`` made under its own station code
(150121-01, 150122-01, ...) straight into the league's database, as sync would have
left it there: every record's owner and origin node the station's, a change-log row per
record with the station as its source, no outbox of the league's own, the stations
enrolled as peers. Then serves it in league mode with waitress, logs a league admin in,
and measures the reports broken down by node (the counties), drilled down to a county
(its stations) and to a station, their JSON and XLSX forms, the assessment pages and
the league's home page, next to the login page as bench/pages.py does (its functions).
A script, not a test: it asserts nothing.

    .venv/bin/python bench/reports.py [--league 3] [--fresh] [--clients 4] [--rounds 10]
                                      [--no-cache] [--pages services]

The county's own reports (a station on SQLite) are measured by
``bench/pages.py --pages reports``.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pages  # noqa: E402 - bench/pages.py, beside this file

ROOT = pages.ROOT
DATABASE = "bench_reports_league"
INSTANCE = "/tmp/kepai-bench-reports-league"
LEAGUE, LEAGUE_NAME = "1501", "呼和浩特市"
# Hohhot's banners and counties, each with one workstation in the league's database.
COUNTIES = ["150121", "150122", "150123", "150124", "150125", "150102", "150103", "150104"]
USERS = {"league": ("bench-league", "kepai-bench-1"), "reviewer": ("bench-reviewer", "kepai-bench-1")}
PAGES = [
    ("reports index", "/reports/"),
    ("report services, by county", "/reports/services?year={year}&by=node"),
    ("report services, county by station", "/reports/services?year={year}&by=node&node={county}"),
    ("report services, station by cluster", "/reports/services?year={year}&node={station}"),
    ("report services, quarter by type", "/reports/services?year={year}&quarter=2&by=service_type"),
    ("report services, 3 years by county", "/reports/services?from={first_day}&to={last_day}&by=node"),
    ("report services, json", "/reports/services?year={year}&by=node&format=json"),
    ("report services, xlsx", "/reports/services?year={year}&by=node&format=xlsx"),
    ("report trainings, by county", "/reports/trainings?year={year}&by=node"),
    ("report trainings, by category", "/reports/trainings?year={year}"),
    ("report trainings, county by station", "/reports/trainings?year={year}&by=node&node={county}"),
    ("report agreements, by county", "/reports/agreements?year={year}&by=node"),
    ("report agreements, payouts 3 years", "/reports/agreements?from={first_day}&to={last_day}"
                                           "&by=payout_year_kind"),
    ("report workforce, by county", "/reports/workforce?year={year}&by=node"),
    ("report workforce, level", "/reports/workforce?year={year}&by=level"),
    ("report workforce, teams", "/reports/workforce?year={year}&by=team_cluster"),
    ("report targets", "/reports/targets"),
    ("report targets, county", "/reports/targets?node={county}"),
    ("report targets, json", "/reports/targets?format=json"),
    ("assessment year", "/assessments/{year}"),
    ("assessment stations", "/assessments/{year}/stations"),
    ("assessment review", "/assessments/review", "reviewer"),
    ("home, league admin", "/"),
    ("home, league reviewer", "/", "reviewer"),
]


def psql(database: str, sql: str) -> str:
    result = subprocess.run(["psql", "-XAtq", "-d", database, "-c", sql], capture_output=True,
                            text=True, timeout=120)
    if result.returncode:
        sys.exit(f"psql failed: {result.stderr}")
    return result.stdout.strip()


def league_ready(database: str, counties: int) -> bool:
    """The league's database exists and holds ``counties`` counties' visits."""
    found = subprocess.run(["psql", "-XAtq", "-d", "postgres", "-c",
                            f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
                           capture_output=True, text=True, timeout=60).stdout.strip()
    if found != "1":
        return False
    try:
        count = psql(database, "SELECT count(DISTINCT owner_node) FROM visit")
    except SystemExit:
        return False
    return count == str(counties)


def prepare(env, database: str, counties: int, fresh: bool) -> None:
    """The league's database, made once (again with --fresh or another N)."""
    if not fresh and league_ready(database, counties):
        pages.flask(env, "db", "upgrade")  # a database made by an older version
        return
    subprocess.run(["dropdb", "--if-exists", database], check=True, timeout=120)
    subprocess.run(["createdb", database], check=True, timeout=120)
    started = time.monotonic()
    pages.flask(env, "db", "upgrade")
    pages.flask(env, "node", "init", "--role", "league", "--code", LEAGUE, "--name", LEAGUE_NAME)
    for username, role in (("bench-league", "league_admin"), ("bench-reviewer", "league_reviewer")):
        result = subprocess.run([sys.executable, "-m", "flask", "users", "create", "--username",
                                 username, "--role", role], cwd=ROOT, env=env, text=True,
                                input=USERS["league"][1] + "\n", capture_output=True, timeout=120)
        if result.returncode:
            sys.exit(f"users create failed:\n{result.stdout}{result.stderr}")
    result = subprocess.run([sys.executable, os.path.abspath(__file__), "--seed-league",
                             ",".join(f"{c}-01" for c in COUNTIES[:counties])],
                            cwd=ROOT, env=env, text=True, timeout=3600)
    if result.returncode:
        sys.exit("seeding the league failed")
    print(f"league of {counties} counties made in {time.monotonic() - started:.0f} s")


def seed_league(codes: list[str]) -> None:
    """In the league's app (a process of its own): each station's county dataset, as
    sync leaves it at the league, then statistics for the planner."""
    sys.path.insert(0, ROOT)
    from flask import g
    from sqlalchemy import text

    from app import create_app
    from app.core.extensions import db
    from app.demo import seed
    from app.sync import peers, registry

    app = create_app()
    with app.app_context():
        g.actor = "sync"
        for code in codes:
            started = time.monotonic()
            # what a push from the station does at the league: its records, audited and
            # in the change log with the station as their source, and no outbox entry
            db.session.info.update(applying_sync=True, sync_source=code)
            made = seed("county", code)
            db.session.info.pop("applying_sync", None)
            db.session.info.pop("sync_source", None)
            for table in registry.types():
                params = {"code": code, "type": table}
                # the ORM-made records were stamped with the league as origin
                db.session.execute(text(f"UPDATE {table} SET origin_node = owner_node "  # noqa: S608
                                        "WHERE owner_node = :code AND origin_node <> owner_node"),
                                   params)
                logged = db.session.scalar(text("SELECT count(*) FROM change_log WHERE "
                                                "record_type = :type AND owner_node = :code"), params)
                if not logged:  # written in bulk by the seed: no change-log rows yet
                    db.session.execute(text(
                        "INSERT INTO change_log (record_type, record_id, owner_node, source_node, at) "
                        f"SELECT :type, id, owner_node, owner_node, updated_at FROM {table} "  # noqa: S608
                        "WHERE owner_node = :code ORDER BY updated_at, id"), params)
            name = db.session.scalar(text("SELECT name FROM station WHERE owner_node = :code "
                                          "AND kind = 'grassroots'"), {"code": code})
            db.session.commit()
            peers.enroll(code, name or code)
            print(f"{code}: {made.get('visits')} visits, {made.get('training sessions')} sessions, "
                  f"{made.get('agreements')} agreements in {time.monotonic() - started:.0f} s",
                  flush=True)
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def sample_ids(database: str, counties: int) -> dict:
    one = lambda sql: psql(database, sql)  # noqa: E731
    first, last = one("SELECT min(visited_on), max(visited_on) FROM visit").split("|")
    return {"year": last[:4], "first_day": first, "last_day": last,
            "county": COUNTIES[0], "station": f"{COUNTIES[0]}-01",
            "visits": int(one("SELECT count(*) FROM visit WHERE deleted_at IS NULL")),
            "counties": counties}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--league", type=int, default=3, metavar="N",
                        help=f"counties in the league (1 to {len(COUNTIES)}; default 3)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--fresh", action="store_true", help="make the league's database anew")
    parser.add_argument("--database", default=DATABASE,
                        help=f"the PostgreSQL database the benchmark owns (default {DATABASE})")
    parser.add_argument("--instance", default=INSTANCE,
                        help=f"the league's instance folder (default {INSTANCE})")
    parser.add_argument("--pages", default="", help="only the pages whose name contains this")
    parser.add_argument("--no-cache", action="store_true",
                        help="serve with ANSWER_CACHE off: every view counts its figures "
                             "(what the first view after a write costs)")
    parser.add_argument("--seed-league", default="", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.seed_league:
        seed_league(options.seed_league.split(","))
        return
    if not 1 <= options.league <= len(COUNTIES):
        parser.error(f"--league takes 1 to {len(COUNTIES)} counties")
    os.makedirs(options.instance, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPAI_") and k != "DATABASE_URL"}
    env.update(KEPAI_INSTANCE=options.instance, FLASK_APP="wsgi", KEPAI_BACKUP_DAILY="false",
               DATABASE_URL=f"postgresql+psycopg:///{options.database}")
    if options.no_cache:
        env["KEPAI_ANSWER_CACHE"] = "false"
    prepare(env, options.database, options.league, options.fresh)
    ids = sample_ids(options.database, options.league)
    paths = pages.page_paths([p for p in PAGES if options.pages in p[0]], ids, user="league")
    times, wall, errors = pages.measure(env, paths, USERS, options.clients, options.rounds,
                                        options.threads, options.instance)
    pages.print_table(f"league of {options.league} counties on PostgreSQL, {ids['visits']} visits; "
                      f"{options.clients} clients x {options.rounds} rounds, waitress "
                      f"{options.threads} threads, {wall:.1f} s; answer cache "
                      f"{'off' if options.no_cache else 'on'}", paths, times, errors)


if __name__ == "__main__":
    main()
