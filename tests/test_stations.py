"""Stations and their sites: create, validate, edit, history, delete refusal, scope."""
import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import AuditEntry, Commissioner, OutboxEntry, Place, Site, Station
from app.models.shipped import shipped_id
from tests.factories import count

COUNTY = shipped_id("place", "150121")  # 土默特左旗, the test node's county
OTHER_COUNTY = shipped_id("place", "150122")
VALID = {"name": "土左旗奶业基层工作站", "kind": "grassroots", "host_org": "土左旗农牧技术推广中心",
         "host_org_type": "extension", "county_id": COUNTY, "address": "察素齐镇",
         "contact_name": "张伟", "contact_phone": "13912345678", "established_on": "2022-04-01",
         "cluster_ids": [shipped_id("cluster", "奶业"), shipped_id("cluster", "玉米")]}


def _only_id(app, model):
    with app.app_context():
        return db.session.scalar(select(model.id))


def _add(app, record):
    with app.app_context():
        db.session.add(record)
        db.session.commit()
        return record.id


def _village(app, name="什拉乌素村", owner="150121-01"):
    return _add(app, Place(name=name, level="village", parent_id=COUNTY, owner_node=owner))


def _station(client, app, **changes):
    response = client.post("/stations/new", data={**VALID, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.get(response.location)  # shows (and so clears) the flash message
    with app.app_context():
        return db.session.scalar(select(Station.id).where(Station.name == changes.get("name", VALID["name"])))


def test_create_station_with_clusters_audit_and_outbox(app, login):
    client = login("staff")
    sid = _station(client, app)
    with app.app_context():
        s = db.session.get(Station, sid)
        assert s.owner_node == "150121-01" and s.version == 1 and s.county_id == COUNTY
        assert [c.name for c in s.clusters] == ["奶业", "玉米"]
        assert [a.action for a in db.session.scalars(
            select(AuditEntry).where(AuditEntry.record_id == sid))] == ["create"]
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.record_id == sid)) == 1
    page = client.get(f"/stations/{sid}").get_data(as_text=True)
    assert "土左旗农牧技术推广中心" in page and "13912345678" in page and "奶业、玉米" in page
    listed = client.get("/stations/").get_data(as_text=True)  # its line names them too
    assert "奶业、玉米" in listed


def test_form_offers_only_the_nodes_county(app, login):
    client = login("staff")
    page = client.get("/stations/new").get_data(as_text=True)
    assert COUNTY in page and OTHER_COUNTY not in page


@pytest.mark.parametrize("bad", [{"name": ""}, {"contact_phone": "12345"},
                                 {"established_on": "2999-01-01"}, {"county_id": OTHER_COUNTY},
                                 {"kind": "castle"}, {"cluster_ids": ["nope"]}])
def test_invalid_station_is_422_and_writes_nothing(app, login, bad):
    client = login("staff")
    response = client.post("/stations/new", data={**VALID, **bad})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(app, Station) == 0 and count(app, OutboxEntry) == 0


