"""The commissioner roster: create, validate, edit, history, delete, scope, PII."""
from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditEntry, Commissioner, OutboxEntry
from app.models.shipped import shipped_id
from tests.factories import count

VALID = {"name": "王建国", "kind": "individual", "level": "county", "status": "recognised",
         "sending_org": "内蒙古农业大学", "sending_org_type": "university",
         "phone": "13812345678", "id_number": "11010519491231002X",
         "cluster_ids": [shipped_id("cluster", "肉羊")]}


def test_create_writes_record_audit_and_outbox_together(app, login):
    client = login("staff")
    response = client.post("/commissioners/new", data=VALID)
    assert response.status_code == 302
    with app.app_context():
        c = db.session.scalar(select(Commissioner))
        assert c.name == "王建国" and c.version == 1 and c.owner_node == "150121-01"
        assert [cl.name for cl in c.clusters] == ["肉羊"]
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == c.id)).all()
        assert [a.action for a in audit] == ["create"]
        assert audit[0].changes["clusters"] == [None, ["肉羊"]]
        assert audit[0].actor == "staff"
        outbox = db.session.scalars(select(OutboxEntry).where(OutboxEntry.record_id == c.id)).all()
        assert [(o.action, o.base_version, o.version) for o in outbox] == [("create", 0, 1)]


def test_invalid_input_is_422_and_writes_nothing(app, login):
    client = login("staff")
    bad = {**VALID, "name": "", "phone": "12345", "id_number": "110105194912310021",
           "status": "exited"}
    response = client.post("/commissioners/new", data=bad)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "check digit" in body or "校验" in body
    assert count(app, Commissioner) == 0
    assert count(app, OutboxEntry) == 0


def test_edit_bumps_version_and_shows_history(app, login):
    client = login("staff")
    client.post("/commissioners/new", data=VALID)
    with app.app_context():
        cid = db.session.scalar(select(Commissioner.id))
    response = client.post(f"/commissioners/{cid}/edit",
                           data={**VALID, "status": "dispatched", "dispatched_on": "2024-03-01"})
    assert response.status_code == 302
    with app.app_context():
        c = db.session.get(Commissioner, cid)
        assert c.version == 2 and c.status == "dispatched"
    page = client.get(f"/commissioners/{cid}").get_data(as_text=True)
    assert "2024-03-01" in page


def test_exited_commissioner_cannot_be_dispatched_again(app, login):
    client = login("staff")
    client.post("/commissioners/new", data={**VALID, "status": "exited", "exited_on": "2024-05-01",
                                            "exit_reason": "调离"})
    with app.app_context():
        cid = db.session.scalar(select(Commissioner.id))
    response = client.post(f"/commissioners/{cid}/edit",
                           data={**VALID, "status": "dispatched", "dispatched_on": "2024-06-01"})
    assert response.status_code == 422


def test_delete_and_restore(app, login):
    client = login("staff")
    client.post("/commissioners/new", data=VALID)
    with app.app_context():
        cid = db.session.scalar(select(Commissioner.id))
    assert client.post(f"/commissioners/{cid}/delete").status_code == 302
    assert client.get(f"/commissioners/{cid}").status_code == 404
    assert "王建国" not in client.get("/commissioners/").get_data(as_text=True)
    assert client.post(f"/commissioners/{cid}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert admin.post(f"/commissioners/{cid}/restore").status_code == 302
    assert admin.get(f"/commissioners/{cid}").status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == cid)
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete", "restore"]


def test_another_nodes_commissioner_is_404(app, login):
    client = login("staff")
    with app.app_context():
        other = Commissioner(name="外旗专家", owner_node="150122-01")
        db.session.add(other)
        db.session.commit()
        oid = other.id
    assert client.get(f"/commissioners/{oid}").status_code == 404
    assert client.get(f"/commissioners/{oid}/edit").status_code == 404
    assert "外旗专家" not in client.get("/commissioners/?q=外旗").get_data(as_text=True)


def test_search_and_filters(app, login):
    client = login("staff")
    client.post("/commissioners/new", data=VALID, follow_redirects=True)
    client.post("/commissioners/new", data={**VALID, "name": "李梅", "level": "region",
                                            "phone": "", "id_number": ""}, follow_redirects=True)
    page = client.get("/commissioners/?q=王建").get_data(as_text=True)
    assert "王建国" in page and "李梅" not in page
    page = client.get("/commissioners/?level=region").get_data(as_text=True)
    assert "李梅" in page and "王建国" not in page
    fragment = client.get("/commissioners/?q=李", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "李梅" in fragment.get_data(as_text=True)


def test_pii_masked_for_reviewer(app, login):
    client = login("staff")
    client.post("/commissioners/new", data=VALID)
    with app.app_context():
        cid = db.session.scalar(select(Commissioner.id))
    assert "13812345678" in client.get(f"/commissioners/{cid}").get_data(as_text=True)
    assert "11010519491231002X" not in client.get(f"/commissioners/{cid}").get_data(as_text=True)
    client.post("/logout")
    reviewer = login("reviewer")
    page = reviewer.get(f"/commissioners/{cid}").get_data(as_text=True)
    assert "13812345678" not in page and "138****5678" in page


def test_records_published_above_are_read_only_here(app, login):
    """A commissioner the league keeps is visible to the station but not changeable."""
    client = login("staff")
    with app.app_context():
        upstream = Commissioner(name="盟级专家", owner_node="1501")
        db.session.add(upstream)
        db.session.commit()
        uid = upstream.id
    page = client.get(f"/commissioners/{uid}").get_data(as_text=True)
    assert "盟级专家" in page and f"/commissioners/{uid}/edit" not in page
    assert client.post(f"/commissioners/{uid}/edit", data=VALID).status_code == 403
    assert client.post(f"/commissioners/{uid}/delete").status_code == 403
    with app.app_context():
        assert db.session.get(Commissioner, uid).version == 1
