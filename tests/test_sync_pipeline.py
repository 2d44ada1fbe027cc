"""The station's side of a push without idling (issue 11 item 4): one kept-alive HTTP
connection for a run, and batch n+1 built (and batch n-1's answers recorded) while the
upstream applies batch n, with answers still recorded in order and exactly once. The
pull likewise: page n+1 asked for while page n is applied, each page committed with its
checkpoint or not at all. The league runs on SQLite, and on PostgreSQL too when
TEST_DATABASE_URL is set."""
import http.server
import socket
import socketserver
import threading

import pytest
from flask import g
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Commissioner, OutboxEntry, SyncRun
from app.sync import client, wire
from tests.sync_helpers import station_and_league, sync

STATION = "150121-01"


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path):
    yield from station_and_league(request.param, tmp_path, "pipeline")


def add_commissioners(app, n: int) -> list[str]:
    with app.app_context():
        g.actor = "staff"
        people = [Commissioner(name=f"特派员{i:02d}", specialty="肉羊", owner_node=STATION) for i in range(n)]
        db.session.add_all(people)
        db.session.commit()
        return [p.id for p in people]


def outbox_ids(app) -> set:
    with app.app_context():
        return set(db.session.scalars(select(OutboxEntry.record_id)))


class Recorder:
    """Wraps a transport: notes each push's operations, and can hold the first push's
    request until the station has built the second batch (which it can only do while
    the first is in flight), or fail a given push."""

    def __init__(self, inner, hold_first_until_built=None, fail_push=None):
        self.inner, self.hold, self.fail_push = inner, hold_first_until_built, fail_push
        self.pushes, self.waited = [], None

    def __call__(self, method, url, data, headers, timeout):
        if url.endswith("/push"):
            self.pushes.append(wire.unpack(data, "gzip")["ops"])
            if len(self.pushes) == 1 and self.hold is not None:
                self.waited = self.hold.wait(30)  # set once batch 2 exists; never, if sends were sequential
            if len(self.pushes) == self.fail_push:
                raise client.SyncError("upstream unreachable: connection reset")
        return self.inner(method, url, data, headers, timeout)


def test_the_next_batch_is_built_while_a_batch_is_in_flight(nodes, monkeypatch):
    station, league, transport = nodes
    ids = add_commissioners(station, 12)
    monkeypatch.setattr(wire, "BATCH_OPS", 5)
    built, real_batches = threading.Event(), client._batches

    def batches(seqs):
        for number, ops in enumerate(real_batches(seqs), 1):
            if number == 2:
                built.set()
            yield ops
    monkeypatch.setattr(client, "_batches", batches)
    recorded, real_record = [], client._record_results

    def record(ops, results, run, upstream_code):
        recorded.append([op["id"] for op in ops])
        return real_record(ops, results, run, upstream_code)
    monkeypatch.setattr(client, "_record_results", record)
    recorder = Recorder(transport, hold_first_until_built=built)

    run = sync(station, recorder)

    assert recorder.waited is True  # batch 2 was built while batch 1's request was out
    assert [len(ops) for ops in recorder.pushes] == [5, 5, 2]
    assert recorded == [[op["id"] for op in ops] for ops in recorder.pushes]  # in order, once each
    assert sorted(i for batch in recorded for i in batch) == sorted(ids)
    assert (run.sent, run.applied, run.duplicates, run.rejected, run.error) == (12, 12, 0, 0, "")
    assert outbox_ids(station) == set()
    with league.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commissioner)
                                 .where(Commissioner.id.in_(ids))) == 12


def test_a_failed_request_leaves_its_batch_and_the_rest_for_the_next_run(nodes, monkeypatch):
    """Batch 1 answered and recorded; batch 2's request fails (batch 3 is built by then,
    never sent): 2 and 3 stay in the outbox, and the next run sends them once."""
    station, league, transport = nodes
    ids = add_commissioners(station, 12)
    monkeypatch.setattr(wire, "BATCH_OPS", 5)
    recorder = Recorder(transport, fail_push=2)
    with pytest.raises(client.SyncError, match="connection reset"):
        sync(station, recorder)
    first = {op["id"] for op in recorder.pushes[0]}
    assert len(recorder.pushes) == 2
    assert outbox_ids(station) == set(ids) - first
    with station.app_context():
        run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert (run.sent, run.applied) == (5, 5) and "connection reset" in run.error

    run = sync(station, transport)
    assert (run.sent, run.applied, run.duplicates, run.rejected) == (7, 7, 0, 0)
    assert outbox_ids(station) == set()


# The pull: the next page asked for while a page is applied ---------------------------

def _noted_by_league(station, league, transport, n: int) -> list[str]:
    """n commissioners made at the station and synced, then noted at the league: n
    changes for the station to pull."""
    ids = add_commissioners(station, n)
    sync(station, transport)
    with league.app_context():
        g.actor = "reviewer"
        for person in db.session.scalars(select(Commissioner).where(Commissioner.id.in_(ids))):
            person.notes = "盟里补注"
        db.session.commit()
    return ids


