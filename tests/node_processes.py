"""Real nodes for fault tests: each a waitress process on loopback with its own instance
folder (and database), started, killed with SIGKILL and restarted by the tests, plus
a proxy that can lose an answer after the upstream has handled the request.

A node's database starts as a copy of a template that the real commands made (`flask db
upgrade`, then `flask node init`), once per test process for each identity: a copied
SQLite file, or on PostgreSQL ``CREATE DATABASE ... TEMPLATE``. Running every migration
in a new process for every node cost the fault tests most of their time; ``fresh=True``
runs the commands for the node itself."""
import atexit
import hashlib
import http.server
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import create_app
from tests.settings import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQLITE_FILES = ("kepai.sqlite3", "kepai.sqlite3-wal", "kepai.sqlite3-shm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _plain(url) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sibling_database(url: str, suffix: str) -> str:
    """The name of a database beside ``url``'s, named after it (so that two suites on one
    server, or two workers, never share one)."""
    return f"{make_url(url).database}_{suffix}"[:63]


def beside(url: str, suffix: str) -> str:
    """The SQLAlchemy URL of a database beside ``url``'s (see ``sibling_database``)."""
    return make_url(url).set(database=sibling_database(url, suffix)).render_as_string(hide_password=False)


def fresh_postgres(url: str, name: str, template: str | None = None) -> str:
    """A new PostgreSQL database beside the test one, empty or a copy of ``template``;
    returns its SQLAlchemy URL."""
    with psycopg.connect(_plain(make_url(url).set(database="postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def league_database(kind: str, name: str) -> str | None:
    """The database of a league for a test parametrized over ``kind``: None (SQLite, in
    its instance folder) or a fresh PostgreSQL database ``name`` beside the suite's
    (the test is skipped without TEST_DATABASE_URL)."""
    if kind == "sqlite":
        return None
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL")
    return fresh_postgres(url, sibling_database(url, name))


def node_env(folder, database_url: str | None = None) -> dict:
    """The environment of a node's processes: its instance folder (and database), no
    automatic sync or backup, nothing of the test process's own settings, and a patient
    sync client (a loaded CI machine can take longer than a station's 30 s to answer;
    no test here waits on a timeout)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEPAI_") and k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(KEPAI_INSTANCE=str(folder), FLASK_APP="wsgi", PYTHONUNBUFFERED="1",
               KEPAI_SQLITE_SYNCHRONOUS=os.environ.get("KEPAI_SQLITE_SYNCHRONOUS", "FULL"),
               KEPAI_SYNC_AUTO="false", KEPAI_BACKUP_DAILY="false", KEPAI_SYNC_TIMEOUT="180")
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_flask(env, *args, stdin=None, check=True, timeout=300):
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"flask {' '.join(args)}: {result.stdout}{result.stderr}"
    return result


_templates: dict = {}
_template_folder = None


def template(role: str, code: str, name: str, postgres_url: str | None = None) -> str:
    """A node's database as `flask db upgrade` and `flask node init` leave it, made once per
    test process: a SQLite file's path, or (given ``postgres_url``, a database beside which
    to make it) a PostgreSQL database's name."""
    global _template_folder
    key = (role, code, name, postgres_url and make_url(postgres_url).database)
    if key in _templates:
        return _templates[key]
    if _template_folder is None:
        _template_folder = tempfile.mkdtemp(prefix="kepai-node-templates-")
        atexit.register(shutil.rmtree, _template_folder, True)
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:8]
    folder = os.path.join(_template_folder, digest)
    database_url = None
    if postgres_url:
        database_url = fresh_postgres(postgres_url, sibling_database(postgres_url, f"tpl{digest}"))
    env = node_env(folder, database_url)
    run_flask(env, "db", "upgrade")
    run_flask(env, "node", "init", "--role", role, "--code", code, "--name", name)
    _templates[key] = make_url(database_url).database if database_url else \
        os.path.join(folder, SQLITE_FILES[0])
    return _templates[key]


class Node:
    def __init__(self, folder, role: str, code: str, name: str, database_url: str | None = None,
                 fresh: bool = False):
        """A node set up as `flask db upgrade` and `flask node init` set it up: by running
        them (``fresh``), else from a copy of the template they made."""
        self.folder, self.role, self.code = folder, role, code
        os.makedirs(folder, exist_ok=True)
        self.env = node_env(folder, database_url)
        self.database_url = database_url or f"sqlite:///{folder}/kepai.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self._app = None
        if fresh:
            self.flask("db", "upgrade")
            self.flask("node", "init", "--role", role, "--code", code, "--name", name)
        elif database_url:
            url = make_url(database_url)
            fresh_postgres(database_url, url.database, template(role, code, name, database_url))
        else:
            made = template(role, code, name)
            for file in SQLITE_FILES:
                source = os.path.join(os.path.dirname(made), file)
                if os.path.exists(source):
                    shutil.copy(source, os.path.join(folder, file))

    def flask(self, *args, stdin=None, check=True, timeout=300):
        """A flask command in a new process (as an operator runs it)."""
        return run_flask(self.env, *args, stdin=stdin, check=check, timeout=timeout)

    @property
    def app(self):
        """An in-process app on this node's database and instance folder."""
        if self._app is None:
            self._app = app_for(self)
        return self._app

    def cli(self, *args) -> str:
        """A flask command run in this process on the node's app (the same command code
        without a new process: for setting up what a test does not test); its output."""
        from app.core.extensions import db
        result = self.app.test_cli_runner().invoke(args=list(args))
        with self.app.app_context():
            db.session.remove()
        assert result.exit_code == 0, f"flask {' '.join(args)}: {result.output}{result.exception!r}"
        return result.output

    def start_flask(self, *args) -> subprocess.Popen:
        """A flask command in the background (to be killed mid-way)."""
        return subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def start(self, threads: int = 4):
        log = open(os.path.join(self.folder, "waitress.log"), "a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={self.port}",
             f"--threads={threads}", "wsgi:app"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
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

    def enroll(self, code: str, name: str, process: bool = False) -> str:
        """`flask nodes enroll` (in a new process if ``process``); the token it printed."""
        args = ("nodes", "enroll", "--code", code, "--name", name)
        out = self.flask(*args).stdout if process else self.cli(*args)
        return out.rsplit(" ", 1)[-1].strip()

    def close(self):
        """Kill the process and let go of the in-process app's connections."""
        self.kill()
        if self._app is not None:
            from app.core.extensions import db
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()


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


def ensure_user(app, username: str, role: str, code: str) -> None:
    """A user of that role at that node (password ``settings.PASSWORD``), made if missing."""
    from flask import g
    from sqlalchemy import select

    from app.auth.services import create_user
    from app.core.extensions import db
    from app.models import User
    with app.app_context():
        g.actor = "test"
        if db.session.scalar(select(User).where(User.username == username)) is None:
            create_user(username=username, password=PASSWORD, role=role, node_code=code)
        db.session.remove()


def as_user(app, username: str, work):
    """Run ``work()`` in a request as that (existing) user."""
    from flask_login import login_user
    from sqlalchemy import select

    from app.core.extensions import db
    from app.models import User
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == username)))
        try:
            return work()
        finally:
            db.session.remove()
