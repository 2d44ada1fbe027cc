"""Service targets: create, kind rules, edit, history, delete, scope, PII, picker."""
import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditEntry, OutboxEntry, Place, ServiceTarget
from app.models.shipped import shipped_id
from tests.factories import count

STATION = "150121-01"


@pytest.fixture
def villages(app):
    """Two townships with a village each, owned by the station; {name: id}."""
    with app.app_context():
        county = shipped_id("place", "150121")
        ids = {}
        for township, village in (("察素齐镇", "红旗村"), ("白庙子镇", "新营子村")):
            t = Place(name=township, level="township", parent_id=county, owner_node=STATION)
            db.session.add(t)
            db.session.flush()
            v = Place(name=village, level="village", parent_id=t.id, owner_node=STATION)
            db.session.add(v)
            db.session.flush()
            ids[township], ids[village] = t.id, v.id
        db.session.commit()
        return ids


def household(villages, **extra):
    return {"name": "张三", "kind": "household", "village_id": villages["红旗村"],
            "contact_name": "张三", "phone": "13812345678", "id_number": "11010519491231002X",
            "household_size": "4", "poverty_alleviated": "y", **extra}


def _only_id(app):
    with app.app_context():
        return db.session.scalar(select(ServiceTarget.id))


def test_create_household_writes_record_audit_and_outbox(app, login, villages):
    client = login("staff")
    response = client.post("/targets/new", data=household(villages))
    assert response.status_code == 302
    with app.app_context():
        t = db.session.scalar(select(ServiceTarget))
        assert (t.name, t.kind, t.village_id, t.household_size) == ("张三", "household",
                                                                    villages["红旗村"], 4)
        assert t.poverty_alleviated and not t.monitored and t.owner_node == STATION
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == t.id)).all()
        assert [a.action for a in audit] == ["create"]
        assert audit[0].changes["village"] == [None, "红旗村"]
        outbox = db.session.scalars(select(OutboxEntry.action)
                                    .where(OutboxEntry.record_id == t.id)).all()
        assert outbox == ["create"]


def test_household_only_fields_refused_for_a_coop(app, login, villages):
    client = login("staff", lang="en")
    response = client.post("/targets/new", data=household(villages, kind="coop", monitored="y"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Only a household has an ID number" in body
    assert "Only a household can carry this flag" in body
    assert "Only a household has a household size" in body
    assert count(app, ServiceTarget) == 0


@pytest.mark.parametrize("field,value", [("phone", "12345"), ("id_number", "110105194912310021"),
                                         ("household_size", "51"), ("name", "")])
def test_bad_fields_are_422(app, login, villages, field, value):
    client = login("staff")
    response = client.post("/targets/new", data=household(villages, **{field: value}))
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count(app, ServiceTarget) == 0


def test_credit_code_only_for_organisations(app, login, villages):
    client = login("staff")
    coop = {"name": "红旗肉羊合作社", "kind": "coop", "village_id": villages["红旗村"],
            "credit_code": "93150121ma0n1x2y3k"}
    assert client.post("/targets/new", data={**coop, "credit_code": "123"}).status_code == 422
    assert client.post("/targets/new", data=household(villages, credit_code=coop["credit_code"])
                       ).status_code == 422
    assert client.post("/targets/new", data=coop).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ServiceTarget.credit_code)) == "93150121MA0N1X2Y3K"


def test_edit_bumps_version_and_history_shows_it(app, login, villages):
    client = login("admin")
    client.post("/targets/new", data=household(villages))
    tid = _only_id(app)
    response = client.post(f"/targets/{tid}/edit",
                           data=household(villages, village_id=villages["新营子村"], monitored="y"))
    assert response.status_code == 302
    with app.app_context():
        t = db.session.get(ServiceTarget, tid)
        assert t.version == 2 and t.monitored and t.village_id == villages["新营子村"]
    page = client.get(f"/targets/{tid}").get_data(as_text=True)
    assert "新营子村" in page and "红旗村" in page  # the history shows the move