def _noted(station, ids) -> set:
    with station.app_context():
        return set(db.session.scalars(select(Commissioner.id).where(
            Commissioner.id.in_(ids), Commissioner.notes == "盟里补注")))


def _checkpoint(station) -> int:
    with station.app_context():
        return client.upstream().pull_checkpoint


class PageAsked:
    """Wraps a transport: counts the pulled pages asked for, and sets ``second`` when
    the second is asked for."""

    def __init__(self, inner):
        self.inner, self.asked, self.second = inner, 0, threading.Event()

    def __call__(self, method, url, data, headers, timeout):
        if "/changes" in url:
            self.asked += 1
            if self.asked == 2:
                self.second.set()
        return self.inner(method, url, data, headers, timeout)


def test_the_next_page_is_asked_for_while_a_page_is_applied(nodes, monkeypatch):
    station, league, transport = nodes
    ids = _noted_by_league(station, league, transport, 12)
    monkeypatch.setattr(wire, "PULL_LIMIT", 5)
    asked, real_apply, waited = PageAsked(transport), client.apply_page, []

    def apply_page(changes, upstream_code):
        if not waited:  # the first page: page 2 is asked for meanwhile (never, if sequential)
            waited.append(asked.second.wait(10))
        return real_apply(changes, upstream_code)
    monkeypatch.setattr(client, "apply_page", apply_page)

    run = sync(station, asked)
    assert waited == [True]
    assert run.pulled == 12 and asked.asked == 3  # pages of 5, 5 and 2
    assert _noted(station, ids) == set(ids)


def test_a_page_that_fails_to_apply_is_not_committed_nor_its_checkpoint(nodes, monkeypatch):
    """Page 1 applied and committed; applying page 2 fails (page 3 was asked for
    meanwhile, and is dropped): the checkpoint is page 1's, and the next run pulls
    pages 2 and 3."""
    station, league, transport = nodes
    ids = _noted_by_league(station, league, transport, 12)
    before = _checkpoint(station)
    monkeypatch.setattr(wire, "PULL_LIMIT", 5)
    real_apply, applied = client.apply_page, []

    def apply_page(changes, upstream_code):
        applied.append([c["id"] for c in changes])
        if len(applied) == 2:
            raise RuntimeError("disk full")
        return real_apply(changes, upstream_code)
    monkeypatch.setattr(client, "apply_page", apply_page)
    with pytest.raises(RuntimeError, match="disk full"):
        sync(station, transport)
    assert _noted(station, ids) == set(applied[0])
    assert before < _checkpoint(station)
    monkeypatch.setattr(client, "apply_page", real_apply)

    run = sync(station, transport)
    assert run.pulled == 7
    assert _noted(station, ids) == set(ids)


# The kept-alive connection -------------------------------------------------------

class Upstream:
    """A loopback HTTP/1.1 server that counts connections and requests; ``drop_after``
    closes a connection after that many answers without saying so (as an idle timeout
    does), ``cut`` closes the next request's connection without answering."""

    def __init__(self):
        self.connections = self.requests = 0
        self.drop_after, self.cut = None, False
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                upstream.connections += 1
                self.answered = 0

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.requests += 1
                if upstream.cut:
                    upstream.cut = False
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                answer = b'{"echo": %d}' % len(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                self.answered += 1
                if upstream.drop_after and self.answered >= upstream.drop_after:
                    self.close_connection = True

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/sync/v1/push"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    server = Upstream()
    yield server
    server.close()


def send(transport, url, body=b"x" * 100):
    return transport("POST", url, body, {"Content-Type": "application/json"}, 10)


def test_one_connection_serves_every_request_of_a_run(upstream):
    transport = client.HttpTransport()
    answers = [send(transport, upstream.url, b"x" * n) for n in (10, 20, 30, 40)]
    transport.close()
    assert [a[0] for a in answers] == [200] * 4
    assert [a[2] for a in answers] == [b'{"echo": %d}' % n for n in (10, 20, 30, 40)]
    assert (upstream.connections, upstream.requests, transport.opened) == (1, 4, 1)


def test_a_connection_the_upstream_closed_is_opened_again(upstream):
    upstream.drop_after = 2
    transport = client.HttpTransport()
    answers = [send(transport, upstream.url) for _ in range(5)]
    transport.close()
    assert [a[0] for a in answers] == [200] * 5
    assert upstream.requests == 5  # none sent twice to the upstream's handler
    assert upstream.connections == transport.opened == 3


def test_a_request_cut_on_a_new_connection_is_not_repeated(upstream):
    upstream.cut = True
    transport = client.HttpTransport()
    with pytest.raises(client.SyncError, match="upstream unreachable"):
        send(transport, upstream.url)
    assert upstream.requests == 1  # a new connection failing is the upstream's failure: no retry
    assert send(transport, upstream.url)[0] == 200  # the next request opens a new one
    transport.close()
    assert transport.opened == 2


def test_an_unreachable_upstream_is_a_sync_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(client.SyncError, match="upstream unreachable"):
        send(client.HttpTransport(), f"http://127.0.0.1:{port}/api/sync/v1/hello")
