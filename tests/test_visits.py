"""Field visits: the rules, the human number, entry forms, roles and node scope, list
filters, full-text search in Chinese, keyset pages, exports, delete and restore."""
import csv
import io
from datetime import date, timedelta

import pytest
from flask import g
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.core.extensions import db
from app.core.i18n import force_locale, gettext
from app.models import AuditEntry, Commissioner, OutboxEntry, Visit
from tests.factories import count, visit_form
from tests.settings import STATION

OTHER = "150121-02"


def only_visit(app):
    with app.app_context():
        return db.session.scalar(select(Visit.id))


def test_create_writes_visit_number_audit_and_outbox(app, login, world):
    client = login("staff")
    response = client.post("/visits/new?form=full", data=visit_form(world))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert visit.number == f"{STATION}-2025-00001" and visit.owner_node == STATION
        assert visit.hours == 2.5  # worked out from 09:00–11:30
        assert visit.station_id == world["station"]  # the commissioner's station
        assert [c.name for c in visit.commissioners] == ["王建国"]
        assert visit.service_type_list == ["guidance", "consulting"]
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.record_id == visit.id)).all()
        assert [a.action for a in audit] == ["create"]
        assert audit[0].changes["commissioners"] == [None, ["王建国"]]
        outbox = db.session.scalars(select(OutboxEntry).where(OutboxEntry.record_id == visit.id)).all()
        assert [o.action for o in outbox] == ["create"]
        assert outbox[0].fields["commissioners"] == [world["wang"]]
    client.post("/visits/new", data=visit_form(world))
    client.post("/visits/new", data=visit_form(world, visited_on="2024-12-31"))
    with app.app_context():
        numbers = db.session.scalars(select(Visit.number).order_by(Visit.number)).all()
    assert numbers == [f"{STATION}-2024-00001", f"{STATION}-2025-00001", f"{STATION}-2025-00002"]


def _proposed_id(client) -> str:
    import re
    page = client.get("/visits/new?form=full").get_data(as_text=True)
    return re.search(r'id="visit_id"[^>]*value="([^"]+)"', page).group(1)


def test_the_same_new_visit_form_sent_twice_is_saved_once(app, login, world):
    client = login("staff")
    proposed = _proposed_id(client)
    first = client.post("/visits/new?form=full", data=visit_form(world, visit_id=proposed))
    again = client.post("/visits/new?form=full", data=visit_form(world, visit_id=proposed,
                                                                  problem="再次提交"))
    assert first.headers["Location"] == again.headers["Location"] == f"/visits/{proposed}"
    assert "没有重复保存" in client.get(f"/visits/{proposed}").get_data(as_text=True)
    assert count(app, Visit) == 1
    with app.app_context():
        assert db.session.get(Visit, proposed).problem == "母羊产后瘫痪，食欲不振"
    assert _proposed_id(client) != proposed  # a fresh form proposes a fresh id


@pytest.mark.parametrize("proposed", ["5b0a3c1e-0000-4000-8000-000000000001", "not-a-uuid",
                                      "5B0A3C1E-0000-4000-8000-000000000001"],
                         ids=["taken", "not-a-uuid", "taken-upper-case"])
def test_a_proposed_id_that_is_not_new_gets_a_new_one(app, login, world, proposed):
    client = login("staff")
    other = "5b0a3c1e-0000-4000-8000-000000000001"
    with app.app_context():
        g.actor = "test"
        db.session.add(Visit(id=other, number="150122-01-2025-00001", year=2025, sequence=1,
                             visited_on=date(2025, 1, 1), owner_node="150122-01"))
        db.session.commit()
    response = client.post("/visits/new?form=full", data=visit_form(world, visit_id=proposed))
    assert response.status_code == 302 and other not in response.headers["Location"]
    assert count(app, Visit) == 2
    with app.app_context():
        assert db.session.get(Visit, other).owner_node == "150122-01"


