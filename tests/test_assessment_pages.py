"""The assessment pages as each role: station staff prepare and submit; a commissioner
reads only their own sheet (others' are 404) and may comment; bad input is a 422 that
writes nothing; after submission the snapshot stays as submitted while the records
change, and the league's reviewer sees both; the grade comes back down; 不合格 lists
the commissioner among proposed exits."""
import re
from datetime import date
from io import BytesIO

import pytest
from flask import g
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.auth.services import create_user
from app.core.extensions import db
from app.models import AssessmentSheet, AuditEntry, Commissioner, Visit
from tests.sync_helpers import sync

STATION = "150121-01"
PASSWORD = "secret-pass-1"
YEAR = date.today().year


def audits(app):
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEntry.id)))


def sheet_of(app, commissioner_id):
    with app.app_context():
        return db.session.scalar(select(AssessmentSheet).where(
            AssessmentSheet.commissioner_id == commissioner_id))


def _open(client, commissioner_id, year=YEAR):
    response = client.post(f"/assessments/{year}/open/{commissioner_id}")
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


GOOD = {"entered-satisfaction": "95", "entered-summary": "8", "entered-press": "2",
        "self_score": "30", "proposed_grade": "pass", "summary": "全年下乡服务", "typical_case": ""}


def test_staff_prepare_and_submit_a_sheet(app, world, login):
    client = login("staff")
    page = client.get(f"/assessments/{YEAR}").get_data(as_text=True)
    assert "王建国" in page and "李秀英" in page and "外站专家" not in page
    sheet_id = _open(client, world["wang"])
    assert _open(client, world["wang"]) == sheet_id  # opening again finds the same sheet
    assert client.get(f"/assessments/sheets/{sheet_id}").status_code == 200
    before = audits(app)
    for bad in ({"entered-satisfaction": "abc"}, {"entered-satisfaction": "101"},
                {"entered-summary": "11"}, {"self_score": "-1"}, {"proposed_grade": "wizard"},
                {"entered-press": "1.234"}, {"entered-press": "1,5"},
                {"entered-satisfaction": "9，5"}):
        response = client.post(f"/assessments/sheets/{sheet_id}", data={**GOOD, **bad})
        assert response.status_code == 422, bad
        assert 'aria-invalid="true"' in response.get_data(as_text=True) or \
            "error" in response.get_data(as_text=True)
    assert audits(app) == before
    no_grade = client.post(f"/assessments/sheets/{sheet_id}/submit")
    assert no_grade.status_code == 422
    assert client.post(f"/assessments/sheets/{sheet_id}", data=GOOD).status_code == 302
    assert client.post(f"/assessments/sheets/{sheet_id}/submit").status_code == 302
    sheet = sheet_of(app, world["wang"])
    assert sheet.status == "submitted" and sheet.submission == 1
    assert sheet.snapshot["result"]["scores"]["satisfaction"] == "10"
    assert sheet.snapshot["result"]["scores"]["summary"] == "8"
    # submitted: the station's part is frozen until the league returns it
    assert client.post(f"/assessments/sheets/{sheet_id}", data=GOOD).status_code == 409
    assert client.post(f"/assessments/sheets/{sheet_id}/submit").status_code == 409
    # staff cannot set the final grade
    assert client.post(f"/assessments/sheets/{sheet_id}/review",
                       data={"action": "grade", "final_grade": "excellent"}).status_code == 403
    assert sheet_of(app, world["wang"]).final_grade == ""


