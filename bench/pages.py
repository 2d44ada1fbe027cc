"""Page benchmark on the three-year county dataset (``make bench``).

Builds (once) an instance folder of its own under /tmp with ``flask seed-demo --scale
county``, serves it with waitress on 127.0.0.1, logs several clients in through the login
form (threads + urllib, a cookie jar each), has them request every page in PAGES in
random order for a number of rounds, and prints p50 and p95 of each page next to the
login page's, as ratios, then the server process's memory (/proc/<pid>/status: RssAnon, the
Python heap, apart from RssFile, the memory-mapped database; VmHWM, the peak of the two, and
the highest RssAnon seen while the clients ran). A script, not a test: it asserts nothing.

    .venv/bin/python bench/pages.py [--clients 4] [--rounds 20] [--fresh] [--instance DIR]
                                    [--pages visit | --pages reports] [--repeat 3]

One run's ratios all move with the login page's p95 (26 to 39 ms from run to run on the
2-core machine): ``--repeat 3`` measures three times, a fresh server each, and ends with
each page's median ratio (each ratio still taken within one run).

To add a page: append ``(name, path)`` to PAGES, or ``(name, path, user)`` for a page seen
as another of USERS than station staff; a path may use the ``{keys}`` that
``sample_ids()`` finds in the database. ``--pages reports`` measures REPORT_PAGES only
(the reports, the assessment year and each role's home page, issue 12); bench/reports.py
measures them on a league of several counties too.
"""
import argparse
import http.cookiejar
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTANCE = "/tmp/kepai-bench"
USER, PASSWORD = "demo-staff", "kepai-demo-1"
USERS = {"staff": (USER, PASSWORD), "admin": ("demo-admin", PASSWORD),
         "commissioner": ("demo-commissioner", PASSWORD)}
