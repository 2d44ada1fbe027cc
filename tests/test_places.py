"""Places: the shipped tree is read-only; townships and villages are added, edited,
deleted and restored per station, within the user's own counties only."""
import pytest
from sqlalchemy import func, select

from app.auth.services import create_user
from app.core.extensions import db
from app.models import AuditEntry, Commissioner, OutboxEntry, Place, ServiceTarget, Station, utcnow
from app.models.shipped import shipped_id
from tests.factories import count
from tests.settings import PASSWORD

TUZUO = shipped_id("place", "150121")    # the test station's county
TUOXIAN = shipped_id("place", "150122")  # a neighbouring county, same league
BAOTOU_COUNTY = shipped_id("place", "150221")


def _add(client, level, name, parent, code=""):
    response = client.post(f"/places/new?level={level}",
                           data={"name": name, "parent_id": parent, "code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def _other_node_place(app, level, name, parent_id, owner):
    with app.app_context():
        place = Place(level=level, name=name, parent_id=parent_id, owner_node=owner)
        db.session.add(place)
        db.session.commit()
        return place.id


def _league_admin(app, login):
    with app.app_context():
        create_user(username="league", password=PASSWORD, role="league_admin", node_code="1501")
    return login("league")


def test_add_township_and_village_with_history_and_outbox(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO, "150121100")
    village = _add(client, "village", "塔布赛村", township, "150121100201")
    with app.app_context():
        v = db.session.get(Place, village)
        assert (v.level, v.parent.name, v.owner_node, v.version) == ("village", "察素齐镇",
                                                                    "150121-01", 1)
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == village)).all()
        assert [a.action for a in audit] == ["create"]
        assert audit[0].changes["parent"] == [None, "察素齐镇"]
        outbox = db.session.scalars(select(OutboxEntry.action)
                                    .where(OutboxEntry.record_id == village)).all()
        assert outbox == ["create"]
    page = client.get(f"/places/{village}").get_data(as_text=True)
    assert "土默特左旗" in page and "察素齐镇" in page and "150121100201" in page
    page = client.get(f"/places/{township}").get_data(as_text=True)
    assert "塔布赛村" in page  # its children


def test_edit_bumps_version_and_history_shows_change(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO)
    response = client.post(f"/places/{township}/edit",
                           data={"name": "察素齐镇新", "parent_id": TUZUO, "code": ""})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Place, township).version == 2
    page = client.get(f"/places/{township}").get_data(as_text=True)
    assert "察素齐镇新" in page and 'class="old">察素齐镇<' in page


def test_shipped_places_are_read_only(app, login):
    client = login("admin")
    assert client.get(f"/places/{TUZUO}").status_code == 200
    assert client.get(f"/places/{TUZUO}/edit").status_code == 403
    assert client.post(f"/places/{TUZUO}/delete").status_code == 403
    assert f'href="/places/{TUZUO}/edit"' not in client.get(f"/places/{TUZUO}").get_data(as_text=True)


def test_invalid_input_is_422_and_writes_nothing(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO)
    before = count(app, Place)
    with app.app_context():
        outbox_before = db.session.scalar(select(func.count()).select_from(OutboxEntry))
    cases = [
        ("township", {"name": "", "parent_id": TUZUO}, "name"),
        ("township", {"name": "白庙子镇", "parent_id": ""}, "parent_id"),
        ("township", {"name": "白庙子镇", "parent_id": TUZUO, "code": "1501211"}, "code"),
        ("township", {"name": "白庙子镇", "parent_id": TUZUO, "code": "150122100"}, "code"),
        ("village", {"name": "某村", "parent_id": TUZUO}, "parent_id"),  # a county, not a township
        ("village", {"name": "某村", "parent_id": township, "code": "15012110020A"}, "code"),
        ("township", {"name": "察素齐镇", "parent_id": TUZUO}, "name"),  # duplicate name
    ]
    for level, data, field in cases:
        response = client.post(f"/places/new?level={level}", data=data)
        assert response.status_code == 422, (data, response.status_code)
        assert f'id="{field}-err"' in response.get_data(as_text=True), data
    assert count(app, Place) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) == outbox_before


