"""Benefit-sharing agreements: recording, bad input, the life cycle, parties and shares."""
from datetime import date, timedelta

import pytest
from flask import g
from sqlalchemy import select

from app.agreements import services
from app.core.extensions import db
from app.models import Agreement, AgreementParty, AuditEntry, OutboxEntry
from tests.factories import agreement_form, agreement_people, count, create_agreement

STATION = "150121-01"


def test_create_keeps_exact_money_parties_and_writes_outbox(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    with app.app_context():
        agreement = db.session.get(Agreement, aid)
        assert agreement.valuation_fen == 5000050 and agreement.stake_bp == 1250
        assert agreement.status == "draft" and agreement.owner_node == STATION
        assert agreement.number.startswith(f"LY{date.today().year}-")
        assert {(p.commissioner_id, p.share_bp) for p in agreement.parties} == {(a, 6000), (b, 4000)}
        kinds = db.session.scalars(select(OutboxEntry.record_type).order_by(OutboxEntry.seq)).all()
        assert kinds.count("agreement_party") == 2
        assert kinds.index("agreement") < kinds.index("agreement_party")  # parent first
    page = client.get(f"/agreements/{aid}").get_data(as_text=True)
    assert "50,000.50" in page and "12.5%" in page and "60%" in page


@pytest.mark.parametrize("change, field_words", [
    ({"stake_bp": "120"}, "100"),
    ({"stake_bp": "-5"}, "negative"),
    ({"parties-1-share_bp": "30"}, "100%"),
    ({"ends_on": "2024-06-01"}, "end date"),
    ({"valuation_fen": "1,00.5"}, "three digits"),
    ({"valuation_fen": "1.005"}, "two decimal"),
    ({"valuation_fen": "1e3"}, "such as"),
    ({"parties-1-commissioner_id": "", "parties-0-commissioner_id": ""}, "at least one"),
    ({"parties-1-share_bp": ""}, "share"),
    ({"title": ""}, "required"),
])
def test_bad_input_is_422_with_a_message_and_writes_nothing(app, login, change, field_words):
    client = login("staff")
    client.post("/language", data={"lang": "en"})
    a, b, t = agreement_people(app)
    before = count(app, OutboxEntry)
    response = client.post("/agreements/new", data=agreement_form(a, b, t, **change))
    assert response.status_code == 422
    assert field_words in response.get_data(as_text=True)
    assert count(app, Agreement) == 0 and count(app, AgreementParty) == 0
    assert count(app, OutboxEntry) == before


def test_same_commissioner_twice_is_refused(app, login):
    client = login("staff")
    a, b, t = agreement_people(app)
    response = client.post("/agreements/new", data=agreement_form(a, b, t, **{"parties-1-commissioner_id": a}))
    assert response.status_code == 422 and count(app, Agreement) == 0


def test_lone_party_holds_everything(app, login):
    client = login("staff")
    a, b, t = agreement_people(app)
    data = agreement_form(a, b, t, **{"parties-1-commissioner_id": "", "parties-0-share_bp": ""})
    assert client.post("/agreements/new", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AgreementParty.share_bp)) == 10000


def test_duplicate_number_is_refused(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client, number="LY-001")
    response = client.post("/agreements/new", data=agreement_form(a, b, t, number="LY-001"))
    assert response.status_code == 422 and count(app, Agreement) == 1


