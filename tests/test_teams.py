"""Industry service teams: members and leader, unique names, history, delete, scope."""
import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import AuditEntry, Commissioner, OutboxEntry, ServiceTeam
from app.models.shipped import shipped_id
from tests.factories import count

SHEEP = shipped_id("cluster", "肉羊")


def _people(app, *names, owner="150121-01"):
    with app.app_context():
        people = [Commissioner(name=n, owner_node=owner) for n in names]
        db.session.add_all(people)
        db.session.commit()
        return [p.id for p in people]


def _team(client, app, **data):
    response = client.post("/teams/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.get(response.location)  # shows (and so clears) the flash message
    with app.app_context():
        return db.session.scalar(select(ServiceTeam.id).where(ServiceTeam.name == data["name"]))


def test_create_team_with_members_and_leader(app, login):
    wang, li, zhao = _people(app, "王建国", "李梅", "赵强")
    client = login("staff")
    form = client.get("/teams/new").get_data(as_text=True)
    assert "王建国" in form and "李梅" in form and "赵强" in form
    tid = _team(client, app, name="肉羊产业服务团", cluster_id=SHEEP, leader_id=wang,
                member_ids=[wang, li])
    with app.app_context():
        team = db.session.get(ServiceTeam, tid)
        assert team.owner_node == "150121-01" and team.leader_id == wang
        assert sorted(m.name for m in team.members) == ["李梅", "王建国"]
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.record_id == tid)) == 1
    page = client.get(f"/teams/{tid}").get_data(as_text=True)
    assert "李梅" in page and "王建国" in page and "肉羊" in page and "赵强" not in page
    members = page[page.index('id="members"'):]
    assert "(2)" in members and members.index("李梅") < members.index("王建国")  # by name
    assert members.count('class="badge"') == 1 and f"/commissioners/{wang}" in members


def test_members_offered_by_name_and_only_the_nodes(app, login):
    _people(app, "Carl", "Anna", "Bob")
    _people(app, "Zed from elsewhere", owner="150122-01")
    form = login("staff").get("/teams/new").get_data(as_text=True)
    assert form.index("Anna") < form.index("Bob") < form.index("Carl")
    assert "Zed from elsewhere" not in form


def test_leader_must_be_a_member(app, login):
    wang, li = _people(app, "王建国", "李梅")
    client = login("staff")
    response = client.post("/teams/new", data={"name": "肉羊产业服务团", "leader_id": wang,
                                               "member_ids": [li]})
    assert response.status_code == 422
    assert 'id="leader_id-err"' in response.get_data(as_text=True)
    assert count(app, ServiceTeam) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.record_type == "service_team")) == 0


@pytest.mark.parametrize("bad", [
    lambda wang, foreign: {"name": ""},
    lambda wang, foreign: {"name": "团", "member_ids": [foreign]},
    lambda wang, foreign: {"name": "团", "leader_id": foreign, "member_ids": [wang]},
    lambda wang, foreign: {"name": "团", "cluster_id": "no-such-cluster"}],
    ids=["no-name", "foreign-member", "foreign-leader", "unknown-cluster"])
def test_other_invalid_input_is_422_and_writes_nothing(app, login, bad):
    wang, = _people(app, "王建国")
    foreign, = _people(app, "外旗专家", owner="150122-01")
    client = login("staff")
    assert client.post("/teams/new", data=bad(wang, foreign)).status_code == 422
    assert count(app, ServiceTeam) == 0


def test_name_unique_among_live_teams(app, login):
    client = login("staff")
    tid = _team(client, app, name="奶业产业服务团")
    response = client.post("/teams/new", data={"name": " 奶业产业服务团 "})
    assert response.status_code == 422 and 'id="name-err"' in response.get_data(as_text=True)
    assert client.post(f"/teams/{tid}/edit", data={"name": "奶业产业服务团"}).status_code == 302
    client.post(f"/teams/{tid}/delete")
    _team(client, app, name="奶业产业服务团")  # the name is free once the old team is deleted
    assert count(app, ServiceTeam) == 2
    client.post("/logout")
    admin = login("admin")
    admin.post(f"/teams/{tid}/restore")  # refused: a live team has the name now
    with app.app_context():
        assert db.session.get(ServiceTeam, tid).deleted_at is not None


