"""Where a page's time goes, in-process: the pages of bench/pages.py served by the Flask
test client on the benchmark's county dataset (made by bench/pages.py), one request at a
time. For each page: the median time of a request, its median CPU time (what this process
spent: on a shared machine the steadier figure, and the one the ratio to the login page's
is taken of), the SQL statements it runs and their time. With ``--profile NAME`` also the
cProfile of that page's requests (top functions by cumulative time) and, with ``--sql``,
each statement with its time.

    .venv/bin/python bench/page_profile.py [--pages training] [--runs 15]
    .venv/bin/python bench/page_profile.py --profile "training session" --sql
    .venv/bin/python bench/page_profile.py --runs 1 --dump /tmp/pages-before

A script for finding work to cut, not a test: it asserts nothing.
"""
import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pages as bench  # noqa: E402  (bench/pages.py: PAGES, USERS, sample_ids)


class Statements:
    """Counts the statements the app's engine runs, and their time."""

    def __init__(self):
        self.log, self.started = [], None

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self.started = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        self.log.append((time.perf_counter() - self.started, statement))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", default=bench.INSTANCE)
    parser.add_argument("--pages", default="", help="only the pages whose name contains this")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", default="", help="cProfile the page of this exact name")
    parser.add_argument("--sql", action="store_true", help="print the profiled page's statements")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-cache", action="store_true", help="ANSWER_CACHE off")
    parser.add_argument("--dump", default="", help="write each page's HTML into this folder "
                        "(to compare two checkouts' pages: diff -r)")
    options = parser.parse_args()
    bench.INSTANCE = options.instance
    os.environ["KEPAI_INSTANCE"] = options.instance
    os.environ["KEPAI_BACKUP_DAILY"] = "false"
    if options.no_cache:
        os.environ["KEPAI_ANSWER_CACHE"] = "false"
    sys.path.insert(0, bench.ROOT)
    from sqlalchemy import event

    from app import create_app
    from app.core.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    ids = bench.sample_ids()
    clients = {}
    for user, (username, password) in bench.USERS.items():
        clients[user] = app.test_client()
        answer = clients[user].post("/login", data={"username": username, "password": password})
        if answer.status_code != 302:
            sys.exit(f"could not log in as {username}: {answer.status_code}")
    clients[None] = app.test_client()
    pages = [(*bench.LOGIN, None)] + [
        (name, urllib.parse.quote(path.format(**ids), safe="/?&=~%"), user[0] if user else "staff")
        for name, path, *user in bench.PAGES
        if (options.profile == name if options.profile else options.pages in name)]
    statements = Statements()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statements.before)
    event.listen(engine, "after_cursor_execute", statements.after)

    print(f"{'page':34} {'status':>6} {'ms p50':>7} {'cpu ms':>7} {'stmts':>6} {'sql ms':>7} {'bytes':>7}")
    login = None
    for name, path, user in pages:
        client = clients[user]
        client.get(path)  # warm: remembered answers, compiled statements
        times, cpu, counts, sql = [], [], [], []
        profile = cProfile.Profile() if options.profile else None
        for _ in range(options.runs):
            statements.log.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            answer = client.get(path)
            if profile:
                profile.disable()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            counts.append(len(statements.log))
            sql.append(sum(t for t, _s in statements.log))
        if options.dump:
            os.makedirs(options.dump, exist_ok=True)
            with open(os.path.join(options.dump, re.sub(r"\W+", "_", name) + ".html"), "wb") as out:
                out.write(answer.data)
        median, cpu_ms = statistics.median(times) * 1000, statistics.median(cpu) * 1000
        login = login or cpu_ms
        print(f"{name:34} {answer.status_code:6} {median:7.1f} {cpu_ms:7.1f} "
              f"{statistics.median(counts):6.0f} {statistics.median(sql) * 1000:7.1f} "
              f"{len(answer.data):7}  ({cpu_ms / login:.1f}x login's cpu)")
        if profile:
            if options.sql:
                for seconds, statement in statements.log:
                    one_line = re.sub(r"\s+", " ", statement)[:300]
                    print(f"  {seconds * 1000:7.2f} ms  {one_line}")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(options.top)


if __name__ == "__main__":
    main()
