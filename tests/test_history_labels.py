"""The history on a record's page reads in words: every field by its form label, values
as words, bookkeeping left out; never a model's raw key (``trainers``, ``owner_node``)."""
import re

import pytest
from flask import g
from sqlalchemy import inspect, select

from app.agreements.forms import history_labels as agreement_labels
from app.agreements.forms import payout_history_labels
from app.commissioners.forms import CommissionerForm
from app.core.extensions import db
from app.models import (
    Agreement,  # noqa: E402,I001  (kept beside the others it pairs with)
    Commissioner,
    Payout,
    ServiceTarget,
    ServiceTeam,
    Station,
    Training,
    TrainingAttendee,
    Visit,
)
from app.stations.forms import StationForm
from app.targets.forms import TargetForm
from app.teams.forms import TeamForm
from app.trainings.forms import attendee_history_labels
from app.trainings.forms import history_labels as training_labels
from app.visits.forms import history_labels as visit_labels
from app.web import history
from app.web.forms import field_labels
from app.web.templating import audit_value
from tests.factories import create_agreement, create_training, head_counts, training_form, visit_form

LABELS = [(Visit, visit_labels), (Training, training_labels), (Agreement, agreement_labels),
          (Payout, payout_history_labels), (TrainingAttendee, attendee_history_labels),
          (Commissioner, lambda: field_labels(CommissionerForm)),
          (ServiceTarget, lambda: field_labels(TargetForm)),
          (Station, lambda: field_labels(StationForm)), (ServiceTeam, lambda: field_labels(TeamForm))]


@pytest.mark.parametrize("model, labels", LABELS, ids=[m.__name__ for m, _ in LABELS])
def test_every_audited_field_has_a_label(app, model, labels):
    with app.test_request_context():
        shown = labels()
        missing = sorted(key for key in history.audited_keys(model) if not history.label(shown, key))
    assert missing == []


def test_bookkeeping_is_not_shown():
    for key in ("owner_node", "version", "created_at", "updated_at", "deleted_at"):
        assert not history.shown(key)
    assert history.shown("title")


def test_values_read_as_words(app):
    with app.test_request_context():
        categories = {"farmer": "农民", "village_secretary": "村干部"}
        assert audit_value({"farmer": 10, "village_secretary": 2, "other": 0}, categories) == "农民 10、村干部 2"
        assert audit_value({}, categories) == "—"
        assert audit_value(True) in ("是", "Yes")
        assert history.label({"trainer_ids": "培训讲师"}, "trainers") == "培训讲师"
        assert history.label({"village_id": "嘎查村"}, "village") == "嘎查村"


def _history_labels(html: str) -> list[str]:
    section = html.split('<section class="history">', 1)[1]
    tables = re.findall(r'<table class="changes">(.*?)</table>', section, re.S)
    return [re.sub(r"<[^>]+>", "", th).strip() for table in tables
            for th in re.findall(r"<th>(.*?)</th>", table, re.S)]


def _raw_keys(model) -> set[str]:
    mapper = inspect(model)
    return {attr.key for attr in mapper.attrs} | {c.key for c in mapper.columns}


def _assert_words(client, url, model):
    html = client.get(url).get_data(as_text=True)
    labels = _history_labels(html)
    assert labels, f"no history shown on {url}"
    raw = sorted(set(labels) & _raw_keys(model))
    assert raw == [], f"{url} shows raw keys {raw}"
    return html


def test_no_record_page_shows_a_raw_key(app, login, world, places):
    client = login("staff")
    # a visit, made and edited through its form
    response = client.post("/visits/new", data=visit_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    vid = response.headers["Location"].rsplit("/", 1)[1]
    response = client.post(f"/visits/{vid}/edit", data=visit_form(
        world, commissioner_ids=[world["wang"], world["li"]], village_id=world["v2"],
        problem="羊群咳嗽", people_reached="6", hours="2.5"))
    assert response.status_code == 302, response.get_data(as_text=True)
    _assert_words(client, f"/visits/{vid}", Visit)

    # a training session, its head counts and trainers changed
    tid = create_training(client, places)
    response = client.post(f"/trainings/{tid}/edit", data=training_form(
        places, title="肉羊养殖培训", hours="4", trainer_ids=[], village_id=places["把什村"],
        trainer_of_trainers="y"))
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post(f"/trainings/{tid}/counts", data=head_counts(
        count_farmer=10, count_village_secretary=2, women_count=4))
    assert response.status_code in (200, 302), response.get_data(as_text=True)
    html = _assert_words(client, f"/trainings/{tid}", Training)
    assert "head_counts" not in html and "{}" not in html

    # an agreement, signed, and a payout on it, edited
    aid, (a, b, _t) = create_agreement(app, client)
    assert client.post(f"/agreements/{aid}/step/signed", data={"on": "2024-12-20"}).status_code == 302
    assert client.post(f"/agreements/{aid}/step/in_force", data={"on": "2025-01-01"}).status_code == 302
    _assert_words(client, f"/agreements/{aid}", Agreement)
    assert client.post(f"/agreements/{aid}/payouts", data={
        "paid_on": "2025-06-30", "amount_fen": "100", "kind": "dividend",
        "payee_id": a}).status_code == 302
    with app.app_context():
        pid = db.session.scalar(select(Payout.id))
    assert client.post(f"/agreements/{aid}/payouts/{pid}/edit", data={
        "paid_on": "2025-07-01", "amount_fen": "250.5", "kind": "service_fee",
        "payee_id": b}).status_code == 302
    _assert_words(client, f"/agreements/{aid}/payouts/{pid}/edit", Payout)

    # the reference records, edited in place
    with app.app_context():
        g.actor = "test"
        team = ServiceTeam(name="肉羊服务团", cluster_id=world["cluster"], leader_id=world["wang"],
                           owner_node="150121-01")
        db.session.add(team)
        db.session.commit()
        team.members = [db.session.get(Commissioner, world["wang"]),
                        db.session.get(Commissioner, world["li"])]
        team.notes = "每月一次"
        wang = db.session.get(Commissioner, world["wang"])
        wang.phone, wang.title, wang.notes = "13800000000", "高级畜牧师", "常驻"
        target = db.session.get(ServiceTarget, world["target"])
        target.village_id, target.phone = world["v2"], "13900000000"
        station = db.session.get(Station, world["station"])
        station.name, station.notes = "土左旗科技特派员工作站", "新址"
        db.session.commit()
        ids = {"team": team.id}
    _assert_words(client, f"/teams/{ids['team']}", ServiceTeam)
    _assert_words(client, f"/commissioners/{world['wang']}", Commissioner)
    _assert_words(client, f"/targets/{world['target']}", ServiceTarget)
    _assert_words(client, f"/stations/{world['station']}", Station)