@pytest.mark.parametrize("field,value,message", [
    ("visited_on", lambda: (date.today() + timedelta(days=1)).isoformat(), "future"),  # tomorrow
    # as the test runs (a suite that starts before midnight ends after it)
    ("end_time", "08:00", "after the start"),
    ("hours", "25", "between 0 and 24"),
    ("hours", "-1", "between 0 and 24"),
    ("latitude", "12.5", "latitude must lie in Inner Mongolia"),
    ("longitude", "200", "longitude must lie in Inner Mongolia"),
    ("commissioner_ids", [], "at least one commissioner"),
    ("problem", "字" * 2001, "2000"),
])
def test_bad_input_is_a_field_error_422_and_nothing_written(app, login, world, field, value, message):
    client = login("staff", lang="en")
    data = visit_form(world, **{field: value() if callable(value) else value})
    if field == "end_time":
        data["hours"] = ""
    response = client.post("/visits/new?form=full", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body, body[body.find('class="error"') - 200:][:600]
    assert 'aria-invalid="true"' in body
    assert count(app, Visit) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.record_type == "visit")) == 0


@pytest.mark.parametrize("field,key", [("commissioner_ids", "far"), ("target_ids", "far_target"),
                                       ("village_id", "v_other"), ("commissioner_ids", None)])
def test_records_of_another_node_are_refused(app, login, world, field, key):
    client = login("staff")
    value = world[key] if key else "no-such-id"
    value = [value] if field.endswith("_ids") else value
    response = client.post("/visits/new?form=full", data=visit_form(world, **{field: value}))
    assert response.status_code == 422
    assert count(app, Visit) == 0


def test_service_rules_directly(app, world):
    from app.visits.services import rule_errors
    with app.test_request_context():
        from flask_login import login_user

        from app.models import User
        login_user(db.session.scalar(select(User).where(User.username == "wang")))
        base = {"visited_on": date(2025, 1, 2), "commissioner_ids": [world["wang"]],
                "mode": "onsite"}
        assert rule_errors(base) == {}
        assert "commissioner_ids" in rule_errors({**base, "commissioner_ids": [world["li"]]})
        assert "latitude" in rule_errors({**base, "longitude": 111.0})
        assert "follow_up_on" in rule_errors({**base, "follow_up": True,
                                              "follow_up_on": date(2025, 1, 1)})
        assert "service_types" in rule_errors({**base, "service_types": ["dancing"]})


def test_commissioner_short_form_defaults_and_own_visits_only(app, login, world):
    staff = login("staff")
    staff.post("/visits/new?form=full", data=visit_form(world, commissioner_ids=[world["li"]],
                                                         problem="李的记录"))
    staff.post("/logout")
    client = login("wang")
    page = client.get("/visits/new").get_data(as_text=True)
    assert 'action="/visits/new?form=short"' in page
    assert f'value="{date.today().isoformat()}"' in page
    assert f'name="commissioner_ids" value="{world["wang"]}" checked' in page
    assert 'capture="environment"' in page and 'accept="image/*"' in page
    short = {"visited_on": date.today().isoformat(), "commissioner_ids": [world["wang"]],
             "village_id": world["v2"], "mode": "onsite", "problem": "玉米螟虫害严重"}
    response = client.post("/visits/new?form=short", data=short)
    assert response.status_code == 302
    again = client.get("/visits/new").get_data(as_text=True)
    assert f'<option selected value="{world["v2"]}"' in again  # the last village used
    listing = client.get("/visits/").get_data(as_text=True)
    assert "玉米螟虫害严重" in listing and "李的记录" not in listing
    with app.app_context():
        li_visit = db.session.scalar(select(Visit.id).where(Visit.problem == "李的记录"))
    assert client.get(f"/visits/{li_visit}").status_code == 404
    assert client.get(f"/visits/{li_visit}/edit").status_code == 404
    # a commissioner cannot log a visit without themselves
    response = client.post("/visits/new?form=short", data={**short, "commissioner_ids": [world["li"]]})
    assert response.status_code == 422