def test_a_commissioner_sees_only_their_own_sheet(app, world, login):
    staff = login("staff")
    wang_sheet = _open(staff, world["wang"])
    li_sheet = _open(staff, world["li"])
    staff.post("/logout")
    wang = login("wang")
    assert wang.get(f"/assessments/sheets/{li_sheet}").status_code == 404
    page = wang.get(f"/assessments/sheets/{wang_sheet}").get_data(as_text=True)
    assert "entered-satisfaction" not in page and "Submit to the league" not in page \
        and "报送盟市" not in page
    year = wang.get(f"/assessments/{YEAR}").get_data(as_text=True)
    assert "王建国" in year and "李秀英" not in year
    assert wang.post(f"/assessments/sheets/{wang_sheet}", data=GOOD).status_code == 403
    assert wang.post(f"/assessments/sheets/{wang_sheet}/submit").status_code == 403
    assert wang.post(f"/assessments/{YEAR}/open/{world['li']}").status_code in (403, 404)
    assert wang.post(f"/assessments/sheets/{li_sheet}/comment",
                     data={"commissioner_comment": "x"}).status_code == 404
    assert wang.post(f"/assessments/sheets/{wang_sheet}/comment",
                     data={"commissioner_comment": "同意"}).status_code == 302
    assert sheet_of(app, world["wang"]).commissioner_comment == "同意"
    assert wang.get("/assessments/exits").status_code == 404


def _visit(app, commissioner_id, n, on):
    with app.app_context():
        g.actor = "test"
        person = db.session.get(Commissioner, commissioner_id)
        visit = Visit(number=f"{STATION}-{on.year}-{n:05d}", year=on.year, sequence=n,
                      visited_on=on, commissioners=[person], owner_node=STATION)
        db.session.add(visit)
        db.session.commit()
        return visit.id


def test_snapshot_stays_reviewer_sees_the_difference_grade_comes_down(nodes):
    station, league, transport = nodes
    with station.app_context():
        g.actor = "test"
        person = Commissioner(name="王建国", owner_node=STATION)
        db.session.add(person)
        db.session.commit()
        person_id = person.id
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
    with league.app_context():
        g.actor = "test"
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer",
                    node_code="1501")
    first = _visit(station, person_id, 1, date(YEAR, 1, 1))
    _visit(station, person_id, 2, date(YEAR, 1, 2))
    staff = station.test_client()
    assert staff.post("/login", data={"username": "staff", "password": PASSWORD}).status_code == 302
    sheet_id = _open(staff, person_id)
    assert staff.post(f"/assessments/sheets/{sheet_id}", data=GOOD).status_code == 302
    assert staff.post(f"/assessments/sheets/{sheet_id}/submit").status_code == 302
    # after submission a visit moves out of the year
    with station.app_context():
        g.actor = "test"
        db.session.get(Visit, first).visited_on = date(YEAR - 1, 12, 31)
        db.session.commit()
    sheet = sheet_of(station, person_id)
    assert sheet.snapshot["computed"]["visits"] == 2 and sheet.snapshot["computed"]["service_days"] == 2
    assert sheet.snapshot["result"]["figures"]["visits"] == "2"
    run = sync(station, transport)
    assert (run.rejected, run.held) == (0, 0)
    reviewer = league.test_client()
    assert reviewer.post("/login", data={"username": "reviewer", "password": PASSWORD}).status_code == 302
    listing = reviewer.get("/assessments/review").get_data(as_text=True)
    assert sheet_id in listing
    page = reviewer.get(f"/assessments/sheets/{sheet_id}").get_data(as_text=True)
    assert "Figures changed since submission" in page or "提交后数据有变化" in page
    changed = page[page.index("<tbody>"):page.index("</tbody>")]
    assert re.search(r"服务次数</td><td class=\"num\">2</td><td class=\"num\">1</td>", changed)
    # the reviewer cannot rewrite the station's part
    assert reviewer.post(f"/assessments/sheets/{sheet_id}", data=GOOD).status_code == 403
    assert reviewer.post(f"/assessments/sheets/{sheet_id}/review",
                         data={"action": "return", "review_comment": ""}).status_code == 422
    assert reviewer.post(f"/assessments/sheets/{sheet_id}/review",
                         data={"action": "grade", "final_grade": "fail",
                               "review_comment": "服务天数不足"}).status_code == 302
    with league.app_context():
        graded = db.session.get(AssessmentSheet, sheet_id)
        assert (graded.status, graded.summary) == ("graded", "全年下乡服务")
        assert graded.snapshot["result"]["figures"]["visits"] == "2"
    sync(station, transport)
    sheet = sheet_of(station, person_id)
    assert (sheet.status, sheet.final_grade, sheet.review_comment) == ("graded", "fail", "服务天数不足")
    exits = staff.get("/assessments/exits").get_data(as_text=True)
    assert "王建国" in exits
    with station.app_context():
        assert db.session.get(Commissioner, person_id).status != "exited"  # nobody exits by itself


