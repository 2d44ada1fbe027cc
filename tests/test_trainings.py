"""Training sessions: the session rules, roster and head counts (and how they must
agree), figures, list filters, exports, attendees and target links, node scope."""
import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.extensions import db
from app.models import AuditEntry, Commissioner, OutboxEntry, ServiceTarget, Training, TrainingAttendee
from app.models.shipped import shipped_id
from tests.factories import count, create_training, head_counts, training_form

STATION = "150121-01"
TODAY = date.today()


def person(places, **extra):
    return {"name": "张三", "sex": "female", "ethnicity": "蒙古族", "village_id": places["红旗村"],
            "phone": "13812345678", "category": "farmer", "poverty_alleviated": "y", **extra}


def results(client, **query) -> str:
    """The list's results only (what htmx asks for), without the filters around them."""
    return client.get("/trainings/", query_string=query,
                      headers={"HX-Request": "true"}).get_data(as_text=True)


def test_create_session_with_trainers_audit_and_outbox(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    with app.app_context():
        t = db.session.get(Training, record_id)
        assert (t.title, t.hours, t.status, t.owner_node) == ("玉米密植高产技术培训", 3.0, "held",
                                                              STATION)
        assert [c.name for c in t.trainers] == ["王建国"] and t.village.name == "红旗村"
        trainer_id = t.trainers[0].id
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.record_id == t.id)) \
            == "create"
        assert db.session.scalar(select(OutboxEntry.action)
                                 .where(OutboxEntry.record_id == t.id)) == "create"
    page = client.get(f"/trainings/{record_id}").get_data(as_text=True)
    assert "玉米密植高产技术培训" in page and "李教授" in page
    assert f'<a href="/commissioners/{trainer_id}">王建国</a>、李教授' in page  # linked, then outside


@pytest.mark.parametrize("extra, field, message", [
    ({"hours": "25"}, "hours", "24"),
    ({"hours": "0"}, "hours", "24"),
    ({"hours": "-1"}, "hours", "24"),
    ({"held_on": (TODAY + timedelta(days=2)).isoformat()}, "held_on", "future"),
    ({"village_id": "", "place_text": ""}, "place_text", "where"),
    ({"title": ""}, "title", ""),
])
def test_bad_session_is_422_and_writes_nothing(app, login, places, extra, field, message):
    client = login("staff", lang="en")
    response = client.post("/trainings/new", data=training_form(places, **extra))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-err"' in page and message in page
    assert count(app, Training, alive=True) == 0


def test_planned_session_in_the_future_and_online_without_place(app, login, places):
    client = login("staff")
    create_training(client, places, status="planned", held_on=(TODAY + timedelta(days=5)).isoformat())
    create_training(client, places, mode="online", village_id="", place_text="")
    assert count(app, Training, alive=True) == 2