def test_edit_bumps_version_and_history_names_the_change(app, login):
    client = login("staff")
    sid = _station(client, app)
    response = client.post(f"/stations/{sid}/edit", data={**VALID, "host_org": "内蒙古农业大学",
                                                          "kind": "expert", "host_org_type": "university"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Station, sid).version == 2
    page = client.get(f"/stations/{sid}").get_data(as_text=True)
    assert "内蒙古农业大学" in page and "土左旗农牧技术推广中心" in page  # new and old, in the history
    bad = client.post(f"/stations/{sid}/edit", data={**VALID, "name": ""})
    assert bad.status_code == 422
    with app.app_context():
        assert db.session.get(Station, sid).version == 2


def test_search_filters_and_fragment(app, login):
    client = login("staff")
    _station(client, app)
    _station(client, app, name="农大专家工作站", kind="expert", host_org="内蒙古农业大学",
             cluster_ids=[shipped_id("cluster", "肉羊")])
    page = client.get("/stations/?q=农业大学").get_data(as_text=True)
    assert "农大专家工作站" in page and "土左旗奶业基层工作站" not in page
    page = client.get("/stations/?kind=grassroots").get_data(as_text=True)
    assert "土左旗奶业基层工作站" in page and "农大专家工作站" not in page
    page = client.get(f"/stations/?cluster={shipped_id('cluster', '肉羊')}").get_data(as_text=True)
    assert "农大专家工作站" in page and "土左旗奶业基层工作站" not in page
    page = client.get(f"/stations/?county={OTHER_COUNTY}").get_data(as_text=True)
    assert "农大专家工作站" not in page and "土左旗奶业基层工作站" not in page
    fragment = client.get("/stations/?q=农大", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "农大专家工作站" in fragment


def test_pagination(app, login):
    app.config["PAGE_SIZE"] = 2
    client = login("staff")
    for n in range(3):
        _station(client, app, name=f"工作站{n}")
    first = client.get("/stations/").get_data(as_text=True)
    assert "工作站0" in first and "工作站2" not in first
    assert "工作站2" in client.get("/stations/?page=2").get_data(as_text=True)


def test_phone_masked_for_reviewer_also_in_history(app, login):
    client = login("staff")
    sid = _station(client, app)
    client.post("/logout")
    page = login("reviewer").get(f"/stations/{sid}").get_data(as_text=True)
    assert "13912345678" not in page and "139****5678" in page
    assert "13912345678" not in login("reviewer").get("/stations/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/stations/{oid}", "/stations/{oid}/edit", "/stations/{oid}/delete",
                                 "/stations/{oid}/sites/new", "/stations/sites/{site_id}",
                                 "/stations/sites/{site_id}/edit", "/stations/no-such-id",
                                 "/stations/sites/nope"])
def test_another_nodes_station_and_site_are_404_and_unlisted(app, login, url):
    client = login("staff")
    with app.app_context():
        other = Station(name="和林格尔工作站", kind="grassroots", owner_node="150122-01")
        db.session.add(other)
        db.session.flush()
        site = Site(name="和林基地", kind="industry_base", station_id=other.id, owner_node="150122-01")
        db.session.add(site)
        db.session.commit()
        oid, site_id = other.id, site.id
    assert client.get(url.format(oid=oid, site_id=site_id)).status_code == 404
    assert client.post(f"/stations/{oid}/delete").status_code == 404
    assert "和林格尔" not in client.get("/stations/?q=和林").get_data(as_text=True)


def test_site_create_edit_history_and_link_back(app, login):
    client = login("staff")
    sid = _station(client, app)
    village = _village(app)
    response = client.post(f"/stations/{sid}/sites/new", data={
        "name": "什拉乌素奶牛示范基地", "kind": "industry_base", "village_id": village,
        "cluster_id": shipped_id("cluster", "奶业")})
    assert response.status_code == 302
    site_id = _only_id(app, Site)
    with app.app_context():
        site = db.session.get(Site, site_id)
        assert site.station_id == sid and site.owner_node == "150121-01" and site.village_id == village
    assert client.post(f"/stations/sites/{site_id}/edit", data={
        "name": "什拉乌素奶牛示范基地", "kind": "trial_station", "village_id": village}).status_code == 302
    page = client.get(f"/stations/sites/{site_id}").get_data(as_text=True)
    assert f"/stations/{sid}" in page and "什拉乌素村" in page
    assert "特色产业基地" in page or "Characteristic industry base" in page  # old kind in history
    assert "什拉乌素奶牛示范基地" in client.get(f"/stations/{sid}").get_data(as_text=True)


@pytest.mark.parametrize("bad", [{"name": "", "kind": "service_point"}, {"name": "点", "kind": "fort"},
                                 {"name": "点", "kind": "service_point", "village_id": "foreign"},
                                 {"name": "点", "kind": "service_point", "village_id": COUNTY}],
                         ids=["no-name", "unknown-kind", "foreign-village", "not-a-village"])
def test_invalid_site_is_422_and_writes_nothing(app, login, bad):
    client = login("staff")
    sid = _station(client, app)
    if bad.get("village_id") == "foreign":
        bad = {**bad, "village_id": _village(app, "外旗村", owner="150122-01")}
    assert client.post(f"/stations/{sid}/sites/new", data=bad).status_code == 422
    assert count(app, Site) == 0


def test_station_delete_refused_while_it_has_sites_or_commissioners(app, login):
    client = login("staff")
    sid = _station(client, app)
    client.post(f"/stations/{sid}/sites/new", data={"name": "服务点", "kind": "service_point"})
    site_id = _only_id(app, Site)
    refused = client.post(f"/stations/{sid}/delete")
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert 'role="alert"' in body and "土左旗奶业基层工作站" in body
    assert client.get(f"/stations/{sid}/delete").status_code == 200
    with app.app_context():
        assert db.session.get(Station, sid).deleted_at is None
    assert client.post(f"/stations/sites/{site_id}/delete").status_code == 302
    cid = _add(app, Commissioner(name="王建国", station_id=sid, owner_node="150121-01"))
    assert "王建国" in client.get(f"/stations/{sid}").get_data(as_text=True)
    assert client.post(f"/stations/{sid}/delete").status_code == 409
    with app.app_context():
        db.session.get(Commissioner, cid).station_id = None
        db.session.commit()
    assert client.post(f"/stations/{sid}/delete").status_code == 302
    assert client.get(f"/stations/{sid}").status_code == 404
    assert "土左旗奶业基层工作站" not in client.get("/stations/").get_data(as_text=True)


def test_delete_and_restore_station_and_site(app, login):
    client = login("staff")
    sid = _station(client, app)
    client.post(f"/stations/{sid}/sites/new", data={"name": "服务点", "kind": "service_point"})
    site_id = _only_id(app, Site)
    client.post(f"/stations/sites/{site_id}/delete")
    assert client.get(f"/stations/sites/{site_id}").status_code == 404
    assert client.post(f"/stations/sites/{site_id}/restore").status_code == 403
    client.post(f"/stations/{sid}/delete")
    client.post("/logout")
    admin = login("admin")
    assert "土左旗奶业基层工作站" in admin.get("/stations/?show=deleted").get_data(as_text=True)
    admin.post(f"/stations/sites/{site_id}/restore")  # refused: its station is deleted
    with app.app_context():
        assert db.session.get(Site, site_id).deleted_at is not None
    assert admin.post(f"/stations/{sid}/restore").status_code == 302
    assert admin.post(f"/stations/sites/{site_id}/restore").status_code == 302
    with app.app_context():
        assert db.session.get(Site, site_id).deleted_at is None
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == sid)
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete", "restore"]


def test_reviewer_cannot_write(app, login):
    client = login("reviewer")
    assert client.get("/stations/new").status_code == 403
    assert client.post("/stations/new", data=VALID).status_code == 403
    assert count(app, Station) == 0


def test_league_user_chooses_among_the_leagues_counties(app, login):
    from app.auth.services import create_user
    with app.app_context():
        create_user(username="league", password="secret-pass-1", role="league_admin", node_code="1501")
    client = login("league")
    page = client.get("/stations/new").get_data(as_text=True)
    assert COUNTY in page and OTHER_COUNTY in page
    assert shipped_id("place", "150202") not in page  # a county of another league
    sid = _station(client, app, county_id=OTHER_COUNTY)
    with app.app_context():
        assert db.session.get(Station, sid).owner_node == "1501"