def test_a_returned_sheet_is_edited_and_submitted_again(nodes):
    station, league, transport = nodes
    with station.app_context():
        g.actor = "test"
        person = Commissioner(name="李秀英", owner_node=STATION)
        db.session.add(person)
        db.session.commit()
        person_id = person.id
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
    with league.app_context():
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer", node_code="1501")
    staff = station.test_client()
    staff.post("/login", data={"username": "staff", "password": PASSWORD})
    sheet_id = _open(staff, person_id)
    staff.post(f"/assessments/sheets/{sheet_id}", data=GOOD)
    staff.post(f"/assessments/sheets/{sheet_id}/submit")
    sync(station, transport)
    reviewer = league.test_client()
    reviewer.post("/login", data={"username": "reviewer", "password": PASSWORD})
    assert reviewer.post(f"/assessments/sheets/{sheet_id}/review",
                         data={"action": "return", "review_comment": "请补充典型案例"}).status_code == 302
    sync(station, transport)
    assert sheet_of(station, person_id).status == "returned"
    assert staff.post(f"/assessments/sheets/{sheet_id}",
                      data={**GOOD, "typical_case": "带动合作社增收"}).status_code == 302
    assert staff.post(f"/assessments/sheets/{sheet_id}/submit").status_code == 302
    sheet = sheet_of(station, person_id)
    assert (sheet.status, sheet.submission) == ("submitted", 2)
    sync(station, transport)
    with league.app_context():
        assert db.session.get(AssessmentSheet, sheet_id).status == "submitted"


def test_the_years_sheets_export_to_xlsx(app, world, login):
    import io

    from openpyxl import load_workbook
    client = login("staff")
    response = client.get(f"/assessments/{YEAR}?format=xlsx")
    assert response.status_code == 200
    assert f"{YEAR}%E5%B9%B4%E5%BA%A6%E8%80%83%E6%A0%B8-150121-01-" in \
        response.headers["Content-Disposition"]  # 年度考核, the one file-name style
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "科技特派员" and sheet["C1"].value == "服务天数"
    assert sheet.freeze_panes == "B2"
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert sorted(names) == ["李秀英", "王建国"]
    first = next(sheet.iter_rows(min_row=2))
    assert first[2].value == 0 and first[1].value == "未开始"
    assert login("wang").get(f"/assessments/{YEAR}?format=xlsx").status_code == 200


def test_evidence_files_on_a_sheet(app, world, login):
    import io

    from app.models import Attachment
    client = login("staff")
    sheet_id = _open(client, world["wang"])
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    bad = client.post(f"/assessments/sheets/{sheet_id}/evidence",
                      data={"file": (io.BytesIO(b"not a pdf"), "x.pdf"), "indicator": ""},
                      content_type="multipart/form-data")
    assert bad.status_code == 422
    good = client.post(f"/assessments/sheets/{sheet_id}/evidence",
                       data={"file": (io.BytesIO(pdf), "满意度调查.pdf"), "indicator": "服务对象满意度"},
                       content_type="multipart/form-data")
    assert good.status_code == 302
    with app.app_context():
        (found,) = db.session.scalars(select(Attachment).where(Attachment.record_id == sheet_id)).all()
        assert (found.record_type, found.caption, found.owner_node) == \
            ("assessment_sheet", "服务对象满意度", STATION)
    page = client.get(f"/assessments/sheets/{sheet_id}").get_data(as_text=True)
    assert "满意度调查.pdf" in page
    client.post(f"/assessments/sheets/{sheet_id}", data=GOOD)
    client.post(f"/assessments/sheets/{sheet_id}/submit")
    late = client.post(f"/assessments/sheets/{sheet_id}/evidence",
                       data={"file": (io.BytesIO(pdf), "晚了.pdf")}, content_type="multipart/form-data")
    assert late.status_code == 409