def test_duplicate_code_and_duplicate_name_on_edit_refused(app, login):
    client = login("staff")
    a = _add(client, "township", "察素齐镇", TUZUO, "150121100")
    b = _add(client, "township", "白庙子镇", TUZUO)
    response = client.post(f"/places/{b}/edit", data={"name": "察素齐镇", "parent_id": TUZUO})
    assert response.status_code == 422 and 'id="name-err"' in response.get_data(as_text=True)
    response = client.post(f"/places/{b}/edit",
                           data={"name": "白庙子镇", "parent_id": TUZUO, "code": "150121100"})
    assert response.status_code == 422 and 'id="code-err"' in response.get_data(as_text=True)
    # the same name under another township is fine
    _add(client, "village", "新村", a)
    _add(client, "village", "新村", b)


def test_station_user_cannot_see_or_add_under_another_county(app, login):
    client = login("staff")
    foreign_township = _other_node_place(app, "township", "双河镇", TUOXIAN, "1501")
    foreign_village = _other_node_place(app, "village", "河口村", foreign_township, "1501")
    before = count(app, Place)
    response = client.post("/places/new?level=township",
                           data={"name": "新营子镇", "parent_id": TUOXIAN})
    assert response.status_code == 422
    response = client.post("/places/new?level=village",
                           data={"name": "某村", "parent_id": foreign_township})
    assert response.status_code == 422
    assert count(app, Place) == before
    for pid in (foreign_township, foreign_village):
        assert client.get(f"/places/{pid}").status_code == 404
        assert client.get(f"/places/{pid}/edit").status_code == 404
        assert client.post(f"/places/{pid}/delete").status_code == 404
    assert "双河镇" not in client.get(f"/places/?county={TUOXIAN}").get_data(as_text=True)
    assert "河口村" not in client.get("/places/search?q=河").get_data(as_text=True)
    assert "双河镇" not in client.get(f"/places/{TUOXIAN}").get_data(as_text=True)
    form = client.get("/places/new?level=township").get_data(as_text=True)
    assert TUZUO in form and TUOXIAN not in form


def test_league_admin_adds_under_its_own_counties_only(app, login):
    client = _league_admin(app, login)
    township = _add(client, "township", "双河镇", TUOXIAN)
    with app.app_context():
        assert db.session.get(Place, township).owner_node == "1501"
    response = client.post("/places/new?level=township",
                           data={"name": "萨拉齐镇", "parent_id": BAOTOU_COUNTY})
    assert response.status_code == 422
    assert "双河镇" in client.get("/places/").get_data(as_text=True)