def test_staff_see_all_of_the_station_and_nobody_another_nodes(app, login, world):
    with app.app_context():
        g.actor = "test"
        far = Visit(number=f"{OTHER}-2025-00001", year=2025, sequence=1, visited_on=date(2025, 1, 1),
                    owner_node=OTHER, problem="外站的记录")
        db.session.add(far)
        db.session.commit()
        far_id = far.id
    client = login("staff")
    client.post("/visits/new", data=visit_form(world))
    listing = client.get("/visits/").get_data(as_text=True)
    assert "母羊产后瘫痪" in listing and "外站的记录" not in listing
    assert client.get(f"/visits/{far_id}").status_code == 404
    assert client.post(f"/visits/{far_id}/edit", data=visit_form(world)).status_code == 404
    assert "共 0 条" in client.get("/visits/?q=外站的记录").get_data(as_text=True)


def test_edit_keeps_number_bumps_version_and_shows_history(app, login, world):
    client = login("staff")
    client.post("/visits/new", data=visit_form(world))
    vid = only_visit(app)
    response = client.post(f"/visits/{vid}/edit", data=visit_form(world, result="完全康复",
                                                                   visited_on="2026-01-05"))
    assert response.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.version == 2 and visit.result == "完全康复"
        assert visit.number == f"{STATION}-2025-00001"
    page = client.get(f"/visits/{vid}").get_data(as_text=True)
    assert "完全康复" in page and "三天后母羊恢复站立" in page  # history shows both
    # every field of the history is named, and coded values shown as words
    assert "<th>commissioners</th>" not in page and "<th>targets</th>" not in page
    assert "guidance consulting" not in page and "技术指导、咨询答疑" in page


def test_review_state_is_shown_read_only(app, login, world):
    client = login("staff")
    client.post("/visits/new", data=visit_form(world))
    vid = only_visit(app)
    client.post(f"/visits/{vid}/edit", data=visit_form(world, review_state="approved",
                                                       review_comment="hack"))
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.review_state == "" and visit.review_comment == ""
        visit.review_state, visit.review_comment = "has_issues", "缺少照片"
        db.session.commit()
    page = client.get(f"/visits/{vid}").get_data(as_text=True)
    assert "缺少照片" in page
    assert "缺少照片" not in client.get(f"/visits/{vid}/edit").get_data(as_text=True)
    assert client.get("/visits/?review=has_issues").get_data(as_text=True).count(f'/visits/{vid}"') == 1
    assert f'/visits/{vid}"' not in client.get("/visits/?review=approved").get_data(as_text=True)


def test_delete_confirm_then_admin_restores(app, login, world):
    client = login("staff")
    client.post("/visits/new", data=visit_form(world))
    vid = only_visit(app)
    assert "<form" in client.get(f"/visits/{vid}/delete").get_data(as_text=True)
    assert client.post(f"/visits/{vid}/delete").status_code == 302
    assert client.get(f"/visits/{vid}").status_code == 404
    assert client.post(f"/visits/{vid}/restore").status_code == 403
    client.post("/logout")
    admin = login("admin")
    assert "母羊" in admin.get("/visits/?show=deleted").get_data(as_text=True)
    admin.post(f"/visits/{vid}/restore")
    with app.app_context():
        assert db.session.get(Visit, vid).deleted_at is None
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.record_id == vid)
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["create", "delete", "restore"]


def test_commissioner_and_reviewer_cannot_delete(app, login, world):
    client = login("wang")
    client.post("/visits/new", data=visit_form(world))
    vid = only_visit(app)
    assert client.post(f"/visits/{vid}/delete").status_code == 403
    client.post("/logout")
    reviewer = login("reviewer")
    assert reviewer.get("/visits/new").status_code == 403
    assert reviewer.post(f"/visits/{vid}/edit", data=visit_form(world)).status_code == 403


