"""Industry clusters: everyone reads, only league/region admins write; names unique
among live clusters; delete refused while in use; history on the page."""
import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.core.extensions import db
from app.models import AuditEntry, Cluster, Commissioner, OutboxEntry
from app.models.shipped import shipped_id
from tests.factories import count
from tests.settings import PASSWORD

DAIRY = shipped_id("cluster", "奶业")
VALID = {"name": "燕麦", "sort_order": "120", "description": "阴山北麓燕麦产业"}


def _league_admin(app, login):
    """The region admin: the shipped clusters are the region's, editable only there."""
    with app.app_context():
        create_user(username="region", password=PASSWORD, role="region_admin", node_code="15")
    return login("region")


def test_a_league_admin_cannot_change_the_regions_clusters(app, login):
    with app.app_context():
        create_user(username="league", password=PASSWORD, role="league_admin", node_code="1501")
    client = login("league")
    assert client.post(f"/clusters/{DAIRY}/delete").status_code == 403
    assert client.post("/clusters/new", data={"name": "燕麦", "sort_order": "200"}).status_code == 302


def test_everyone_sees_the_eleven_in_order(app, login):
    client = login("staff")
    page = client.get("/clusters/").get_data(as_text=True)
    assert page.index("奶业") < page.index("玉米") < page.index("饲草")
    assert page.split("<tbody>")[1].count("<tr>") == 11
    assert client.get(f"/clusters/{DAIRY}").status_code == 200
    only_major = client.get("/clusters/?major=1").get_data(as_text=True)
    assert "玉米" in only_major and "肉羊" not in only_major
    fragment = client.get("/clusters/?q=玉", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "玉米" in fragment


@pytest.mark.parametrize("user", ["staff", "admin", "reviewer"])
def test_station_users_cannot_write(app, login, user):
    client = login(user)
    assert client.get("/clusters/new").status_code == 403
    assert client.post("/clusters/new", data=VALID).status_code == 403
    assert client.post(f"/clusters/{DAIRY}/edit", data=VALID).status_code == 403
    assert client.post(f"/clusters/{DAIRY}/delete").status_code == 403
    assert client.post(f"/clusters/{DAIRY}/restore").status_code == 403
    assert f"/clusters/{DAIRY}/edit" not in client.get(f"/clusters/{DAIRY}").get_data(as_text=True)
    assert "/clusters/new" not in client.get("/clusters/").get_data(as_text=True)
    assert count(app, Cluster) == 11


def test_league_admin_adds_and_edits_with_history(app, login):
    client = _league_admin(app, login)
    response = client.post("/clusters/new", data={**VALID, "major": "y"})
    assert response.status_code == 302
    with app.app_context():
        cluster = db.session.scalar(select(Cluster).where(Cluster.name == "燕麦"))
        cid = cluster.id
        assert (cluster.major, cluster.sort_order, cluster.owner_node) == (True, 120, "15")
        assert db.session.scalars(select(OutboxEntry.action)
                                  .where(OutboxEntry.record_id == cid)).all() == ["create"]
    assert client.post(f"/clusters/{cid}/edit", data={**VALID, "sort_order": "5"}).status_code == 302
    with app.app_context():
        cluster = db.session.get(Cluster, cid)
        assert (cluster.version, cluster.sort_order, cluster.major) == (2, 5, False)
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == cid)
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["create", "update"]
    page = client.get(f"/clusters/{cid}").get_data(as_text=True)
    assert 'class="old">120<' in page


def test_invalid_input_is_422_and_writes_nothing(app, login):
    client = _league_admin(app, login)
    with app.app_context():
        outbox = count(app, OutboxEntry)
    cases = [({**VALID, "name": ""}, "name"), ({**VALID, "name": "奶业"}, "name"),
             ({**VALID, "sort_order": "-1"}, "sort_order"), ({**VALID, "sort_order": "abc"}, "sort_order"),
             ({**VALID, "sort_order": ""}, "sort_order")]
    for data, field in cases:
        response = client.post("/clusters/new", data=data)
        assert response.status_code == 422, data
        assert f'id="{field}-err"' in response.get_data(as_text=True), data
    response = client.post(f"/clusters/{shipped_id('cluster', '玉米')}/edit",
                           data={**VALID, "name": "奶业"})
    assert response.status_code == 422
    assert count(app, Cluster) == 11 and count(app, OutboxEntry) == outbox


def test_delete_refused_in_use_then_deleted_and_restored(app, login):
    with app.app_context():
        c = Commissioner(name="王建国", owner_node="150121-01")
        c.clusters = [db.session.get(Cluster, DAIRY)]
        db.session.add(c)
        db.session.commit()
        commissioner_id = c.id
    client = _league_admin(app, login)
    response = client.post(f"/clusters/{DAIRY}/delete")
    assert response.status_code == 409
    assert response.get_data(as_text=True).count("<li>") == 1  # one commissioner
    with app.app_context():
        assert db.session.get(Cluster, DAIRY).deleted_at is None
        db.session.delete(db.session.get(Commissioner, commissioner_id))
        db.session.commit()
    assert client.get(f"/clusters/{DAIRY}/delete").status_code == 200
    assert client.post(f"/clusters/{DAIRY}/delete").status_code == 302
    assert "奶业" in client.get("/clusters/?show=deleted").get_data(as_text=True)
    assert "奶业" not in client.get("/clusters/").get_data(as_text=True)
    # a new live 奶业 blocks the restore of the old one
    client.post("/clusters/new", data={**VALID, "name": "奶业"})
    client.post(f"/clusters/{DAIRY}/restore")
    with app.app_context():
        assert db.session.get(Cluster, DAIRY).deleted_at is not None
        new_id = db.session.scalar(select(Cluster.id).where(Cluster.name == "奶业",
                                                            Cluster.deleted_at.is_(None)))
    client.post(f"/clusters/{new_id}/delete")
    assert client.post(f"/clusters/{DAIRY}/restore").status_code == 302
    with app.app_context():
        assert db.session.get(Cluster, DAIRY).deleted_at is None
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == DAIRY)
                                     .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["delete", "restore"]


def test_deleted_cluster_is_404_for_station_users_and_unknown_is_404(app, login):
    league = _league_admin(app, login)
    league.post(f"/clusters/{shipped_id('cluster', '饲草')}/delete")
    league.post("/logout")
    client = login("admin")
    assert client.get(f"/clusters/{shipped_id('cluster', '饲草')}").status_code == 404
    assert client.get("/clusters/no-such-id").status_code == 404
