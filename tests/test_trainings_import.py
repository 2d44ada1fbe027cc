"""The sign-in sheet: the print page, the XLSX, and reading a filled sheet back (XLSX
or CSV) with row errors shown and nothing written until a clean file is confirmed;
and evidence attachments."""
import io
import re

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Attachment, TrainingAttendee
from tests.factories import create_training, head_counts

COLUMNS = ["序号", "姓名", "性别", "民族", "嘎查/村", "电话", "类别", "签名"]
GOOD = [[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", "张三"],
        [2, "李四", "男", "汉族", "察素齐镇把什村", "13900000000", "致富带头人", ""],
        [3, "王五", "男", "", "外乡某村", "", "村书记", ""]]


def filled_sheet(client, record_id, rows) -> bytes:
    """The session's own XLSX sign-in sheet with ``rows`` written into its blank rows."""
    wb = load_workbook(io.BytesIO(client.get(f"/trainings/{record_id}/sign-in.xlsx").data))
    ws = wb.active
    header = next(r for r in range(1, 10) if ws.cell(r, 2).value == "姓名")
    for offset, row in enumerate(rows, start=1):
        for col, value in enumerate(row, start=1):
            ws.cell(header + offset, col, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def as_csv(rows, header=COLUMNS, encoding="utf-8-sig") -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return "\r\n".join(lines).encode(encoding)


def upload(client, record_id, data, name="签到表.xlsx"):
    return client.post(f"/trainings/{record_id}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def roster_size(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TrainingAttendee)
                                 .where(TrainingAttendee.deleted_at.is_(None)))


def test_print_page_has_header_and_numbered_rows_without_nav(app, login, places):
    client = login("staff")
    record_id = create_training(client, places, status="planned")
    page = client.get(f"/trainings/{record_id}/sign-in").get_data(as_text=True)
    assert "css/sign-in.css" in page  # styles from files only (no inline styles: the CSP)
    css = client.get("/static/css/sign-in.css").get_data(as_text=True)
    assert "@media print" in css and "size: A4" in css
    assert 'class="mainnav"' not in page and "<nav" not in page
    assert "玉米密植高产技术培训" in page and "王建国" in page and "李教授" in page
    assert "红旗村" in page
    for column in COLUMNS:
        assert f"<th>{column}</th>" in page
    assert "<td>30</td>" in page and "<td>31</td>" not in page
    assert "<td>40</td>" in client.get(f"/trainings/{record_id}/sign-in?rows=40").get_data(as_text=True)


def test_sign_in_xlsx_has_header_and_columns(app, login, places):
    client = login("staff")
    record_id = create_training(client, places, status="planned")
    response = client.get(f"/trainings/{record_id}/sign-in.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert "玉米密植高产技术培训" in values[0][0]
    assert any(row[0] == "授课人" and "王建国" in row[1] for row in values[:6])
    header = next(i for i, row in enumerate(values) if row[1] == "姓名")
    assert list(values[header]) == COLUMNS
    assert [row[0] for row in values[header + 1:]] == list(range(1, 31))
    assert int(ws.page_setup.paperSize) == 9  # A4


def test_filled_xlsx_previews_then_confirm_writes(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    response = upload(client, record_id, filled_sheet(client, record_id, GOOD))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert roster_size(app) == 0  # nothing written before the confirm
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', page) or \
        re.search(r'value="([0-9a-f]{32})"', page)
    response = client.post(f"/trainings/{record_id}/import/confirm", data={"token": token.group(1)})
    assert response.status_code == 302
    assert roster_size(app) == 3
    with app.app_context():
        rows = {a.name: a for a in db.session.scalars(select(TrainingAttendee))}
        assert rows["张三"].village.name == "红旗村" and rows["张三"].sex == "female"
        assert rows["李四"].village.name == "把什村" and rows["李四"].category == "rich_leader"
        assert rows["王五"].village_id is None and rows["王五"].village_text == "外乡某村"
    # the same token cannot be used twice
    again = client.post(f"/trainings/{record_id}/import/confirm", data={"token": token.group(1)})
    assert again.status_code == 422 and roster_size(app) == 3
    # the same file again adds no one: the people are on the roster already, unchanged
    response = upload(client, record_id, filled_sheet(client, record_id, GOOD))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "/import/confirm" not in page
    assert page.count('<span class="badge">已在签到名单中</span>') == 3 and roster_size(app) == 3


def test_row_errors_are_listed_in_chinese_and_nothing_written(app, login, places):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    client = login("staff")
    record_id = create_training(client, places)
    rows = GOOD + [
        [4, "赵六", "男", "汉族", "红旗村", "12345", "农牧民", ""],  # bad phone
        [5, "钱七", "男", "汉族", "红旗村", "", "路人", ""],  # unknown category
        [6, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", ""],  # repeats row 1
        [7, "", "男", "", "", "", "农牧民", ""],  # no name
        [8, "孙八", "未知", "", "", "", "", ""],  # bad sex, no category
    ]
    response = upload(client, record_id, filled_sheet(client, record_id, rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "12345" in page and "路人" in page and "赵六" in page
    assert page.count('<ul class="error">') == 5
    assert 'name="partial" value="1"' in page  # the valid rows may be added, if the user chooses
    assert roster_size(app) == 0


def test_file_problems_are_422(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    missing = as_csv([[1, "张三", "女", "农牧民"]], header=["序号", "姓名", "性别", "类别"])
    response = upload(client, record_id, missing, "sheet.csv")
    assert response.status_code == 422 and "民族" in response.get_data(as_text=True)
    unknown = as_csv([[1, "张三", "女", "蒙古族", "红旗村", "", "农牧民", "", "x"]],
                     header=COLUMNS + ["身高"])
    response = upload(client, record_id, unknown, "sheet.csv")
    assert response.status_code == 422 and "身高" in response.get_data(as_text=True)
    assert upload(client, record_id, b"\x00\x01garbage", "sheet.xlsx").status_code == 422
    assert upload(client, record_id, b"PK\x03\x04broken", "sheet.xlsx").status_code == 422
    assert upload(client, record_id, as_csv([]), "sheet.csv").status_code == 422
    assert client.post(f"/trainings/{record_id}/import").status_code == 422
    assert roster_size(app) == 0


def test_csv_in_gb18030_with_poverty_column(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    data = as_csv([[1, "张三", "女", "蒙古族", "红旗村", "13812345678", "农牧民", "", "是"]],
                  header=COLUMNS + ["脱贫户"], encoding="gb18030")
    response = upload(client, record_id, data, "签到表.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    token = re.search(r'value="([0-9a-f]{32})"', page).group(1)
    assert client.post(f"/trainings/{record_id}/import/confirm",
                       data={"token": token}).status_code == 302
    with app.app_context():
        attendee = db.session.scalar(select(TrainingAttendee))
        assert attendee.poverty_alleviated and attendee.ethnicity == "蒙古族"


def test_sheet_disagreeing_with_head_counts_is_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    client.post(f"/trainings/{record_id}/counts", data=head_counts(count_farmer=10))
    response = upload(client, record_id, filled_sheet(client, record_id, GOOD))
    assert response.status_code == 422 and "≠" in response.get_data(as_text=True)
    assert "/import/confirm" not in response.get_data(as_text=True)
    assert roster_size(app) == 0


def test_confirm_with_a_forged_token_is_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/import/confirm", data={"token": "0" * 32})
    assert response.status_code == 422 and roster_size(app) == 0


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2400, 1200), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_evidence_photo_and_pdf_attached_and_bad_file_refused(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    url = f"/trainings/{record_id}/attachments"
    response = client.post(url, data={"file": (io.BytesIO(_jpeg()), "现场.jpg"), "kind": "photo"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(url, data={"file": (io.BytesIO(pdf), "课件.pdf"), "kind": "document"},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    response = client.post(url, data={"file": (io.BytesIO(b"not an image"), "x.jpg"),
                                      "kind": "scan"}, content_type="multipart/form-data")
    assert response.status_code == 422
    with app.app_context():
        found = db.session.scalars(select(Attachment).where(Attachment.record_id == record_id)).all()
        assert sorted(a.kind for a in found) == ["document", "photo"]
        photo = next(a for a in found if a.kind == "photo")
        assert max(photo.width, photo.height) == 1600
        sha = photo.sha256
    page = client.get(f"/trainings/{record_id}").get_data(as_text=True)
    assert sha in page or photo.thumb_sha256 in page
    assert client.get(f"/files/{sha}").status_code == 200
