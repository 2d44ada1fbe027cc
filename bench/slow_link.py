"""Photos over a slow link: a station sends photos of ~300 KB to its league through a
local proxy that throttles to 64 kbit/s with a 300 ms round trip, with the default
settings (SYNC_TIMEOUT 30 s), and the time is compared with the bandwidth floor.

    .venv/bin/python bench/slow_link.py [--photos 1] [--kbit 64] [--rtt 0.3]

Both nodes are real processes (the league a waitress server, the station `flask sync`);
the proxy (``ThrottlingProxy``) runs here. It delays every connection by one round trip
(the TCP handshake), every request and answer by half of one, and lets bytes through at
the link's rate in each direction, one link for all connections. The floor is the bytes
the sync run sent up (bodies and file chunks, as the station counts them) at that rate.
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

ADD_PHOTOS = """
import io, random, sys
from flask import g
from PIL import Image
from werkzeug.datastructures import FileStorage
from app import create_app
from app.core import attachments
from app.core.extensions import db
from app.models import Commissioner
app = create_app()
with app.test_request_context():
    g.actor = "bench"
    c = Commissioner(name="王建国", owner_node="150121-01")
    db.session.add(c)
    db.session.flush()
    for i in range(int(sys.argv[1])):
        raw = io.BytesIO()
        noise = random.Random(i).randbytes(700 * 700 * 3)
        Image.frombytes("RGB", (700, 700), noise).save(raw, "JPEG", quality=92)
        photo = attachments.add(c, FileStorage(io.BytesIO(raw.getvalue()), filename=f"{i}.jpg"))
        print(photo.size)
    db.session.commit()
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
    parser.add_argument("--photos", type=int, default=1)
    parser.add_argument("--kbit", type=float, default=64)
    parser.add_argument("--rtt", type=float, default=0.3)
    args = parser.parse_args()
    rate = args.kbit * 1000 / 8
    folder = tempfile.mkdtemp(prefix="kepai-bench-slow-")
    league = Node(os.path.join(folder, "league"), "league", "1501", "呼和浩特市科技局").start()
    station = Node(os.path.join(folder, "station"), "station", "150121-01", "土默特左旗科技特派员工作站")
    sizes = subprocess.run([sys.executable, "-c", ADD_PHOTOS, str(args.photos)], cwd=ROOT,
                           env=station.env, capture_output=True, text=True, check=True).stdout.split()
    proxy = ThrottlingProxy(league.url, rate, args.rtt)
    token = league.enroll("150121-01", "土默特左旗科技特派员工作站")
    station.flask("upstream", "set", "--url", proxy.url, "--token", token)
    started = time.monotonic()
    result = station.flask("sync", check=False, timeout=3600)
    elapsed = time.monotonic() - started
    proxy.close()
    league.stop()
    out = (result.stdout + result.stderr).strip()
    print(f"link {args.kbit:g} kbit/s ({rate:.0f} B/s each way), round trip {args.rtt * 1000:.0f} ms; "
          f"photos: {', '.join(f'{int(s):,} B' for s in sizes)} (+ thumbnails)")
    print(f"flask sync (exit {result.returncode}): {out.splitlines()[-1] if out else ''}")
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