def _bulk(app, world, n=60):
    """``n`` visits over ``n`` days with every third problem mentioning 玉米螟."""
    with app.app_context():
        g.actor = "test"
        wang = db.session.get(Commissioner, world["wang"])
        li = db.session.get(Commissioner, world["li"])
        for i in range(n):
            day = date(2024, 1, 1) + timedelta(days=i)
            db.session.add(Visit(
                number=f"{STATION}-2024-{i + 1:05d}", year=2024, sequence=i + 1, visited_on=day,
                owner_node=STATION, commissioners=[wang if i % 2 else li],
                village_id=world["v1"] if i % 4 else world["v2"],
                stage=["pre", "during", "post"][i % 3], mode="onsite" if i % 5 else "hotline",
                service_types="guidance" if i % 2 else "policy market",
                problem=f"第{i}号：" + ("玉米螟虫害" if i % 3 == 0 else "奶牛乳房炎"),
                action="Applied Bt treatment" if i == 7 else "指导用药"))
        db.session.commit()


def test_filters_combine_and_stay_in_the_url(app, login, world):
    _bulk(app, world)
    client = login("staff")
    body = client.get(f"/visits/?q=玉米螟&commissioner={world['li']}&stage=pre"
                      f"&date_from=2024-01-01&date_to=2024-01-31").get_data(as_text=True)
    # i in 0..30, i%3==0 (玉米螟, stage pre), even (李): 0, 6, 12, 18, 24, 30
    assert "共 6 条" in body
    assert f"commissioner={world['li']}" in body and "stage=pre" in body
    body = client.get(f"/visits/?village={world['v2']}&mode=hotline").get_data(as_text=True)
    assert "共 3 条" in body  # i % 20 == 0: 0, 20, 40
    body = client.get("/visits/?service_type=market").get_data(as_text=True)
    assert "共 30 条" in body
    body = client.get("/visits/?target_name=张").get_data(as_text=True)
    assert "共 0 条" in body


@pytest.mark.parametrize("q,expected", [("玉米螟", 20), ("螟虫害", 20), ("乳房炎", 40),
                                        ("乳房", 40), ("玉米", 20), ("BT", 1), ("号：", 60),
                                        ("螟", 20), ("bt treat", 1), ("不存在的词", 0),
                                        ("米乳", 0), ('"; DROP', 0), ("100%", 0), ("%", 0)])
def test_full_text_search_works_for_chinese(app, login, world, q, expected):
    _bulk(app, world)
    client = login("staff")
    response = client.get("/visits/", query_string={"q": q})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"共 {expected} 条" in body


def test_search_index_follows_edits_and_deletes(app, login, world):
    client = login("staff")
    client.post("/visits/new", data=visit_form(world))
    vid = only_visit(app)
    assert f'/visits/{vid}"' in client.get("/visits/?q=产后瘫痪").get_data(as_text=True)
    client.post(f"/visits/{vid}/edit", data=visit_form(world, problem="羊群口蹄疫免疫"))
    assert f'/visits/{vid}"' not in client.get("/visits/?q=产后瘫痪").get_data(as_text=True)
    assert f'/visits/{vid}"' in client.get("/visits/?q=口蹄疫").get_data(as_text=True)
    # two characters (most Chinese words) are answered by the pairs index, kept in step too
    assert f'/visits/{vid}"' not in client.get("/visits/?q=瘫痪").get_data(as_text=True)
    assert f'/visits/{vid}"' in client.get("/visits/?q=免疫").get_data(as_text=True)
    assert client.post(f"/visits/{vid}/delete").status_code == 302
    assert f'/visits/{vid}"' not in client.get("/visits/?q=免疫").get_data(as_text=True)


def _matches(q):
    from app.visits import search
    return set(db.session.scalars(select(Visit.id).where(search.condition(q, db.engine.dialect.name))))


