"""Agreements travel upstream by declaration: the agreement, its parties with their
shares, its payouts to the fen, and a removed party as a tombstone."""
from datetime import date

from flask import g
from sqlalchemy import select

from app.agreements import services
from app.core.extensions import db
from app.models import Agreement, AgreementParty, Commissioner, Payout, ServiceTarget
from tests.settings import STATION
from tests.sync_helpers import sync


def _people(app):
    with app.app_context():
        g.actor = "staff"
        people = [Commissioner(name=n, owner_node=STATION) for n in ("王建国", "其木格", "张三")]
        target = ServiceTarget(name="把什村合作社", kind="coop", owner_node=STATION)
        db.session.add_all([*people, target])
        db.session.commit()
        return [p.id for p in people], target.id


def _record(app, people, target):
    with app.app_context():
        g.actor = "staff"
        agreement = services.save(None, {
            "number": "LY2025-0001", "title": "技术入股", "form": "technology_equity",
            "counterpart_id": target, "valuation_fen": 5000050, "stake_bp": 1250,
            "starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31),
            "parties": [(people[0], 5000), (people[1], 3000), (people[2], 2000)]}, STATION)
        services.transition(agreement, "signed", date(2024, 12, 20))
        services.transition(agreement, "in_force", date(2025, 1, 1))
        services.save_payout(agreement, None, {"paid_on": date(2025, 6, 30), "amount_fen": 100005,
                                               "kind": "dividend", "payee_id": people[0],
                                               "note": "", "out_of_term_reason": ""})
        return agreement.id


def test_agreement_parties_and_payouts_reach_the_league(nodes):
    station, league, transport = nodes
    people, target = _people(station)
    aid = _record(station, people, target)
    run = sync(station, transport)
    assert run.rejected == 0 and run.applied == run.sent
    with league.app_context():
        agreement = db.session.get(Agreement, aid)
        assert (agreement.status, agreement.valuation_fen, agreement.stake_bp) == ("in_force", 5000050, 1250)
        assert sorted(p.share_bp for p in agreement.parties) == [2000, 3000, 5000]
        assert [p.amount_fen for p in agreement.payouts] == [100005]
        assert {p.owner_node for p in agreement.parties} == {STATION}

    with station.app_context():
        g.actor = "staff"
        agreement = db.session.get(Agreement, aid)
        services.save(agreement, {"title": agreement.title,
                                  "parties": [(people[0], 6000), (people[1], 4000)]}, STATION)
    run = sync(station, transport)
    assert run.rejected == 0
    with league.app_context():
        agreement = db.session.get(Agreement, aid)
        assert sorted(p.share_bp for p in agreement.parties) == [4000, 6000]
        assert agreement.number == "LY2025-0001"  # an edit without a number keeps it
        gone = db.session.scalar(select(AgreementParty).where(AgreementParty.commissioner_id == people[2]))
        assert gone is not None and gone.deleted_at is not None  # a tombstone, not a hole
        assert db.session.scalar(select(Payout.amount_fen)) == 100005