def test_edit_replaces_parties_with_tombstones(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    data = agreement_form(a, b, t, **{"parties-1-commissioner_id": "", "parties-0-share_bp": "100"})
    assert client.post(f"/agreements/{aid}/edit", data=data).status_code == 302
    with app.app_context():
        agreement = db.session.get(Agreement, aid)
        assert [(p.commissioner_id, p.share_bp) for p in agreement.parties] == [(a, 10000)]
        gone = db.session.scalar(select(AgreementParty).where(AgreementParty.commissioner_id == b))
        assert gone.deleted_at is not None
        assert db.session.scalar(select(OutboxEntry.action).where(
            OutboxEntry.record_id == gone.id).order_by(OutboxEntry.seq.desc()).limit(1)) == "delete"
    assert client.post(f"/agreements/{aid}/edit", data=agreement_form(a, b, t)).status_code == 302
    with app.app_context():
        assert count(app, AgreementParty) == 2  # the returning party was restored, not re-made
        assert len(db.session.get(Agreement, aid).parties) == 2


def _step(client, aid, to, on, reason=""):
    return client.post(f"/agreements/{aid}/step/{to}", data={"on": on, "reason": reason})


def test_life_cycle_allows_only_its_steps(app, login):
    client = login("staff")
    aid, _ = create_agreement(app, client)
    assert _step(client, aid, "in_force", "2025-01-01").status_code == 422  # draft cannot
    assert _step(client, aid, "ended", "2025-01-01").status_code == 422
    assert _step(client, aid, "signed", "2024-12-20").status_code == 302
    assert _step(client, aid, "signed", "2024-12-21").status_code == 422  # not twice
    assert _step(client, aid, "in_force", "2024-12-01").status_code == 422  # before signing
    assert _step(client, aid, "in_force", "2025-01-01").status_code == 302
    assert _step(client, aid, "ended", "2025-06-01").status_code == 422  # early end = terminate
    assert _step(client, aid, "terminated", "2025-06-01").status_code == 422  # needs a reason
    assert _step(client, aid, "terminated", "2025-06-01", "合作社解散").status_code == 302
    with app.app_context():
        agreement = db.session.get(Agreement, aid)
        assert (agreement.status, agreement.signed_on, agreement.terminated_on) == \
            ("terminated", date(2024, 12, 20), date(2025, 6, 1))
        assert agreement.termination_reason == "合作社解散"
        statuses = [e.changes["status"][1] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.record_id == aid).order_by(AuditEntry.id))
            if "status" in e.changes]
        assert statuses == ["draft", "signed", "in_force", "terminated"]
    for to in ("signed", "in_force", "ended", "terminated"):
        assert _step(client, aid, to, "2025-07-01", "x").status_code == 422
    assert "合作社解散" in client.get(f"/agreements/{aid}").get_data(as_text=True)


def test_step_page_confirms_and_unknown_step_is_404(app, login):
    client = login("staff")
    aid, _ = create_agreement(app, client)
    page = client.get(f"/agreements/{aid}/step/signed")
    assert page.status_code == 200 and 'name="on"' in page.get_data(as_text=True)
    assert client.get(f"/agreements/{aid}/step/bogus").status_code == 404


def test_future_dates_and_end_rules(app):
    with app.test_request_context():
        agreement = Agreement(status="in_force", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31))
        assert "on" in services.transition_errors(agreement, "ended", date.today() + timedelta(days=3), "")
        assert services.transition_errors(agreement, "ended", date(2025, 12, 31), "") == {}
        assert "to" in services.transition_errors(agreement, "signed", date(2025, 1, 1), "")


def test_transitions_are_declared_once():
    assert services.TRANSITIONS == {
        "draft": ("signed",), "signed": ("in_force", "terminated"),
        "in_force": ("ended", "terminated"), "ended": (), "terminated": ()}


def test_other_nodes_agreements_are_404(app, login):
    a, b, t = agreement_people(app, owner="150122-01")
    with app.app_context():
        g.actor = "test"
        other = Agreement(number="X-1", title="别处的", form="paid_service", owner_node="150122-01")
        db.session.add(other)
        db.session.commit()
        oid = other.id
    client = login("staff")
    assert client.get(f"/agreements/{oid}").status_code == 404
    assert client.post(f"/agreements/{oid}/step/signed", data={"on": "2025-01-01"}).status_code == 404
    assert "别处的" not in client.get("/agreements/").get_data(as_text=True)
    # another node's commissioner cannot be made a party here
    a2, b2, t2 = agreement_people(app)
    response = client.post("/agreements/new", data=agreement_form(a, b2, t2))
    assert response.status_code == 422


def test_delete_and_restore(app, login):
    client = login("staff")
    aid, _ = create_agreement(app, client)
    assert client.post(f"/agreements/{aid}/delete").status_code == 302
    assert client.get(f"/agreements/{aid}").status_code == 404
    assert client.post(f"/agreements/{aid}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert admin.post(f"/agreements/{aid}/restore").status_code == 302
    assert admin.get(f"/agreements/{aid}").status_code == 200


def test_reviewer_cannot_write(app, login):
    a, b, t = agreement_people(app)
    client = login("reviewer")
    assert client.post("/agreements/new", data=agreement_form(a, b, t)).status_code == 403