def test_search_index_rows_follow_edits_and_deletes_among_many(app, login, world):
    """Each edit and (hard) delete changes its own visit's index rows, found by key, and
    leaves the other visits' rows alone; SQLite keeps one keyed row per visit per index."""
    _bulk(app, world, n=30)
    with app.app_context():
        g.actor = "test"
        visits = db.session.scalars(select(Visit).order_by(Visit.sequence)).all()
        corn = {v.id for v in visits if "玉米螟" in v.problem}
        edited, deleted = visits[0], visits[3].id  # both 玉米螟 (i % 3 == 0)
        edited.problem = "羊群口蹄疫免疫"
        db.session.commit()
        for table in ("visit_commissioner", "visit_target"):
            db.session.execute(db.text(f"DELETE FROM {table} WHERE visit_id = :id"), {"id": deleted})
        db.session.execute(Visit.__table__.delete().where(Visit.id == deleted))
        db.session.commit()
        assert _matches("口蹄疫") == _matches("免疫") == {edited.id}
        assert _matches("玉米螟") == _matches("玉米") == corn - {edited.id, deleted}
        assert len(_matches("乳房炎")) == 20 and len(_matches("乳房")) == 20
        if db.engine.dialect.name == "sqlite":
            counts = [db.session.scalar(select(func.count()).select_from(
                db.text(table))) for table in ("visit_fts", "visit_fts_pairs", "visit_fts_key")]
            assert counts == [29, 29, 29]
            keyed = db.session.execute(db.text(
                "SELECT count(*) FROM visit_fts_key AS k JOIN visit_fts AS f ON f.rowid = k.fts_rowid "
                "JOIN visit_fts_pairs AS p ON p.rowid = k.fts_rowid "
                "WHERE f.visit_id = k.visit_id AND p.visit_id = k.visit_id")).scalar()
            assert keyed == 29


def test_keyset_pages_walk_the_whole_list_both_ways(app, login, world):
    _bulk(app, world, n=60)
    app.config["PAGE_SIZE"] = 25
    client = login("staff")
    import re
    seen, url = [], "/visits/?sort=-date"
    while url:
        body = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<td data-label="[^"]+" class="nowrap">(\d{4}-\d\d-\d\d)</td>', body)
        nxt = re.search(r'href="([^"]*after=[^"]*)"', body)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == 60 and seen == sorted(seen, reverse=True)
    last = client.get("/visits/?last=1&sort=-date").get_data(as_text=True)
    dates = re.findall(r'<td data-label="[^"]+" class="nowrap">(\d{4}-\d\d-\d\d)</td>', last)
    assert dates == seen[35:]  # a full page at the end
    prev = re.search(r'href="([^"]*before=[^"]*)"', last).group(1).replace("&amp;", "&")
    dates = re.findall(r'<td data-label="[^"]+" class="nowrap">(\d{4}-\d\d-\d\d)</td>',
                       client.get(prev).get_data(as_text=True))
    assert dates == seen[10:35]
    oldest = client.get("/visits/?sort=date").get_data(as_text=True)
    assert re.findall(r'<td data-label="[^"]+" class="nowrap">(\d{4}-\d\d-\d\d)</td>', oldest)[0] == "2024-01-01"
    assert client.get("/visits/?after=garbage&sort=nonsense").status_code == 200


DATES = r'<td data-label="[^"]+" class="nowrap">(\d{4}-\d\d-\d\d)</td>'


def _walk(client, url, link="after"):
    """The dates of every page from ``url`` on, following the next (or previous) links."""
    import re
    seen = []
    while url:
        body = client.get(url).get_data(as_text=True)
        seen.append(re.findall(DATES, body))
        nxt = re.search(rf'href="([^"]*{link}=[^"]*)"', body)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    return seen


@pytest.mark.parametrize("sort", ["-date", "date", "-number"])
def test_pages_of_a_search_or_a_commissioner_walk_both_ways(app, login, world, sort):
    """Few matches (a search, a commissioner's): pages are cut from the matches' keys."""
    _bulk(app, world, n=60)
    app.config["PAGE_SIZE"] = 15
    client = login("staff")
    for query, expected in ((f"q=乳房&sort={sort}", [i for i in range(60) if i % 3]),
                            (f"commissioner={world['wang']}&sort={sort}", list(range(1, 60, 2)))):
        dates = [str(date(2024, 1, 1) + timedelta(days=i)) for i in expected]
        dates = sorted(dates, reverse=sort != "date")
        forward = _walk(client, f"/visits/?{query}")
        assert [d for page in forward for d in page] == dates
        assert all(len(page) == 15 for page in forward[:-1])
        backward = _walk(client, f"/visits/?last=1&{query}", link="before")
        assert [d for page in reversed(backward) for d in page] == dates
        assert backward[0] == dates[-15:]