def test_roster_figures_women_minorities_poverty(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    assert client.post(f"/trainings/{record_id}/attendees", data=person(places)).status_code == 302
    assert client.post(f"/trainings/{record_id}/attendees", data=person(
        places, name="李四", sex="male", ethnicity="汉族", phone="13900000000",
        category="rich_leader", poverty_alleviated="")).status_code == 302
    with app.app_context():
        from app.trainings import figures, services
        f = figures.from_roster(services.attendees(db.session.get(Training, record_id)))
        assert (f.source, f.total, f.women, f.minorities, f.poverty) == ("roster", 2, 1, 1, 1)
        assert f.by_category == {"rich_leader": 1, "farmer": 1}
        a = db.session.scalar(select(TrainingAttendee).where(TrainingAttendee.name == "张三"))
        assert a.owner_node == STATION and a.village.name == "红旗村"
    listing = client.get("/trainings/").get_data(as_text=True)
    assert "2 people" in listing or "2 人" in listing


def test_same_person_twice_on_roster_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    response = client.post(f"/trainings/{record_id}/attendees", data=person(places))
    assert response.status_code == 422
    assert count(app, TrainingAttendee, alive=True) == 1


def test_bad_attendee_phone_is_422(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/attendees", data=person(places, phone="12345"))
    assert response.status_code == 422 and 'id="phone-err"' in response.get_data(as_text=True)
    assert count(app, TrainingAttendee, alive=True) == 0


def test_head_counts_give_figures_when_no_roster(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/counts",
                           data=head_counts(count_farmer=30, count_village_secretary=2, women_count=12))
    assert response.status_code == 302
    with app.app_context():
        from app.trainings import figures
        t = db.session.get(Training, record_id)
        f = figures.for_sessions([t])[record_id]
        assert (f.source, f.total, f.women, f.minorities) == ("counts", 32, 12, None)
        assert f.by_category == {"village_secretary": 2, "farmer": 30}


@pytest.mark.parametrize("values, field", [
    ({"count_farmer": -3}, "count_farmer"),
    ({"count_farmer": 3, "women_count": -1}, "women_count"),
    ({"count_farmer": 3, "women_count": 5}, "women_count"),
    ({"count_farmer": "abc"}, "count_farmer"),
])
def test_bad_head_counts_are_422(app, login, places, values, field):
    client = login("staff")
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/counts", data=head_counts(**values))
    assert response.status_code == 422
    assert f'id="{field}-err"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Training, record_id).head_counts == {}


def test_head_counts_that_disagree_with_roster_are_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    response = client.post(f"/trainings/{record_id}/counts", data=head_counts(count_farmer=5))
    assert response.status_code == 422
    assert 'id="count_farmer-err"' in response.get_data(as_text=True)
    # counts that agree with the roster are accepted
    assert client.post(f"/trainings/{record_id}/counts",
                       data=head_counts(count_farmer=1, women_count=1)).status_code == 302


def test_roster_change_that_disagrees_with_head_counts_is_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/counts", data=head_counts(count_farmer=1))
    # one farmer: agrees
    assert client.post(f"/trainings/{record_id}/attendees", data=person(places)).status_code == 302
    # a second person would make the roster disagree with the counts
    response = client.post(f"/trainings/{record_id}/attendees",
                           data=person(places, name="李四", phone="13900000000"))
    assert response.status_code == 422
    assert count(app, TrainingAttendee, alive=True) == 1
    # clearing the counts lets the roster grow
    assert client.post(f"/trainings/{record_id}/counts", data=head_counts()).status_code == 302
    assert client.post(f"/trainings/{record_id}/attendees",
                       data=person(places, name="李四", phone="13900000000")).status_code == 302
    assert count(app, TrainingAttendee, alive=True) == 2


def test_removing_a_person_that_breaks_agreement_is_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    client.post(f"/trainings/{record_id}/attendees", data=person(places, name="李四", sex="male",
                                                                 phone="13900000000"))
    assert client.post(f"/trainings/{record_id}/counts",
                       data=head_counts(count_farmer=2, women_count=1)).status_code == 302
    with app.app_context():
        attendee_id = db.session.scalar(select(TrainingAttendee.id)
                                        .where(TrainingAttendee.name == "李四"))
    client.post(f"/trainings/{record_id}/attendees/{attendee_id}/remove")
    assert count(app, TrainingAttendee, alive=True) == 2


def test_disagreement_arriving_by_sync_is_shown(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    with app.app_context():  # as if the counts came from another node
        t = db.session.get(Training, record_id)
        t.head_counts = {"farmer": 9}
        db.session.commit()
    page = client.get(f"/trainings/{record_id}").get_data(as_text=True)
    assert "9 ≠ 1" in page


def test_edit_and_remove_attendee(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    with app.app_context():
        attendee_id = db.session.scalar(select(TrainingAttendee.id))
    url = f"/trainings/{record_id}/attendees/{attendee_id}"
    assert client.get(url).status_code == 200
    assert client.post(url, data=person(places, category="technician")).status_code == 302
    with app.app_context():
        assert db.session.get(TrainingAttendee, attendee_id).category == "technician"
    assert client.post(url + "/remove").status_code == 302
    assert count(app, TrainingAttendee, alive=True) == 0
    assert client.get(url).status_code == 404


def test_target_suggested_and_linked_only_when_confirmed(app, login, places):
    client = login("staff")
    with app.app_context():
        target = ServiceTarget(name="张三", kind="household", village_id=places["红旗村"],
                               phone="13812345678", owner_node=STATION)
        other = ServiceTarget(name="张三", kind="household", village_id=places["把什村"],
                              owner_node=STATION)
        db.session.add_all([target, other])
        db.session.commit()
        target_id, other_id = target.id, other.id
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/attendees", data=person(places))
    assert response.status_code == 302 and "/attendees/" in response.headers["Location"]
    with app.app_context():
        attendee = db.session.scalar(select(TrainingAttendee))
        assert attendee.target_id is None  # never linked silently
        attendee_id = attendee.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert -1 < page.index(f'value="{target_id}"') < page.index(f'value="{other_id}"')
    link = f"/trainings/{record_id}/attendees/{attendee_id}/link"
    assert client.post(link, data={"target_id": target_id}).status_code == 302
    with app.app_context():
        assert db.session.get(TrainingAttendee, attendee_id).target_id == target_id
    assert client.post(link, data={"target_id": "no-such-id"}).status_code == 404
    assert client.post(link, data={"target_id": ""}).status_code == 302
    with app.app_context():
        assert db.session.get(TrainingAttendee, attendee_id).target_id is None


def test_list_filters_and_search(app, login, places):
    client = login("staff")
    first = create_training(client, places)
    create_training(client, places, title="肉羊养殖培训", content="疫病防控", mode="online",
           status="planned", held_on=(TODAY + timedelta(days=10)).isoformat(), trainer_ids=[])
    client.post(f"/trainings/{first}/attendees", data=person(places, category="coop_head"))

    def titles(**query):
        return results(client, **query)

    assert "肉羊养殖培训" in titles(q="疫病") and "玉米密植" not in titles(q="疫病")
    assert "玉米密植" in titles(q="水肥") and "肉羊" not in titles(q="水肥")
    assert "肉羊" in titles(mode="online") and "玉米密植" not in titles(mode="online")
    assert "玉米密植" in titles(status="held") and "肉羊" not in titles(status="held")
    assert "玉米密植" in titles(trainer=places["王建国"]) and "肉羊" not in titles(trainer=places["王建国"])
    assert "玉米密植" in titles(category="coop_head") and "肉羊" not in titles(category="coop_head")
    future = (TODAY + timedelta(days=1)).isoformat()
    assert "肉羊" in titles(date_from=future) and "玉米密植" not in titles(date_from=future)
    assert "玉米密植" in titles(date_to=TODAY.isoformat()) and "肉羊" not in titles(date_to=TODAY.isoformat())
    assert client.get("/trainings/?date_from=garbage&page=99").status_code == 200


def test_category_filter_sees_head_counts(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    create_training(client, places, title="另一场培训")
    client.post(f"/trainings/{record_id}/counts", data=head_counts(count_enterprise_head=4))
    page = results(client, category="enterprise_head")
    assert "玉米密植" in page and "另一场培训" not in page


def test_fragment_request_gets_the_results_only(app, login, places):
    client = login("staff")
    create_training(client, places)
    response = client.get("/trainings/", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page and "玉米密植" in page


def test_export_xlsx_and_csv_of_the_filtered_list(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    create_training(client, places, title="肉羊养殖培训", mode="online")
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    response = client.get("/trainings/export.xlsx?mode=offline")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("培训名称", "日期", "学时", "地点") and "农牧民" in rows[0]
    assert len(rows) == 2 and rows[1][0] == "玉米密植高产技术培训"
    header = list(rows[0])
    assert rows[1][header.index("参训人数")] == 1 and rows[1][header.index("女性")] == 1
    assert rows[1][header.index("方式")] == "线下" and rows[1][header.index("农牧民")] == 1
    response = client.get("/trainings/export.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0][0] == "培训名称" and len(table) == 3
    assert client.get("/trainings/export.pdf").status_code == 404


def test_edit_delete_restore_and_history(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    assert client.post(f"/trainings/{record_id}/edit",
                       data=training_form(places, hours="4.5")).status_code == 302
    page = client.get(f"/trainings/{record_id}").get_data(as_text=True)
    assert "4.5" in page
    assert client.post(f"/trainings/{record_id}/delete").status_code == 302
    assert client.get(f"/trainings/{record_id}").status_code == 404
    client.post("/logout")
    admin = login("admin")
    assert admin.post(f"/trainings/{record_id}/restore").status_code == 302
    assert admin.get(f"/trainings/{record_id}").status_code == 200


def test_other_nodes_session_is_404_and_reviewer_cannot_write(app, login, places):
    with app.app_context():
        other = Training(title="别处的培训", held_on=TODAY, hours=2, owner_node="150122-01",
                         head_counts={})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    client = login("staff")
    assert client.get(f"/trainings/{other_id}").status_code == 404
    assert client.get(f"/trainings/{other_id}/sign-in").status_code == 404
    assert "别处的培训" not in client.get("/trainings/").get_data(as_text=True)
    assert client.get("/trainings/no-such-id").status_code == 404
    client.post("/logout")
    reviewer = login("reviewer")
    assert reviewer.post("/trainings/new", data=training_form(places)).status_code == 403


def test_phone_masked_for_reviewer(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/attendees", data=person(places))
    with app.app_context():  # a league reviewer looking at the station's record
        from app.models import User
        reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
        reviewer.node_code = STATION
        db.session.commit()
    client.post("/logout")
    page = login("reviewer").get(f"/trainings/{record_id}").get_data(as_text=True)
    assert "13812345678" not in page and "138****5678" in page


def test_remembered_count_and_filters_follow_every_write(app, login, places):
    """The list's count and drop-downs are remembered until the data changes: a new
    session, a new commissioner or a deleted roster line shows at once."""
    client = login("staff")
    first = create_training(client, places)
    page = client.get("/trainings/").get_data(as_text=True)
    assert "共 1 条" in page and "新来的专家" not in page
    assert "玉米密植" not in results(client, category="coop_head")
    with app.app_context():
        db.session.add(Commissioner(name="新来的专家", owner_node=STATION))
        db.session.commit()
    create_training(client, places, title="肉羊养殖培训")
    page = client.get("/trainings/").get_data(as_text=True)
    assert "共 2 条" in page and "新来的专家" in page and "肉羊养殖培训" in page
    client.post(f"/trainings/{first}/attendees", data=person(places, category="coop_head"))
    assert "玉米密植" in results(client, category="coop_head")
    with app.app_context():
        attendee = db.session.scalar(select(TrainingAttendee.id))
    client.post(f"/trainings/{first}/attendees/{attendee}/remove")
    assert "玉米密植" not in results(client, category="coop_head")
    assert "共 0 条" in results(client, category="coop_head")


def test_list_lines_show_place_trainers_and_pages(app, login, places):
    """A list line's village (with its township), trainers and cluster; page numbers."""
    client = login("staff")
    create_training(client, places, cluster_id=shipped_id("cluster", "肉羊"))
    line = results(client)
    assert "察素齐镇 红旗村" in line and "王建国、李教授" in line and "肉羊" in line
    app.config["PAGE_SIZE"] = 1
    create_training(client, places, title="第二场", village_id="", place_text="村委会", trainer_ids=[],
           outside_trainers="", held_on=(TODAY - timedelta(days=1)).isoformat())
    first, second = results(client, page=1), results(client, page=2)
    assert "第二场" in first and "村委会" in first and "—" in first and "玉米密植" in second
    assert "玉米密植" in results(client, page=99)  # a page past the end shows the last


@pytest.mark.parametrize("cut_first_from", [0, 10**6])
def test_list_pages_cut_in_order_at_every_edge_with_filters(app, login, places, monkeypatch,
                                                            cut_first_from):
    """Every page of the list, filtered or not, holds the next sessions in the list's order
    (newest first, then by id on the same day), the count says how many match, and a page
    past the end shows the last, whether a page is cut before its rows are numbered (deep
    pages) or numbered as it is cut (records.CUT_FIRST_FROM)."""
    import re

    from app.core import records
    monkeypatch.setattr(records, "CUT_FIRST_FROM", cut_first_from)
    client = login("staff", lang="en")
    made = []
    for n, days in enumerate((1, 1, 1, 2, 3, 3, 4, 5)):
        title = f"{'玉米' if n % 2 else '小麦'}培训{n}"
        held = TODAY - timedelta(days=days)
        made.append((held, create_training(client, places, title=title, held_on=held.isoformat(),
                                           status="planned" if n in (2, 5) else "held"), title))
    app.config["PAGE_SIZE"] = 3

    def order(rows):
        return [i for _held, i, _t in sorted(rows, key=lambda r: (-r[0].toordinal(), r[1]))]

    cases = [({}, made), ({"q": "玉米"}, [m for m in made if "玉米" in m[2]]),
             ({"date_from": (TODAY - timedelta(days=3)).isoformat()},
              [m for m in made if m[0] >= TODAY - timedelta(days=3)]),
             ({"status": "planned"}, [m for m in made if m[2].endswith(("2", "5"))])]
    for args, matching in cases:
        expected, shown = order(matching), []
        pages = -(-len(expected) // 3)
        for number in range(1, pages + 1):
            page = results(client, page=number, **args)
            ids = re.findall(r'href="/trainings/([0-9a-f-]{36})"', page)
            assert len(ids) == min(3, len(expected) - (number - 1) * 3), (args, number)
            assert f"{len(expected)} in all" in page
            shown += ids
        assert shown == expected, args
        last = re.findall(r'href="/trainings/([0-9a-f-]{36})"', results(client, page=99, **args))
        assert last == expected[(pages - 1) * 3:]
