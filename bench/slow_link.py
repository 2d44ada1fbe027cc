"""A day's delta over a slow link (issue 11 item 5): a station sends a day's work, 50
visits and 2 photos of ~300 KB, to its league through a local proxy that throttles to
64 kbit/s with a 300 ms round trip, with the default settings (SYNC_TIMEOUT 30 s), and
the time is compared with the bandwidth floor.

    .venv/bin/python bench/slow_link.py [--visits 50] [--photos 2] [--kbit 64] [--rtt 0.3]

Both nodes are real processes (the league a waitress server, the station `flask sync`);
the proxy (``ThrottlingProxy``) runs here. The station's records of before (villages,
its station, commissioners, service targets) are synced straight to the league first;
the day (visits drawn as the demo draws them, the photos attached to the first visits)
is left in the outbox and sent through the proxy. The proxy delays every connection by
one round trip (the TCP handshake), every request and answer by half of one, and lets
bytes through at the link's rate in each direction, one link for all connections. The
floor is the bytes the sync run sent up (bodies and file chunks, as the station counts
them) at that rate. Also printed: the thumbnail the league serves for each photo.
Prints one run's figures; record them in docs/benchmarks.md. Not a test.
"""
import argparse
import http.server
import os
import re
import socketserver
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.node_processes import ROOT, Node, free_port  # noqa: E402

DAY = """
import io, random, sys
from flask import g
from PIL import Image
from werkzeug.datastructures import FileStorage
from app import create_app
from app.core import attachments
from app.core.extensions import db
from app.sync import client
from bench.fleet import synced_yesterday, todays_visits

league_url, token, visits, photos = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
code = "150121-01"
app = create_app({"SYNC_AUTO": False})
with app.test_request_context():
    g.actor = "bench"
    # Yesterday, synced straight to the league; today, left in the outbox: the visits,
    # the photos attached to the first of them
    base = synced_yesterday(code, league_url, token)
    day = todays_visits(base, code, visits)
    db.session.flush()
    for i in range(photos):  # noise at quality 92: about 330 KB once normalised, like a phone's photo
        raw = io.BytesIO()
        noise = random.Random(i).randbytes(700 * 700 * 3)
        Image.frombytes("RGB", (700, 700), noise).save(raw, "JPEG", quality=92)
        photo = attachments.add(day[i % len(day)], FileStorage(io.BytesIO(raw.getvalue()), filename=f"{i}.jpg"))
        print(photo.size, (photo.thumb_sha256 and len(attachments.files.read(photo.thumb_sha256))) or 0)
    db.session.commit()
    print("pending", client.pending_count())
"""

LEAGUE_THUMBNAILS = """
import os
from sqlalchemy import select
from app import create_app
from app.core import attachments, files
from app.core.extensions import db
from app.models import Attachment
app = create_app()
with app.app_context():
    shown = []
    for a in db.session.scalars(select(Attachment)):
        if hasattr(attachments, "thumbnail_file"):  # made by the league itself
            where = attachments.thumbnail_file(a)
        else:  # before: only the station's, sent as a file of its own
            where = files.path(a.thumb_sha256) if a.thumb_sha256 and files.exists(a.thumb_sha256) else None
        shown.append(f"{a.filename}: " + (f"{os.path.getsize(where):,} B" if where else "none"))
    print(", ".join(shown) or "no photos")
"""


class Pipe:
    """One direction of the link: bytes pass at ``rate`` bytes/s, one sender at a time."""

    def __init__(self, rate: float):
        self.rate, self.lock = rate, threading.Lock()

    def carry(self, nbytes: int) -> None:
        with self.lock:
            time.sleep(nbytes / self.rate)