def test_default_list_shows_own_townships_and_villages_not_shipped_rows(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO)
    _add(client, "village", "塔布赛村", township)
    page = client.get("/places/").get_data(as_text=True)
    assert "察素齐镇" in page and "塔布赛村" in page
    assert "呼和浩特市" not in page.split('id="results"')[1]
    assert page.split("<tbody>")[1].count("<tr>") == 2
    page = client.get("/places/?level=league").get_data(as_text=True)
    assert "呼和浩特市" in page and "察素齐镇" not in page.split('id="results"')[1]
    page = client.get("/places/?level=village").get_data(as_text=True)
    assert "塔布赛村" in page and "察素齐镇</a>" not in page
    page = client.get(f"/places/?township={township}&q=塔布").get_data(as_text=True)
    assert "塔布赛村" in page
    fragment = client.get("/places/?q=塔布", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "塔布赛村" in fragment and 'hx-swap-oob="true"' in fragment


def test_picker_returns_options_with_township(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO)
    village = _add(client, "village", "塔布赛村", township)
    body = client.get("/places/search?q=塔布&level=village").get_data(as_text=True)
    assert f'<option value="{village}">塔布赛村 · 察素齐镇</option>' in body
    assert "<html" not in body
    assert client.get("/places/search?q=不存在").get_data(as_text=True).strip() == ""


def test_delete_refused_while_in_use_then_allowed_and_restored(app, login):
    client = login("staff")
    township = _add(client, "township", "察素齐镇", TUZUO)
    village = _add(client, "village", "塔布赛村", township)
    with app.app_context():
        target = ServiceTarget(name="张三家庭农场", kind="family_farm", village_id=village)
        c = Commissioner(name="王建国")
        c.villages = [db.session.get(Place, village)]
        db.session.add_all([target, c])
        db.session.commit()
        target_id, cid = target.id, c.id
    response = client.post(f"/places/{township}/delete")
    assert response.status_code == 409
    assert response.get_data(as_text=True).count("<li>") == 1  # one place under it
    response = client.post(f"/places/{village}/delete")
    assert response.status_code == 409
    assert response.get_data(as_text=True).count("<li>") == 2  # a commissioner and a target
    with app.app_context():
        assert db.session.get(Place, village).deleted_at is None
        db.session.get(ServiceTarget, target_id).deleted_at = utcnow()
        db.session.delete(db.session.get(Commissioner, cid))
        db.session.commit()
    assert client.post(f"/places/{village}/delete").status_code == 302
    assert client.get(f"/places/{village}").status_code == 404
    assert client.post(f"/places/{township}/delete").status_code == 302
    assert client.post(f"/places/{village}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert "塔布赛村" in admin.get("/places/?show=deleted").get_data(as_text=True)
    admin.post(f"/places/{village}/restore")  # refused: its township is deleted
    with app.app_context():
        assert db.session.get(Place, village).deleted_at is not None
    assert admin.post(f"/places/{township}/restore").status_code == 302
    assert admin.post(f"/places/{village}/restore").status_code == 302
    with app.app_context():
        assert db.session.get(Place, village).deleted_at is None
        actions = db.session.scalars(select(AuditEntry.action)
                                     .where(AuditEntry.record_id == village)
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete", "restore"]


def test_county_with_station_cannot_be_deleted_and_reviewer_cannot_add(app, login):
    with app.test_request_context():
        from app.places import services
        db.session.add(Station(name="土左旗工作站", kind="grassroots", county_id=TUZUO,
                               owner_node="150121-01"))
        db.session.commit()
        assert services.delete_blockers(db.session.get(Place, TUZUO))
    client = login("reviewer")
    assert client.get("/places/").status_code == 200
    assert client.get("/places/new").status_code == 403
    assert client.post("/places/new?level=township",
                       data={"name": "x", "parent_id": TUZUO}).status_code == 403


@pytest.mark.parametrize("cut_first_from", [0, 10**6])
def test_list_pages_each_township_then_its_villages_with_whom_they_belong_to(
        app, login, monkeypatch, cut_first_from):
    """The list's pages, read as lines (app/places/listing.py): each township followed by
    its villages by name, every page holding the next places in that order whichever way
    a page is cut (records.CUT_FIRST_FROM), a village belonging to "township · county",
    the township filter's choices, and a deleted place shown (with its badge) only among
    the deleted."""
    import re

    from app.core import records
    monkeypatch.setattr(records, "CUT_FIRST_FROM", cut_first_from)
    client = login("staff", lang="en")
    second = _add(client, "township", "B镇", TUZUO)
    first = _add(client, "township", "A镇", TUZUO)
    made = {"B镇": second, "A镇": first}
    for name, township in (("F村", second), ("E村", first), ("C村", first), ("D村", first)):
        made[name] = _add(client, "village", name, township)
    gone = _add(client, "village", "G村", second)
    assert client.post(f"/places/{gone}/delete").status_code == 302
    expected = [made[n] for n in ("A镇", "C村", "D村", "E村", "B镇", "F村")]
    app.config["PAGE_SIZE"] = 2

    def ids(page):
        return re.findall(r'<a href="/places/([0-9a-f-]{36})">', page.split('id="results"')[1])

    shown = []
    for number in (1, 2, 3):
        page = client.get(f"/places/?page={number}").get_data(as_text=True)
        assert "6 in all" in page
        shown += ids(page)
    assert shown == expected
    assert ids(client.get("/places/?page=9").get_data(as_text=True)) == expected[4:]
    app.config["PAGE_SIZE"] = 25
    page = client.get("/places/").get_data(as_text=True)
    with app.app_context():
        county = db.session.get(Place, TUZUO).name
    assert f"A镇 · {county}" in page and f">{county}</td>" in page
    assert f'<option value="{first}" >A镇</option>' in page and f'<option value="{second}" >B镇</option>' in page
    assert "G村" not in page and 'class="badge danger"' not in page.split('id="results"')[1]
    client.post("/logout")
    page = login("admin", lang="en").get("/places/?show=deleted").get_data(as_text=True)
    assert ids(page) == [gone] and 'class="badge danger">Deleted<' in page and "B镇 · " in page