def test_a_commissioner_reads_the_evidence_files_of_their_own_sheet_only(app, world, login):
    """The files the station attached to a commissioner's sheet open for that
    commissioner (to read: they cannot add one); another's sheet's files stay a 404."""
    import io

    from app.models import Attachment
    staff = login("staff")
    files = {}
    for who, body in (("wang", b"wang"), ("li", b"li")):
        sheet_id = _open(staff, world[who])
        pdf = b"%PDF-1.4\n% " + body + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
        answer = staff.post(f"/assessments/sheets/{sheet_id}/evidence",
                            data={"file": (io.BytesIO(pdf), f"{who}.pdf"), "indicator": ""},
                            content_type="multipart/form-data")
        assert answer.status_code == 302
        with app.app_context():
            files[who] = (sheet_id, db.session.scalar(select(Attachment.sha256).where(
                Attachment.record_id == sheet_id)))
    assert files["wang"][1] != files["li"][1]
    staff.post("/logout")
    wang = login("wang")
    own_sheet, own_file = files["wang"]
    opened = wang.get(f"/files/{own_file}")
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF") and b"wang" in opened.data
    page = wang.get(f"/assessments/sheets/{own_sheet}").get_data(as_text=True)
    assert "wang.pdf" in page and f"/assessments/sheets/{own_sheet}/evidence" not in page
    assert wang.get(f"/files/{files['li'][1]}").status_code == 404
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert wang.post(f"/assessments/sheets/{own_sheet}/evidence",
                     data={"file": (io.BytesIO(pdf), "mine.pdf"), "indicator": ""},
                     content_type="multipart/form-data").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id)).where(
            Attachment.record_id == own_sheet)) == 1


@pytest.mark.parametrize("page", ["/assessments/{year}", "/assessments/{year}/stations"])
def test_a_years_list_heads_with_its_export_its_neighbours_and_its_scheme(app, world, login, page):
    """The commissioners' and the workstations' lists share their head: Excel export and
    the years either side of the same list, and the scheme that scores the year (or the
    warning that none does)."""
    client = login("staff")
    for year, scheme in ((2025, True), (2020, False)):
        url = page.format(year=year)
        html = client.get(url).get_data(as_text=True)
        assert f'href="{url}?format=xlsx"' in html
        assert f'href="{page.format(year=year - 1)}"' in html and f'href="{page.format(year=year + 1)}"' in html
        assert ("示范）</a> (" in html) == scheme  # the shipped scheme's name, and its edition
        assert ("本年度没有适用的考核方案" in html) == (not scheme)


def test_the_year_page_shows_a_page_of_commissioners_the_workbook_all(app, world, login):
    app.config["PAGE_SIZE"] = 1
    client = login("staff")
    first = client.get(f"/assessments/{YEAR}").get_data(as_text=True)
    second = client.get(f"/assessments/{YEAR}", query_string={"page": "2"}).get_data(as_text=True)
    names = [n for n in ("李秀英", "王建国") if n in first] + [n for n in ("李秀英", "王建国")
                                                                 if n in second]
    assert sorted(names) == ["李秀英", "王建国"]  # one a page, each once
    assert f'href="/assessments/{YEAR}?page=2"' in first and "外站专家" not in first + second
    beyond = client.get(f"/assessments/{YEAR}", query_string={"page": "99"})
    assert beyond.status_code == 200
    response = client.get(f"/assessments/{YEAR}", query_string={"format": "xlsx"})
    rows = [r[0] for r in load_workbook(BytesIO(response.data)).worksheets[0].iter_rows(
        min_row=2, values_only=True)]
    assert {"李秀英", "王建国"} <= set(rows)
