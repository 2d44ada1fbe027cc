"""Page benchmark for training sessions on the county dataset (3,000 sessions, ~90,000
attendance rows): waitress serving a fresh station, concurrent logged-in clients, p50
and p95 per page and the ratio to the login page measured in the same run.

    .venv/bin/python bench/pages_trainings.py [--clients 8] [--rounds 40] [--instance DIR]

It prints figures; it asserts nothing. (Made on the trainings branch while the shared
bench/pages.py was not on main yet: same approach, to be folded into its page list.)
"""
import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER, PASSWORD = "demo-staff", "demo12345"


def _flask(env, *args):
    subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One browser: its own cookies, logged in as demo-staff."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path) -> tuple[float, str]:
        start = time.perf_counter()
        with self.opener.open(self.base + path, timeout=60) as response:
            body = response.read().decode("utf-8", "replace")
        return time.perf_counter() - start, body

    def login(self):
        _t, page = self.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "username": USER,
                                       "password": PASSWORD}).encode()
        self.opener.open(self.base + "/login", data=data, timeout=60).read()


def measure(clients, path, rounds) -> list[float]:
    """Every client requests ``path`` ``rounds`` times, all clients at once."""
    times, lock = [], threading.Lock()

    def run(client):
        for _i in range(rounds):
            elapsed, _body = client.get(path)
            with lock:
                times.append(elapsed)
    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def p(values, q) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--instance", default=os.path.join(tempfile.gettempdir(),
                                                           "kepai-bench-county"))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEPAI_")}
    env.update(KEPAI_INSTANCE=args.instance, FLASK_APP="wsgi")
    fresh = not os.path.exists(os.path.join(args.instance, "kepai.sqlite3"))
    os.makedirs(args.instance, exist_ok=True)
    _flask(env, "db", "upgrade")
    if fresh:
        started = time.perf_counter()
        _flask(env, "seed-demo", "--scale", "county")
        print(f"county dataset made in {time.perf_counter() - started:.0f} s")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "waitress", "--host", "127.0.0.1",
                               f"--port={port}", "--threads=8", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _i in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        anonymous = [Client(base) for _i in range(args.clients)]
        clients = [Client(base) for _i in range(args.clients)]
        for c in clients:
            c.login()
        _t, listing = clients[0].get("/trainings/?status=held")
        session = re.search(r'href="/trainings/([0-9a-f-]{36})"', listing).group(1)
        pages = [("login page", "/login", anonymous),
                 ("training list", "/trainings/", clients),
                 ("training list, page 100", "/trainings/?page=100", clients),
                 ("training list, search 玉米", "/trainings/?q=" + urllib.parse.quote("玉米"), clients),
                 ("training list, category 合作社负责人", "/trainings/?category=coop_head", clients),
                 ("training list, date range", "/trainings/?date_from=2025-01-01&date_to=2025-06-30", clients),
                 ("training session page", f"/trainings/{session}", clients),
                 ("sign-in sheet (print)", f"/trainings/{session}/sign-in", clients)]
        results = {}
        for name, path, who in pages:
            measure(who, path, 2)  # warm up
            results[name] = measure(who, path, args.rounds)
        base_p50 = p(results["login page"], 50)
        print(f"{args.clients} clients × {args.rounds} requests per page, waitress 8 threads")
        print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'× login':>8}")
        for name, times in results.items():
            print(f"{name:40} {p(times, 50):8.1f} {p(times, 95):8.1f} "
                  f"{p(times, 50) / base_p50:8.1f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