LOGIN = ("login page", "/login")
PAGES = [
    ("visit list", "/visits/"),
    ("visit list, filtered", "/visits/?commissioner={commissioner}&stage=during&mode=onsite"
                             "&date_from={year_ago}"),
    ("visit list, quiet commissioner", "/visits/?commissioner={quiet_commissioner}"),
    ("visit list, by target", "/visits/?target={target}"),
    ("visit list, searched", "/visits/?q=乳房炎"),
    ("visit list, searched 2 chars", "/visits/?q=防治"),
    ("visit list, deep page", "/visits/?after={deep_cursor}"),
    ("visit list, last page", "/visits/?last=1"),
    ("visit detail", "/visits/{visit}"),
    ("new visit form", "/visits/new?form=full"),
    ("training list", "/trainings/"),
    ("training list, page 100", "/trainings/?page=100"),
    ("training list, searched", "/trainings/?q=玉米"),
    ("training list, category", "/trainings/?category=coop_head"),
    ("training list, date range", "/trainings/?date_from={year_ago}"),
    ("training session", "/trainings/{training}"),
    ("sign-in sheet (print)", "/trainings/{training}/sign-in"),
    ("home (attention list)", "/"),
    ("agreement list", "/agreements/"),
    ("agreement list, filtered", "/agreements/?status=in_force&form=technology_equity&year={year}"),
    ("agreement list, attention", "/agreements/?attention=any"),
    ("agreement list, searched", "/agreements/?q=玉米"),
    ("agreement detail", "/agreements/{agreement}"),
    ("commissioner with agreements", "/commissioners/{party}"),
    # the station's other everyday pages (the menu's; reports are measured by bench/reports)
    ("home, commissioner", "/", "commissioner"),
    ("my visits (commissioner)", "/visits/", "commissioner"),
    ("new visit (commissioner)", "/visits/new", "commissioner"),
    ("visit edit form", "/visits/{visit}/edit"),
    ("new training form", "/trainings/new"),
    ("new agreement form", "/agreements/new"),
    ("commissioner list", "/commissioners/"),
    ("commissioner list, searched", "/commissioners/?q={commissioner_name}"),
    ("commissioner, busiest visitor", "/commissioners/{commissioner}"),
    ("commissioner picker search", "/commissioners/search?q={commissioner_name}"),
    ("target list", "/targets/"),
    ("target list, searched", "/targets/?q={target_name}"),
    ("target detail", "/targets/{target}"),
    ("target picker search", "/targets/search?q={target_name}"),
    ("place list", "/places/"),
    ("village detail", "/places/{village}"),
    ("station list", "/stations/"),
    ("station detail", "/stations/{station}"),
    ("team list", "/teams/"),
    ("team detail", "/teams/{team}"),
    ("cluster list", "/clusters/"),
    ("plan targets", "/goals/"),
    ("assessment", "/assessments/"),
    ("assessment (commissioner)", "/assessments/", "commissioner"),
    ("sync page", "/sync/"),
]
# Issue 12: the reports over the whole county (a year, a quarter, three years; each
# breakdown's heaviest), their JSON and XLSX forms, the assessment year (every
# commissioner's figures computed and scored) and each role's home page.
REPORT_PAGES = [
    ("reports index", "/reports/"),
    ("report services, year", "/reports/services?year={year}"),
    ("report services, quarter by type", "/reports/services?year={year}&quarter=2&by=service_type"),
    ("report services, 3 years by mode", "/reports/services?from={first_day}&to={last_day}&by=mode"),
    ("report services, by node", "/reports/services?year={year}&by=node"),
    ("report services, json", "/reports/services?year={year}&format=json"),
    ("report services, xlsx", "/reports/services?year={year}&by=service_type&format=xlsx"),
    ("report trainings, year", "/reports/trainings?year={year}"),
    ("report trainings, 3 years by cluster", "/reports/trainings?from={first_day}&to={last_day}"
                                             "&by=cluster"),
    ("report trainings, month by mode", "/reports/trainings?year={year}&month=5&by=mode"),
    ("report agreements, year", "/reports/agreements?year={year}"),
    ("report agreements, payouts 3 years", "/reports/agreements?from={first_day}&to={last_day}"
                                           "&by=payout_year_kind"),
    ("report workforce, year", "/reports/workforce?year={year}"),
    ("report workforce, flags", "/reports/workforce?year={year}&by=flags"),
    ("report workforce, teams", "/reports/workforce?year={year}&by=team_cluster"),
    ("report targets", "/reports/targets"),
    ("report targets, json", "/reports/targets?format=json"),
    ("report services, commissioner", "/reports/services?year={year}", "commissioner"),
    ("assessment year", "/assessments/{year}"),
    ("assessment year, xlsx", "/assessments/{year}?format=xlsx"),
    ("assessment stations", "/assessments/{year}/stations"),
    ("home, station staff", "/"),
    ("home, station admin", "/", "admin"),
    ("home, commissioner", "/", "commissioner"),
]
GROUPS = {"reports": REPORT_PAGES}


def flask(env, *args):
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    if result.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(env, fresh: bool) -> None:
    """The county dataset in INSTANCE, made once (or again with --fresh)."""
    database = os.path.join(INSTANCE, "kepai.sqlite3")
    if fresh and os.path.isdir(INSTANCE):
        shutil.rmtree(INSTANCE)
    if os.path.exists(database):
        with sqlite3.connect(database) as conn:
            try:
                if conn.execute("SELECT count(*) FROM visit").fetchone()[0] >= 60_000:
                    flask(env, "db", "upgrade")  # a dataset made by an older version
                    return
            except sqlite3.Error:
                pass
        shutil.rmtree(INSTANCE)
    os.makedirs(INSTANCE, exist_ok=True)
    started = time.monotonic()
    flask(env, "db", "upgrade")
    print(flask(env, "seed-demo", "--scale", "county").strip())
    print(f"county dataset made in {time.monotonic() - started:.0f} s")