def test_edit_members_shows_history(app, login):
    wang, li = _people(app, "王建国", "李梅")
    client = login("staff")
    tid = _team(client, app, name="肉牛产业服务团", member_ids=[wang], leader_id=wang)
    response = client.post(f"/teams/{tid}/edit", data={"name": "肉牛产业服务团", "member_ids": [wang, li],
                                                       "leader_id": li, "cluster_id": SHEEP})
    assert response.status_code == 302
    with app.app_context():
        team = db.session.get(ServiceTeam, tid)
        assert team.version == 2 and team.leader_id == li and len(team.members) == 2
        changes = db.session.scalars(select(AuditEntry.changes).where(AuditEntry.record_id == tid)
                                     .order_by(AuditEntry.id)).all()[-1]
    assert changes["members"] == [["王建国"], ["李梅", "王建国"]]
    assert changes["leader"] == ["王建国", "李梅"]
    page = client.get(f"/teams/{tid}").get_data(as_text=True)
    assert "肉羊" in page and page.count("李梅") >= 3  # member, leader, history


def test_search_cluster_filter_and_pagination(app, login):
    app.config["PAGE_SIZE"] = 2
    client = login("staff")
    _team(client, app, name="肉羊产业服务团", cluster_id=SHEEP)
    _team(client, app, name="奶业产业服务团")
    _team(client, app, name="马铃薯产业服务团")
    page = client.get("/teams/?q=肉羊").get_data(as_text=True)
    assert "肉羊产业服务团" in page and "奶业产业服务团" not in page
    page = client.get(f"/teams/?cluster={SHEEP}").get_data(as_text=True)
    assert "肉羊产业服务团" in page and "奶业产业服务团" not in page
    first = client.get("/teams/").get_data(as_text=True)
    second = client.get("/teams/?page=2").get_data(as_text=True)
    names = ("肉羊产业服务团", "奶业产业服务团", "马铃薯产业服务团")
    assert sum(n in first for n in names) == 2 and sum(n in second for n in names) == 1
    fragment = client.get("/teams/?q=奶", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "奶业产业服务团" in fragment


def test_delete_and_restore(app, login):
    client = login("staff")
    tid = _team(client, app, name="蔬菜产业服务团")
    assert client.get(f"/teams/{tid}/delete").status_code == 200
    assert client.post(f"/teams/{tid}/delete").status_code == 302
    assert client.get(f"/teams/{tid}").status_code == 404
    assert "蔬菜产业服务团" not in client.get("/teams/").get_data(as_text=True)
    assert client.post(f"/teams/{tid}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert admin.post(f"/teams/{tid}/restore").status_code == 302
    assert admin.get(f"/teams/{tid}").status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == tid)
                                     .order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete", "restore"]


@pytest.mark.parametrize("url", ["/teams/{oid}", "/teams/{oid}/edit", "/teams/{oid}/delete", "/teams/nope"])
def test_another_nodes_team_is_404_and_unlisted(app, login, url):
    with app.app_context():
        other = ServiceTeam(name="和林肉牛服务团", owner_node="150122-01")
        db.session.add(other)
        db.session.commit()
        oid = other.id
    client = login("staff")
    assert client.get(url.format(oid=oid)).status_code == 404
    assert client.post(f"/teams/{oid}/edit", data={"name": "x"}).status_code == 404
    assert "和林肉牛服务团" not in client.get("/teams/?q=和林").get_data(as_text=True)
    _team(client, app, name="和林肉牛服务团")  # another node's name does not clash


def test_reviewer_cannot_write(app, login):
    client = login("reviewer")
    assert client.get("/teams/").status_code == 200
    assert client.post("/teams/new", data={"name": "团"}).status_code == 403
    assert count(app, ServiceTeam) == 0