class ThrottlingProxy:
    """Forwards HTTP to ``upstream_url`` as a link of ``rate`` bytes/s each way and
    ``rtt`` seconds of round trip would carry it."""

    PIECE = 4096

    def __init__(self, upstream_url: str, rate: float, rtt: float):
        up, down = Pipe(rate), Pipe(rate)

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _read_body(self) -> bytes | None:
                length = int(self.headers.get("Content-Length") or 0)
                pieces = []
                while length > 0:  # read at the link's pace, so that the sender waits
                    piece = self.rfile.read(min(self.PIECE_SIZE, length))
                    if not piece:
                        break
                    up.carry(len(piece))
                    pieces.append(piece)
                    length -= len(piece)
                return b"".join(pieces) if pieces else None

            PIECE_SIZE = ThrottlingProxy.PIECE

            def _forward(self):
                time.sleep(rtt * 1.5)  # the handshake, then the request's first byte
                body = self._read_body()
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                request = urllib.request.Request(upstream_url + self.path, data=body,
                                                 method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=600) as response:
                        status, answer, answer_headers = response.status, response.read(), \
                            response.headers.items()
                except urllib.error.HTTPError as exc:
                    status, answer, answer_headers = exc.code, exc.read(), exc.headers.items()
                time.sleep(rtt / 2)  # the answer's first byte
                down.carry(len(answer))
                self.send_response(status)
                for key, value in answer_headers:
                    if key.lower() not in ("content-length", "connection", "transfer-encoding",
                                           "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    self.wfile.write(answer)
                except OSError:
                    pass  # the station gave up waiting

            do_GET = do_POST = do_PUT = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=50)
    parser.add_argument("--photos", type=int, default=2)
    parser.add_argument("--kbit", type=float, default=64)
    parser.add_argument("--rtt", type=float, default=0.3)
    args = parser.parse_args()
    rate = args.kbit * 1000 / 8
    folder = tempfile.mkdtemp(prefix="kepai-bench-slow-")
    league = Node(os.path.join(folder, "league"), "league", "1501", "呼和浩特市科技局").start()
    station = Node(os.path.join(folder, "station"), "station", "150121-01", "土默特左旗科技特派员工作站")
    token = league.enroll("150121-01", "土默特左旗科技特派员工作站")
    seeded = subprocess.run([sys.executable, "-c", DAY, league.url, token, str(args.visits), str(args.photos)],
                            cwd=ROOT, env=station.env, capture_output=True, text=True, check=True).stdout.split("\n")
    photos = [line.split() for line in seeded if line and line[0].isdigit()]
    pending = next(line.split()[1] for line in seeded if line.startswith("pending"))
    proxy = ThrottlingProxy(league.url, rate, args.rtt)
    station.flask("upstream", "set", "--url", proxy.url, "--token", token)
    started = time.monotonic()
    result = station.flask("sync", check=False, timeout=3600)
    elapsed = time.monotonic() - started
    proxy.close()
    thumbs_at_league = subprocess.run([sys.executable, "-c", LEAGUE_THUMBNAILS], cwd=ROOT, env=league.env,
                                      capture_output=True, text=True, check=True).stdout.strip()
    league.stop()
    out = (result.stdout + result.stderr).strip()
    print(f"link {args.kbit:g} kbit/s ({rate:.0f} B/s each way), round trip {args.rtt * 1000:.0f} ms")
    print(f"day's delta: {args.visits} visits ({pending} operations in the outbox), {len(photos)} photos: "
          + ", ".join(f"{int(size):,} B (its thumbnail at the station {int(thumb):,} B)" for size, thumb in photos))
    print(f"flask sync (exit {result.returncode}): {out.splitlines()[-1] if out else ''}")
    print(f"thumbnails the league serves: {thumbs_at_league}")
    sent = re.search(r"(\d+) bytes sent", out)
    if result.returncode or not sent:
        print(f"FAILED after {elapsed:.1f} s")
        return
    floor = int(sent.group(1)) / rate
    with sqlite3.connect(os.path.join(folder, "station", "kepai.sqlite3")) as conn:
        run = conn.execute("SELECT (julianday(finished_at) - julianday(started_at)) * 86400 "
                           "FROM sync_run ORDER BY id DESC LIMIT 1").fetchone()[0]
    print(f"bytes sent up {int(sent.group(1)):,}; bandwidth floor {floor:.1f} s")
    print(f"sync run {run:.1f} s = {run / floor:.2f}x the floor "
          f"(with the process's start: {elapsed:.1f} s = {elapsed / floor:.2f}x)")

if __name__ == "__main__":
    main()
