"""Property: whatever the stations and the league do, and whatever the link does to
their messages (drop, lose the answer, duplicate, delay and replay out of order), and
whatever the league refuses for a while (children then held behind a refused parent),
once the link heals and the refused changes are sent again every outbox empties, every
UUID exists once, and every node agrees.

KEPAI_SOAK=N runs N examples instead of the suite's few (`make soak`)."""
import os
from datetime import date
from unittest import mock

from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.core.extensions import db
from app.models import Commissioner, OutboxEntry, Training, TrainingAttendee, utcnow
from app.sync import client, peers, server, services
from tests.sync_helpers import InProcess, make_node

STATIONS = {"s1": "150121-01", "s2": "150122-01"}
VALUES = ["甲", "乙", "丙", "13800000000", ""]
FAULTS = ["ok", "ok", "drop", "lose", "dup", "stash", "replay"]

step = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(sorted(STATIONS))),
    st.tuples(st.just("edit"), st.sampled_from(["s1", "s2", "league"]), st.integers(0, 30),
              st.sampled_from(["specialty", "phone", "name"]), st.sampled_from(VALUES)),
    st.tuples(st.just("delete"), st.sampled_from(["s1", "s2", "league"]), st.integers(0, 30)),
    st.tuples(st.just("sync"), st.sampled_from(sorted(STATIONS)),
              st.lists(st.sampled_from(FAULTS), max_size=8)),
    st.tuples(st.just("roster"), st.sampled_from(sorted(STATIONS))),
    st.tuples(st.just("refuse"), st.sampled_from(sorted(STATIONS)), st.integers(1, 3)),
    st.tuples(st.just("resend"), st.sampled_from(sorted(STATIONS))),
)

REFUSALS = {}  # node code: how many of its next operations the league refuses


def _refusing(real):
    def apply(node_code, op):
        if REFUSALS.get(node_code, 0) > 0:
            REFUSALS[node_code] -= 1
            raise server.refuse("database", "refused by the database: a passing fault")
        return real(node_code, op)
    return apply


class Faulty:
    """The link, misbehaving as the plan says, one fault per request."""

    def __init__(self, inner: InProcess, plan: list, stash: list):
        self.inner, self.plan, self.stash = inner, list(plan), stash

    def __call__(self, method, url, data, headers, timeout):
        fault = self.plan.pop(0) if self.plan else "ok"
        if fault == "drop":
            raise client.SyncError("upstream unreachable: dropped")
        if fault == "replay" and self.stash:
            old = self.stash.pop(0)
            self.inner(*old)  # a delayed copy arrives late, out of order
        answer = self.inner(method, url, data, headers, timeout)
        if fault == "stash" and method == "POST":
            self.stash.append((method, url, data, headers, timeout))
        if fault == "dup":
            answer = self.inner(method, url, data, headers, timeout)
        if fault == "lose":
            raise client.SyncError("upstream unreachable: answer lost")
        return answer


def _ids(app, owner=None, live=True):
    with app.app_context():
        stmt = select(Commissioner.id).order_by(Commissioner.created_at, Commissioner.id)
        if owner:
            stmt = stmt.where(Commissioner.owner_node == owner)
        if live:
            stmt = stmt.where(Commissioner.deleted_at.is_(None))
        return list(db.session.scalars(stmt))


def _state(app, owner):
    with app.app_context():
        db.session.remove()
        state = {c.id: (c.name, c.specialty, c.phone, c.deleted_at is not None, c.version)
                 for c in db.session.scalars(select(Commissioner).where(Commissioner.owner_node == owner))}
        state.update({t.id: (t.title, t.deleted_at is not None) for t in db.session.scalars(
            select(Training).where(Training.owner_node == owner))})
        state.update({a.id: (a.name, a.training_id) for a in db.session.scalars(
            select(TrainingAttendee).where(TrainingAttendee.owner_node == owner))})
        return state


def _sync(app, transport):
    with app.app_context():
        g.actor = "sync"
        try:
            client.sync_once("test", transport=transport)
        except client.SyncError:
            pass


@settings(max_examples=int(os.environ.get("KEPAI_SOAK", "8")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(step, max_size=30))
def test_nodes_converge_whatever_the_link_does(tmp_path_factory, steps):
    tmp = tmp_path_factory.mktemp("prop")
    league = make_node(tmp, "league", "league", "1501", "呼和浩特市")
    nodes = {"league": league}
    links = {}
    for name, code in STATIONS.items():
        nodes[name] = make_node(tmp, name, "station", code, name)
        with league.app_context():
            _, token = peers.enroll(code, name)
        with nodes[name].app_context():
            client.set_upstream("http://league.test", token)
        links[name] = InProcess(league)
    stash = []
    counter = 0
    REFUSALS.clear()
    patch = mock.patch.object(server, "_apply", _refusing(server._apply))
    patch.start()
    try:
        for action, who, *rest in steps:
            app = nodes[who]
            if action == "create":
                counter += 1
                with app.app_context():
                    g.actor = who
                    db.session.add(Commissioner(name=f"{who}-{counter}", owner_node=STATIONS[who]))
                    db.session.commit()
            elif action == "roster":  # a session and its roster, children first in the flush
                counter += 1
                with app.app_context():
                    g.actor = who
                    session = Training(title=f"{who}-培训{counter}", held_on=date(2026, 5, 1),
                                       owner_node=STATIONS[who])
                    session.id = str(__import__("uuid").uuid4())
                    db.session.add_all([TrainingAttendee(training_id=session.id, name=f"学员{i}",
                                                         owner_node=STATIONS[who]) for i in range(2)])
                    db.session.add(session)
                    db.session.commit()
            elif action == "refuse":
                REFUSALS[STATIONS[who]] = rest[0]
            elif action == "resend":
                with app.app_context():
                    services.retry_all()
            elif action in ("edit", "delete"):
                ids = _ids(app)
                if not ids:
                    continue
                with app.app_context():
                    g.actor = who
                    record = db.session.get(Commissioner, ids[rest[0] % len(ids)])
                    if action == "edit":
                        setattr(record, rest[1], rest[2] or f"{rest[2]}空")
                    else:
                        record.deleted_at = utcnow()
                    db.session.commit()
            else:
                _sync(app, Faulty(links[who], rest[0], stash))
        REFUSALS.clear()
        for name in STATIONS:  # the league takes everything again: send the refused again
            with nodes[name].app_context():
                services.retry_all()
        for _ in range(3):  # the link heals
            for name in STATIONS:
                _sync(nodes[name], links[name])
        for name, code in STATIONS.items():
            with nodes[name].app_context():
                left = db.session.scalars(select(OutboxEntry)).all()
                assert not left, [(e.action, e.reject_reason) for e in left]
            assert _state(nodes[name], code) == _state(league, code)
            other = next(c for n, c in STATIONS.items() if n != name)
            assert _state(nodes[name], other) == {}  # nobody sees another station's records
    finally:
        patch.stop()
        for app in nodes.values():
            with app.app_context():
                db.engine.dispose()
