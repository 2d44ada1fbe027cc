"""Real nodes for fault tests: each a waitress process on loopback with its own instance
folder (and database), started, killed with SIGKILL and restarted by the tests, plus
a proxy that can lose an answer after the upstream has handled the request."""
import http.server
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request

import psycopg

from app import create_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres(url: str, name: str) -> str:
    """A new, empty PostgreSQL database beside the test one; returns its SQLAlchemy URL."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class Node:
    def __init__(self, folder, role: str, code: str, name: str, database_url: str | None = None):
        self.folder, self.role, self.code = folder, role, code
        os.makedirs(folder, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("KEPAI_") and k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
        self.env.update(KEPAI_INSTANCE=str(folder), FLASK_APP="wsgi", PYTHONUNBUFFERED="1",
                        KEPAI_SQLITE_SYNCHRONOUS=os.environ.get("KEPAI_SQLITE_SYNCHRONOUS", "FULL"),
                        KEPAI_SYNC_AUTO="false", KEPAI_BACKUP_DAILY="false")
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.database_url = database_url or f"sqlite:///{folder}/kepai.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.flask("db", "upgrade")
        self.flask("node", "init", "--role", role, "--code", code, "--name", name)

    def flask(self, *args, stdin=None, check=True, timeout=300):
        result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env,
                                input=stdin, capture_output=True, text=True, timeout=timeout)
        if check:
            assert result.returncode == 0, f"flask {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    def start_flask(self, *args) -> subprocess.Popen:
        """A flask command in the background (to be killed mid-way)."""
        return subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def start(self):
        log = open(os.path.join(self.folder, "waitress.log"), "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={self.port}",
             "--threads=4", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(self.folder, "waitress.log")) as log:
                        raise RuntimeError(log.read()) from None
                time.sleep(0.1)

    def kill(self):
        """SIGKILL: no shutdown, no flush, as when the power goes."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def enroll(self, code: str, name: str) -> str:
        out = self.flask("nodes", "enroll", "--code", code, "--name", name).stdout
        return out.rsplit(" ", 1)[-1].strip()


class LosingProxy:
    """Forwards HTTP to an upstream; while ``lose`` names a path, the upstream handles
    the request but the client's connection is cut before the answer reaches it."""

    def __init__(self, upstream_url: str):
        self.upstream_url = upstream_url
        self.lose = set()
        self.lost = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                request = urllib.request.Request(proxy.upstream_url + self.path, data=body,
                                                 method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, answer = response.status, response.read()
                        answer_headers = response.headers.items()
                except urllib.error.HTTPError as exc:
                    status, answer, answer_headers = exc.code, exc.read(), exc.headers.items()
                path = self.path.split("?")[0]
                if any(path.endswith(p) for p in proxy.lose):
                    proxy.lose = {p for p in proxy.lose if not path.endswith(p)}
                    proxy.lost += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for key, value in answer_headers:
                    if key.lower() not in ("content-length", "connection", "transfer-encoding",
                                           "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def app_for(node: Node):
    """An in-process app on a node's database (as another process on the same data)."""
    previous = os.environ.get("KEPAI_INSTANCE")
    os.environ["KEPAI_INSTANCE"] = str(node.folder)
    try:
        return create_app({"SQLALCHEMY_DATABASE_URI": node.database_url, "SYNC_AUTO": False})
    finally:
        os.environ.pop("KEPAI_INSTANCE") if previous is None else \
            os.environ.__setitem__("KEPAI_INSTANCE", previous)