def test_staff_edit_keeps_hidden_id_number(app, login, villages):
    client = login("staff")
    client.post("/targets/new", data=household(villages))
    tid = _only_id(app)
    form = client.get(f"/targets/{tid}/edit").get_data(as_text=True)
    assert "11010519491231002X" not in form
    response = client.post(f"/targets/{tid}/edit", data=household(villages, id_number="",
                                                                  name="张三丰"))
    assert response.status_code == 302
    with app.app_context():
        t = db.session.get(ServiceTarget, tid)
        assert t.name == "张三丰" and t.id_number == "11010519491231002X"


def test_pii_masked_by_role(app, login, villages):
    client = login("staff")
    client.post("/targets/new", data=household(villages))
    tid = _only_id(app)
    page = client.get(f"/targets/{tid}").get_data(as_text=True)
    assert "13812345678" in page and "11010519491231002X" not in page
    client.post("/logout")
    page = login("reviewer").get(f"/targets/{tid}").get_data(as_text=True)
    assert "13812345678" not in page and "138****5678" in page


def test_search_filters_and_fragment(app, login, villages):
    client = login("staff")
    client.post("/targets/new", data=household(villages), follow_redirects=True)
    client.post("/targets/new", data={"name": "新营子奶牛合作社", "kind": "coop",
                                      "village_id": villages["新营子村"], "contact_name": "李四"},
                follow_redirects=True)
    assert "张三" not in client.get("/targets/?q=李四").get_data(as_text=True)
    assert "张三" in client.get("/targets/?q=13812345678").get_data(as_text=True)
    page = client.get("/targets/?kind=coop").get_data(as_text=True)
    assert "新营子奶牛合作社" in page and "张三" not in page
    page = client.get(f"/targets/?township_id={villages['察素齐镇']}").get_data(as_text=True)
    assert "张三" in page and "新营子奶牛合作社" not in page
    page = client.get(f"/targets/?village_id={villages['新营子村']}").get_data(as_text=True)
    assert "新营子奶牛合作社" in page and "张三" not in page
    page = client.get("/targets/?flag=poverty_alleviated").get_data(as_text=True)
    assert "张三" in page and "新营子奶牛合作社" not in page
    assert "张三" not in client.get("/targets/?flag=monitored").get_data(as_text=True)
    fragment = client.get("/targets/?q=合作社", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "新营子奶牛合作社" in fragment
    options = client.get("/targets/search?q=合作").get_data(as_text=True)
    assert options.startswith("<option") and "新营子奶牛合作社" in options and "张三" not in options


def test_delete_and_restore(app, login, villages):
    client = login("staff")
    client.post("/targets/new", data=household(villages))
    tid = _only_id(app)
    assert client.get(f"/targets/{tid}/delete").status_code == 200
    assert client.post(f"/targets/{tid}/delete").status_code == 302
    assert client.get(f"/targets/{tid}").status_code == 404
    assert client.post(f"/targets/{tid}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert "张三" in admin.get("/targets/?show=deleted").get_data(as_text=True)
    assert admin.post(f"/targets/{tid}/restore").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == tid)
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete", "restore"]


@pytest.mark.parametrize("url", ["/targets/{oid}", "/targets/{oid}/edit", "/targets/{oid}/delete"])
def test_another_nodes_target_is_404_and_unlisted(app, login, villages, url):
    client = login("staff")
    with app.app_context():
        other = ServiceTarget(name="外旗农户", kind="household", owner_node="150122-01")
        db.session.add(other)
        db.session.commit()
        oid = other.id
    assert client.get(url.format(oid=oid)).status_code == 404
    assert "外旗农户" not in client.get("/targets/?q=外旗").get_data(as_text=True)
    assert "外旗农户" not in client.get("/targets/search?q=外旗").get_data(as_text=True)
    assert client.get("/targets/no-such-id").status_code == 404


def test_reviewer_cannot_write(app, login, villages):
    client = login("reviewer")
    assert client.get("/targets/new").status_code == 403
    assert client.post("/targets/new", data=household(villages)).status_code == 403
    assert count(app, ServiceTarget) == 0


def test_unknown_village_is_refused(app, login, villages):
    client = login("staff")
    response = client.post("/targets/new", data=household(villages, village_id="nope"))
    assert response.status_code == 422