def test_htmx_fragment_and_pickers(app, login, world):
    client = login("staff")
    fragment = client.get("/visits/?q=x", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    chosen = client.get(f"/visits/chosen/commissioners?commissioner_ids={world['wang']}"
                        f"&commissioner_ids={world['far']}&commissioner_ids={world['wang']}",
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert chosen.count('type="checkbox"') == 1 and "王建国" in chosen and "外站专家" not in chosen
    form = client.get("/visits/new").get_data(as_text=True)
    assert 'hx-get="/commissioners/search"' in form and 'hx-get="/targets/search"' in form
    assert "/places/search?level=village" in form


def test_exports_have_chinese_headers_and_follow_filters(app, login, world):
    _bulk(app, world, n=9)
    client = login("staff")
    response = client.get("/visits/export.csv?q=玉米螟")
    assert response.status_code == 200 and response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    with app.test_request_context(), force_locale("zh_CN"):
        headings = [gettext("Number"), gettext("Date")]  # Chinese once the catalog has them
    assert rows[0][:2] == headings and len(rows) == 4
    response = client.get("/visits/export.xlsx?q=玉米螟", headers={"Accept-Language": "en"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    assert list(values[0][:2]) == headings and len(values) == 4
    assert client.get("/visits/export.pdf").status_code == 404


def test_seed_small_makes_visits_with_history(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        visits = db.session.scalar(select(func.count()).select_from(Visit))
        assert 20 <= visits <= 100
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.record_type == "visit")) == visits


def test_edit_sent_without_the_time_fields_keeps_the_times(app, login, world):
    """Once a 500: the record's "HH:MM" text reached the form as it was."""
    client = login("staff")
    assert client.post("/visits/new", data=visit_form(world)).status_code == 302
    visit_id = only_visit(app)
    data = visit_form(world, problem="改过的问题")
    del data["start_time"], data["end_time"]
    response = client.post(f"/visits/{visit_id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert (visit.start_time, visit.end_time, visit.problem) == ("09:00", "11:30", "改过的问题")
    page = client.get(f"/visits/{visit_id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in page and 'value="11:30"' in page
    response = client.post(f"/visits/{visit_id}/edit", data={**data, "visited_on": ""})
    assert response.status_code == 422  # invalid, and the page with the times renders
    assert 'value="09:00"' in response.get_data(as_text=True)


def test_the_last_village_is_of_the_newest_visit_the_user_still_sees(app, login, world, monkeypatch):
    """The new-visit form's village: of the user's newest visit among those they see, even
    when their newest ones (as many as it looks at first) are no longer theirs to see."""
    from app.visits import services
    monkeypatch.setattr(services, "LAST_VILLAGE_LOOK", 1)
    wang = login("wang")
    for village, problem in ((world["v1"], "王的第一条"), (world["v2"], "王的第二条")):
        short = {"visited_on": date.today().isoformat(), "commissioner_ids": [world["wang"]],
                 "village_id": village, "mode": "onsite", "problem": problem}
        assert wang.post("/visits/new?form=short", data=short).status_code == 302
    assert f'<option selected value="{world["v2"]}"' in wang.get("/visits/new").get_data(as_text=True)
    with app.app_context():  # the newest visit wang made becomes li's alone
        g.actor = "test"
        newest = db.session.scalar(select(Visit).where(Visit.problem == "王的第二条"))
        newest.commissioners = [db.session.get(Commissioner, world["li"])]
        db.session.commit()
    page = wang.get("/visits/new").get_data(as_text=True)
    assert f'<option selected value="{world["v1"]}"' in page
