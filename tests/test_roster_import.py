"""The roster import that helps (issue 13 item 7): valid rows added while invalid ones
are listed (the user's choice, nothing written before it), re-import adds the new
people and leaves those on the roster unchanged, full-width digits and spaces, the
synonyms of sex, ethnicity and category, the sheet found by its header, and no roster
for a session still to come."""
import io
import re
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import TrainingAttendee
from tests.factories import create_training

HEADER = ["序号", "姓名", "性别", "民族", "嘎查/村", "电话", "类别", "签名"]


def book(rows, first_sheet=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if first_sheet is not None:
        ws.title = "说明"
        ws.append([first_sheet])
        ws = wb.create_sheet("签到")
    ws.append(["培训签到表"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, record_id, data):
    return client.post(f"/trainings/{record_id}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), "签到表.xlsx")})


def token(page):
    return re.search(r'value="([0-9a-f]{32})"', page).group(1)


def roster(app, record_id):
    with app.app_context():
        return {a.name: a for a in db.session.scalars(select(TrainingAttendee).where(
            TrainingAttendee.training_id == record_id, TrainingAttendee.deleted_at.is_(None)))}


def test_valid_rows_can_be_added_while_invalid_ones_are_listed(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    rows = [[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", ""],
            [2, "赵六", "男", "汉族", "红旗村", "12345", "农牧民", ""]]
    response = upload(client, record_id, book(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "12345" in page
    assert roster(app, record_id) == {}  # nothing written before the user chooses
    # without the partial choice, a file with errors is not written
    assert client.post(f"/trainings/{record_id}/import/confirm",
                       data={"token": token(page)}).status_code == 422
    assert roster(app, record_id) == {}
    page = upload(client, record_id, book(rows)).get_data(as_text=True)
    response = client.post(f"/trainings/{record_id}/import/confirm",
                           data={"token": token(page), "partial": "1"})
    assert response.status_code == 302
    assert set(roster(app, record_id)) == {"张三"}


def test_reimport_adds_new_people_and_reports_the_others_unchanged(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    first = [[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", ""],
             [2, "李四", "男", "汉族", "把什村", "", "农牧民", ""]]
    page = upload(client, record_id, book(first)).get_data(as_text=True)
    assert client.post(f"/trainings/{record_id}/import/confirm",
                       data={"token": token(page)}).status_code == 302
    later = first + [[3, "王五", "男", "汉族", "红旗村", "13900001111", "农牧民", ""]]
    response = upload(client, record_id, book(later))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('<span class="badge">已在签到名单中</span>') == 2
    assert re.search(r"<button[^>]*>[^<]*1[^<]*</button>", page)
    response = client.post(f"/trainings/{record_id}/import/confirm", data={"token": token(page)})
    assert response.status_code == 302
    assert set(roster(app, record_id)) == {"张三", "李四", "王五"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TrainingAttendee)) == 3


def test_full_width_digits_spaces_and_synonyms(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    rows = [[1, "张　三", "女性", "蒙族", "红旗村", "１３８ １２３４ ５６７８", "农民", ""],
            [2, "李四", "男士", "汉", "把什村", "", "村支书", ""],
            [3, "王五", "女士", "回", "", "", "合作社理事长", ""]]
    response = upload(client, record_id, book(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert client.post(f"/trainings/{record_id}/import/confirm",
                       data={"token": token(page)}).status_code == 302
    people = roster(app, record_id)
    assert people["张三"].phone == "13812345678" and people["张三"].sex == "female"
    assert people["张三"].ethnicity == "蒙古族" and people["张三"].category == "farmer"
    assert people["李四"].sex == "male" and people["李四"].category == "village_secretary"
    assert people["李四"].ethnicity == "汉族" and people["王五"].category == "coop_head"


def test_the_roster_sheet_is_found_by_its_header(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    rows = [[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", ""]]
    response = upload(client, record_id, book(rows, first_sheet="请在第二个工作表填写"))
    assert response.status_code == 200 and "签到" in response.get_data(as_text=True)
    wb = Workbook()
    wb.active.title = "封面"
    wb.create_sheet("统计").append(["合计", 3])
    out = io.BytesIO()
    wb.save(out)
    response = upload(client, record_id, out.getvalue())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "封面、统计" in page and "姓名" in page


def test_no_roster_for_a_session_still_to_come(app, login, places):
    client = login("staff")
    later = (date.today() + timedelta(days=5)).isoformat()
    record_id = create_training(client, places, held_on=later, status="planned")
    assert later in client.get(f"/trainings/{record_id}/import").get_data(as_text=True)
    rows = [[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", ""]]
    response = upload(client, record_id, book(rows))
    assert response.status_code == 422 and later in response.get_data(as_text=True)
    response = client.post(f"/trainings/{record_id}/attendees", data={
        "name": "张三", "sex": "female", "category": "farmer"})
    assert response.status_code == 422 and roster(app, record_id) == {}
