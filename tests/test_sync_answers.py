"""The station's side of a push: the upstream's answers are taken a whole batch at once
(``client._record_results``), as a pulled page is applied. What an answer says of a
record is adopted unless a later local edit of it is still waiting to go up; a conflict
an answer reports is recorded and stays open."""
from datetime import date

import pytest
from flask import g
from sqlalchemy import select

from app.core.extensions import db
from app.core.history import record_fields
from app.models import AuditEntry, OutboxEntry, Visit
from tests.settings import STATION
from tests.sync_helpers import station_and_league, sync

STAMPS = ("created_at", "created_by", "updated_at", "updated_by")


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path):
    yield from station_and_league(request.param, tmp_path, "answers")


def _reviewed_visit(app, sequence: int) -> str:
    """A visit that carries a review (a stale copy of one: the league authors reviews),
    as the demo's visits do."""
    with app.app_context():
        g.actor = "staff"
        visit = Visit(number=f"{STATION}-2026-{sequence:05d}", year=2026, sequence=sequence,
                      visited_on=date(2026, 5, 1), mode="onsite", problem="x", owner_node=STATION,
                      review_state="approved", review_comment="旧的审核")
        db.session.add(visit)
        db.session.commit()
        return visit.id


def _edit(app, visit_id: str, problem: str) -> None:
    with app.app_context():
        g.actor = "staff"
        db.session.get(Visit, visit_id).problem = problem
        db.session.commit()


def _station_view(app, visit_id: str) -> tuple[dict, list]:
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == visit_id)
                                   .order_by(AuditEntry.id)).all()
        return ({**record_fields(visit), "version": visit.version},
                [(a.actor, sorted(a.changes)) for a in audit])


def _league_view(app, visit_id: str) -> dict:
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        return {**record_fields(visit), "version": visit.version}


@pytest.mark.parametrize("batch_ops", [1, 500], ids=["a batch each", "one batch"])
def test_the_leagues_word_is_adopted_but_never_over_a_later_local_edit(nodes, batch_ops):
    """Created with a review, then edited before the push: the create's answer (the
    league's copy, without the review) must not put the old problem back while the edit
    waits; the edit's answer brings the final state. Another visit, created only, takes
    the league's copy at once."""
    station, league, transport = nodes
    station.config["SYNC_BATCH_OPS"] = batch_ops
    edited, plain = _reviewed_visit(station, 1), _reviewed_visit(station, 2)
    _edit(station, edited, "y")
    run = sync(station, transport)
    assert (run.applied, run.rejected, run.held) == (3, 0, 0)
    with station.app_context():
        assert db.session.scalar(select(OutboxEntry.seq).limit(1)) is None
    fields, audit = _station_view(station, plain)
    assert (fields["problem"], fields["review_state"], fields["review_comment"]) == ("x", "", "")
    assert fields == {**_league_view(league, plain), **{k: fields[k] for k in STAMPS}}
    assert [changes for actor, changes in audit if actor != "staff"] == \
        [["review_comment", "review_state"]], audit  # the league's review, adopted once
    fields, audit = _station_view(station, edited)
    assert fields["problem"] == "y" == _league_view(league, edited)["problem"]
    assert fields["version"] == _league_view(league, edited)["version"]
    assert [changes for actor, changes in audit if actor != "staff" and "problem" in changes] == [], audit


def test_a_second_push_answered_as_a_repeat_changes_nothing(nodes):
    station, league, transport = nodes
    visit_id = _reviewed_visit(station, 1)
    sync(station, transport)
    before = _station_view(station, visit_id)
    run = sync(station, transport)
    assert run.sent == 0
    assert _station_view(station, visit_id) == before