def sample_ids() -> dict:
    """Ids and cursors for the page paths, read from the benchmark's database."""
    with sqlite3.connect(os.path.join(INSTANCE, "kepai.sqlite3")) as conn:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        count = one("SELECT count(*) FROM visit WHERE deleted_at IS NULL")[0]
        deep = one("SELECT visited_on, id FROM visit WHERE deleted_at IS NULL "
                   f"ORDER BY visited_on DESC, id DESC LIMIT 1 OFFSET {int(count * 0.8)}")
        busiest = one("SELECT commissioner_id FROM visit_commissioner GROUP BY commissioner_id "
                      "ORDER BY count(*) DESC LIMIT 1")[0]
        quiet = one("SELECT commissioner_id FROM visit_commissioner GROUP BY commissioner_id "
                    "ORDER BY count(*) LIMIT 1")[0]
        target = one("SELECT target_id FROM visit_target GROUP BY target_id "
                     "ORDER BY count(*), target_id LIMIT 1 OFFSET "
                     "(SELECT count(DISTINCT target_id) / 2 FROM visit_target)")[0]
        visit = one("SELECT id FROM visit WHERE deleted_at IS NULL ORDER BY visited_on LIMIT 1 "
                    f"OFFSET {count // 2}")[0]
        latest = one("SELECT max(visited_on) FROM visit")[0]
        training = one("SELECT training_id FROM training_attendee GROUP BY training_id "
                       "ORDER BY count(*) DESC LIMIT 1")[0]
        agreement = one("SELECT agreement_id FROM payout GROUP BY agreement_id "
                        "ORDER BY count(*) DESC LIMIT 1")[0]
        party = one("SELECT commissioner_id FROM agreement_party GROUP BY commissioner_id "
                    "ORDER BY count(*) DESC LIMIT 1")[0]
        year = one("SELECT max(signed_on) FROM agreement")[0][:4]
        first = one("SELECT min(visited_on) FROM visit")[0]
        commissioner_name = one(f"SELECT name FROM commissioner WHERE id = '{busiest}'")[0]
        target_name = one(f"SELECT name FROM service_target WHERE id = '{target}'")[0]
        village = one("SELECT village_id FROM service_target GROUP BY village_id "
                      "ORDER BY count(*) DESC LIMIT 1")[0]
        station = one("SELECT station_id FROM visit GROUP BY station_id "
                      "ORDER BY count(*) DESC LIMIT 1")[0]
        team = one("SELECT id FROM service_team ORDER BY name LIMIT 1")[0]
    year_ago = f"{int(latest[:4]) - 1}{latest[4:]}"
    return {"visits": count, "deep_cursor": f"{deep[0]}~{deep[1]}",
            "commissioner": busiest, "quiet_commissioner": quiet, "target": target, "visit": visit,
            "year_ago": year_ago, "first_day": first[:10], "last_day": latest[:10],
            "training": training, "agreement": agreement, "party": party, "year": year,
            "commissioner_name": commissioner_name, "target_name": target_name,
            "village": village, "station": station, "team": team}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env, threads: int, folder: str | None = None):
    """waitress on a free port of 127.0.0.1, its log in ``folder`` (the instance's)."""
    port = free_port()
    log = open(os.path.join(folder or INSTANCE, "waitress.log"), "w")
    server = subprocess.Popen([sys.executable, "-m", "waitress", "--host", "127.0.0.1",
                               f"--port={port}", f"--threads={threads}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                sys.exit("the server did not start; see " + log.name)
            time.sleep(0.2)


def logged_in(base: str, username: str = USER, password: str = PASSWORD):
    """An opener with its own cookie jar, logged in through the form."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    fields = {"username": username, "password": password}
    if token:
        fields["csrf_token"] = token.group(1)
    response = opener.open(base + "/login", urllib.parse.urlencode(fields).encode(), timeout=30)
    if "/login" in response.geturl():
        sys.exit("could not log in as " + username)
    return opener


def openers(base: str, paths: list, users: dict) -> dict:
    """{user key: a logged-in opener} for the users the paths are seen as; None: anonymous."""
    found = {None: urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))}
    for key in dict.fromkeys(user for _name, _path, user in paths if user):
        found[key] = logged_in(base, *users[key])
    return found


def client(base: str, paths: list, rounds: int, seed: int, times: dict, lock, errors: list,
           users: dict):
    user = openers(base, paths, users)
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(paths)
        rng.shuffle(order)
        for name, path, who in order:
            opener = user[who]
            started = time.perf_counter()
            try:
                with opener.open(base + path, timeout=60) as response:
                    response.read()
                    status = response.status
            except Exception as error:  # noqa: BLE001 - a benchmark reports, then goes on
                errors.append(f"{name}: {error}")
                continue
            elapsed = time.perf_counter() - started
            if status != 200:
                errors.append(f"{name}: status {status}")
            with lock:
                times.setdefault(name, []).append(elapsed)


def memory(pid: int) -> dict:
    """The process's memory lines from /proc/<pid>/status, in kB (Linux only)."""
    figures = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _sep, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    figures[key] = int(value.split()[0])
    except OSError:
        pass
    return figures


class MemoryWatch(threading.Thread):
    """Samples the server's RssAnon while the clients run: VmHWM gives only the peak of
    anonymous and mapped memory together."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_anon, self.done = pid, 0, threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            self.peak_anon = max(self.peak_anon, memory(self.pid).get("RssAnon", 0))


def mib(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB"


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def page_paths(pages: list, ids: dict, user: str = "staff") -> list:
    """[(name, path, user key)]: the login page (anonymous) first, then ``pages`` with
    their ``{keys}`` filled in and quoted; a page without a user is seen as ``user``."""
    paths = [(*LOGIN, None)]
    for name, path, *who in pages:
        paths.append((name, urllib.parse.quote(path.format(**ids), safe="/?&=~%"),
                      who[0] if who else user))
    return paths


def measure(env, paths: list, users: dict, clients: int, rounds: int, threads: int,
            folder: str | None = None):
    """Serve, warm every page once, then ``clients`` threads request every path ``rounds``
    times in random order: ({name: [seconds]}, wall seconds, errors)."""
    server, base = serve(env, threads, folder)
    try:
        warm = openers(base, paths, users)
        for name, path, who in paths:
            try:
                warm[who].open(base + path, timeout=120).read()
            except Exception as error:  # noqa: BLE001 - said once, then measured
                print(f"warming {name}: {error}")
        warmed = memory(server.pid)
        watch = MemoryWatch(server.pid)
        watch.start()
        times, lock, errors = {}, threading.Lock(), []
        workers = [threading.Thread(target=client, args=(base, paths, rounds, n, times,
                                                         lock, errors, users))
                   for n in range(clients)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        wall = time.monotonic() - started
        watch.done.set()
        after = memory(server.pid)
        if after:
            print(f"\nwaitress process memory, after warming every page once: RssAnon "
                  f"{mib(warmed['RssAnon'])}, RssFile {mib(warmed['RssFile'])}; after the run: "
                  f"RssAnon {mib(after['RssAnon'])} (highest seen "
                  f"{mib(max(watch.peak_anon, after['RssAnon']))}), RssFile {mib(after['RssFile'])} "
                  f"(the mapped database and libraries), VmRSS {mib(after['VmRSS'])}, "
                  f"VmHWM (peak RSS) {mib(after['VmHWM'])}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return times, wall, errors


def print_table(headline: str, paths: list, times: dict, errors: list, budget: float = 3.0):
    """p50 and p95 of each page beside the login page's, as ratios; pages whose p95 is
    over ``budget`` times the login page's are marked."""
    login50, login95 = percentile(times[LOGIN[0]], 50), percentile(times[LOGIN[0]], 95)
    print(f"\n{headline}; {sum(map(len, times.values()))} requests")
    print(f"{'page':38} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p50/login':>10} {'p95/login':>10}")
    over = []
    for name, _path, _user in paths:
        values = times.get(name, [])
        if not values:
            print(f"{name:38} no successful requests")
            continue
        p50, p95 = percentile(values, 50), percentile(values, 95)
        mark = "  over budget" if p95 / login95 > budget else ""
        if mark:
            over.append(name)
        print(f"{name:38} {len(values):4} {p50 * 1000:8.1f} {p95 * 1000:8.1f} "
              f"{p50 / login50:10.1f} {p95 / login95:10.1f}{mark}")
    if errors:
        print(f"\n{len(errors)} errors, e.g. {errors[:3]}")
    return over


def print_medians(paths: list, runs: list, budget: float = 3.0) -> None:
    """Each page's p95 over the login page's p95, taken in each run (the two measured
    together), and the median of those ratios over the runs."""
    ratios = {name: [] for name, _path, _user in paths}
    for times in runs:
        login95 = percentile(times[LOGIN[0]], 95)
        for name in ratios:
            if times.get(name):
                ratios[name].append(percentile(times[name], 95) / login95)
    over = [name for name, found in ratios.items() if found and statistics.median(found) > budget]
    within = sum(1 for found in ratios.values() if found and statistics.median(found) <= 2.0)
    print(f"\nthe median of {len(runs)} runs' p95/login: {len(over)} of {len(ratios)} pages over "
          f"{budget:g}x, {within} within 2x")
    print(f"{'page':38} {'median':>7}  each run")
    for name, found in ratios.items():
        if found:
            mark = "  over budget" if name in over else ""
            print(f"{name:38} {statistics.median(found):7.1f}  "
                  f"{' '.join(f'{r:.1f}' for r in found)}{mark}")


def selected(only: str) -> list:
    """The pages of the group ``only`` names (``reports``), else those whose name contains it."""
    if only in GROUPS:
        return GROUPS[only]
    found = {page[0]: page for page in PAGES + REPORT_PAGES}  # a page in both lists once
    return [page for name, page in found.items() if only in name]


def main():
    global INSTANCE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--fresh", action="store_true", help="make the dataset anew")
    parser.add_argument("--no-cache", action="store_true",
                        help="serve with ANSWER_CACHE off: every view works out its counts and "
                             "drop-downs (what a first view after a change costs)")
    parser.add_argument("--instance", default=INSTANCE,
                        help=f"the dataset's instance folder (default {INSTANCE})")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure this many times (a fresh server each), then print each "
                             "page's median ratio: one run's ratios move with the login "
                             "page's p95")
    parser.add_argument("--pages", default="", help="only the pages whose name contains this "
                                                   "(e.g. visit), or a group (reports); the "
                                                   "login page always")
    options = parser.parse_args()
    INSTANCE = options.instance
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPAI_") and k != "DATABASE_URL"}
    env.update(KEPAI_INSTANCE=INSTANCE, FLASK_APP="wsgi", KEPAI_BACKUP_DAILY="false")
    if options.no_cache:
        env["KEPAI_ANSWER_CACHE"] = "false"
    prepare(env, options.fresh)
    ids = sample_ids()
    paths = page_paths(selected(options.pages), ids)
    runs = []
    for _ in range(max(1, options.repeat)):
        times, wall, errors = measure(env, paths, USERS, options.clients, options.rounds,
                                      options.threads)
        print_table(f"{ids['visits']} visits; {options.clients} clients x {options.rounds} rounds, "
                    f"waitress {options.threads} threads, {wall:.1f} s; answer cache "
                    f"{'off' if options.no_cache else 'on'}", paths, times, errors)
        runs.append(times)
    if len(runs) > 1:
        print_medians(paths, runs)


if __name__ == "__main__":
    main()
