"""Excel import: template, preview with every row's errors, refusal of non-XLSX files,
confirm writing all rows in one transaction, and a tampered token refused."""
import io
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.core import choices
from app.core.extensions import db
from app.core.i18n import force_locale
from app.imports.columns import COMMISSIONERS, TARGETS
from app.models import AuditEntry, Commissioner, OutboxEntry, Place, ServiceTarget
from app.models.shipped import shipped_id
from tests.factories import count

STATION = "150121-01"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def village(app):
    """A township 察素齐镇 with the village 红旗村, owned by the station."""
    with app.app_context():
        township = Place(name="察素齐镇", level="township", owner_node=STATION,
                         parent_id=shipped_id("place", "150121"))
        db.session.add(township)
        db.session.flush()
        red_flag = Place(name="红旗村", level="village", parent_id=township.id,
                         owner_node=STATION)
        db.session.add(red_flag)
        db.session.commit()
        return red_flag.id


def xlsx(header, *rows) -> io.BytesIO:
    """A workbook built in memory: a header row and data rows on its first sheet."""
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def upload(client, kind, data, name="roster.xlsx"):
    return client.post(f"/imports/{kind}", data={"file": (data, name)},
                       content_type="multipart/form-data")


def _token(body: str) -> str:
    marker = 'name="token" type="hidden" value="'
    start = body.index(marker) + len(marker)
    return body[start:start + 32]


def zh(app, vocab, code):
    """A vocabulary label in Chinese, as the template and the preview show it."""
    with app.test_request_context(), force_locale("zh_CN"):
        return str(vocab[code])


@pytest.mark.parametrize("spec", [COMMISSIONERS, TARGETS])
def test_template_opens_with_headers_explanations_and_an_example(app, login, spec):
    client = login("staff")
    response = client.get(f"/imports/{spec.kind}/template.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    data, notes = wb.worksheets
    header = [cell.value for cell in data[1]]
    assert header == [c.header + ("*" if c.required else "") for c in spec.columns]
    assert header[0] in ("姓名*", "名称*")
    filled = [row for row in data.iter_rows(min_row=2, values_only=True) if any(row)]
    assert len(filled) == 1 and filled[0][0] in ("王建国", "张三")
    assert notes.title == "填写说明" and notes.max_row >= len(spec.columns) + 1
    kind_row = next(row for row in notes.iter_rows(values_only=True) if row[0].startswith("类型"))
    vocab = spec.column("kind").vocab
    assert kind_row[2] == "、".join(zh(app, vocab, code) for code in vocab)


def test_the_example_row_itself_imports(app, login, village):
    client = login("staff")
    template = client.get("/imports/targets/template.xlsx").data
    response = upload(client, "targets", io.BytesIO(template))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.post("/imports/targets/confirm",
                       data={"token": _token(response.get_data(as_text=True))}).status_code == 302
    with app.app_context():
        target = db.session.scalar(select(ServiceTarget))
        assert (target.name, target.village_id, target.poverty_alleviated) == ("张三", village, True)


def test_list_pages_link_to_the_import_and_download_opts_out_of_boost(app, login):
    client = login("staff")
    assert "/imports/targets" in client.get("/targets/").get_data(as_text=True)
    assert "/imports/commissioners" in client.get("/commissioners/").get_data(as_text=True)
    page = client.get("/imports/targets").get_data(as_text=True)
    assert 'hx-boost="false"' in page and "/imports/targets/template.xlsx" in page


def test_bad_rows_show_each_error_and_write_nothing(app, login, village):
    client = login("staff")
    header = ["姓名*", "类型", "手机号码", "身份证号", "状态", "选派日期", "产业集群", "“三区”科技人才"]
    data = xlsx(header,
                ["王建国", "个人", "13812345678", "", "", None, "肉羊", "是"],
                ["", "团队", "12345", "", "", None, "", ""],
                ["李梅", "外星人", "", "110105194912310021", "", None, "", ""],
                ["赵强", "", "", "", "dispatched", None, "火星", "也许"],
                ["王建国", "", "", "", "", "2024-13-40", "", ""])
    response = upload(client, "commissioners", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for expected in ("必填", "11 位手机号", "外星人", "校验位",
                     "请填写选派日期", "火星", "请填写“是”或“否”", "与文件第2行重复",
                     "不是有效的日期值"):
        assert expected in body, expected
    assert 'name="token"' not in body
    assert count(app, Commissioner) == 0 and count(app, OutboxEntry) == 2  # the places'
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.record_type == "commissioner")) == 0


@pytest.mark.parametrize("data", ["名称,电话\n张三,13812345678\n".encode(),  # a CSV
                                  b"PK\x03\x04 not really a zip",
                                  b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600],  # an old .xls
                         ids=["csv", "not-a-zip", "xls"])
def test_non_xlsx_renamed_is_refused_with_422(app, login, data):
    client = login("staff", lang="en")
    response = upload(client, "targets", io.BytesIO(data), "targets.xlsx")
    assert response.status_code == 422
    assert "not an Excel workbook" in response.get_data(as_text=True)
    assert count(app, ServiceTarget) == 0


def test_no_file_and_unknown_columns_are_422(app, login):
    client = login("staff")
    assert client.post("/imports/targets", data={}).status_code == 422
    response = upload(client, "targets", xlsx(["名称", "类型", "颜色"], ["张三", "农牧户", "红"]))
    assert response.status_code == 422 and "颜色" in response.get_data(as_text=True)
    response = upload(client, "targets", xlsx(["联系人"], ["张三"]))
    assert response.status_code == 422 and "名称" in response.get_data(as_text=True)


def test_clean_file_previews_then_confirms_all_rows_with_audit(app, login, village):
    client = login("staff", lang="en")
    household = zh(app, choices.TARGET_KINDS, "household")
    header = [c.header for c in TARGETS.columns]
    rows = [["张三", household, "察素齐镇 红旗村", "张三", 13812345678, "11010519491231002X",
             "", "是", "", 4, ""],
            ["红旗肉羊合作社", "coop", "红旗村", "李四", "0471-1234567", "",
             "93150121MA0N1X2Y3K", "", "否", None, "养羊"],
            ["王五", "household", "", "", "", "", "", "", "是", 3.0, ""]]
    response = upload(client, "targets", xlsx(header, *rows))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "红旗肉羊合作社" in body and count(app, ServiceTarget) == 0
    response = client.post("/imports/targets/confirm", data={"token": _token(body)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/targets/")
    with app.app_context():
        targets = {t.name: t for t in db.session.scalars(select(ServiceTarget))}
        assert set(targets) == {"张三", "红旗肉羊合作社", "王五"}
        assert targets["张三"].phone == "13812345678" and targets["张三"].poverty_alleviated
        assert targets["张三"].village_id == village and targets["张三"].household_size == 4
        assert targets["红旗肉羊合作社"].phone == "04711234567"
        assert targets["王五"].monitored and targets["王五"].village_id is None
        assert all(t.owner_node == STATION for t in targets.values())
        actions = db.session.scalars(select(AuditEntry.action)
                                     .where(AuditEntry.record_type == "service_target")).all()
        assert actions == ["create"] * 3
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                 .where(OutboxEntry.record_type == "service_target")) == 3
    # the same file again: every name is already recorded
    response = upload(client, "targets", xlsx(header, *rows))
    assert response.status_code == 422 and "already recorded" in response.get_data(as_text=True)


def test_commissioners_confirm_with_dates_clusters_and_villages(app, login, village):
    client = login("staff")
    header = ["姓名", "类型", "认定级别", "状态", "认定日期", "选派日期", "产业集群", "服务嘎查村",
              "选派单位类型", "乡土人才类别", "12396坐席专家"]
    team = zh(app, choices.COMMISSIONER_KINDS, "team")
    rows = [["王建国", "个人" if team == "团队" else "individual", "", "dispatched",
             "2023-03-01", datetime(2023, 4, 10), "肉羊、奶业", "红旗村",
             "", "", "否"],
            ["草原团队", team, "region", "", None, None, "", "", "local_talent", "veteran", "是"]]
    response = upload(client, "commissioners", xlsx(header, *rows))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert client.post("/imports/commissioners/confirm",
                       data={"token": _token(body)}).status_code == 302
    with app.app_context():
        people = {c.name: c for c in db.session.scalars(select(Commissioner))}
        wang, team_record = people["王建国"], people["草原团队"]
        assert str(wang.dispatched_on) == "2023-04-10" and wang.status == "dispatched"
        assert sorted(c.name for c in wang.clusters) == ["奶业", "肉羊"]
        assert [v.id for v in wang.villages] == [village]
        assert wang.kind == "individual" and wang.level == "county"
        assert (team_record.kind, team_record.level, team_record.local_talent_kind) == \
            ("team", "region", "veteran")
        assert team_record.hotline_expert and team_record.status == "recognised"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.record_type == "commissioner")) == 2


@pytest.mark.parametrize("tamper", [lambda token: "../../etc/passwd", lambda token: "0" * 32,
                                    str.upper, lambda token: token[:-1], lambda token: ""],
                         ids=["path", "zeros", "upper", "shortened", "empty"])
def test_confirm_with_a_tampered_or_unknown_token_is_refused(app, login, village, tamper):
    client = login("staff", lang="en")
    response = upload(client, "targets", xlsx(["名称", "类型"], ["张三", "household"]))
    token = _token(response.get_data(as_text=True))
    response = client.post("/imports/targets/confirm", data={"token": tamper(token)})
    assert response.status_code == 422
    assert "no longer available" in response.get_data(as_text=True)
    assert count(app, ServiceTarget) == 0


def test_confirm_with_another_kinds_or_users_token_is_refused(app, login, village):
    client = login("staff", lang="en")
    response = upload(client, "targets", xlsx(["名称", "类型"], ["张三", "household"]))
    token = _token(response.get_data(as_text=True))
    # the right token for another kind, or for another user, is refused too
    assert client.post("/imports/commissioners/confirm", data={"token": token}).status_code == 422
    client.post("/logout")
    admin = login("admin")
    assert admin.post("/imports/targets/confirm", data={"token": token}).status_code == 422
    assert count(app, ServiceTarget) == 0
    client.post("/logout")
    login("staff")
    assert client.post("/imports/targets/confirm", data={"token": token}).status_code == 302
    # and once used, it is gone
    assert client.post("/imports/targets/confirm", data={"token": token}).status_code == 422
    assert count(app, ServiceTarget) == 1


def test_confirm_rechecks_the_file(app, login, village):
    client = login("staff", lang="en")
    response = upload(client, "targets", xlsx(["名称", "类型"], ["张三", "household"]))
    token = _token(response.get_data(as_text=True))
    client.post("/targets/new", data={"name": "张三", "kind": "household"})
    response = client.post("/imports/targets/confirm", data={"token": token})
    assert response.status_code == 422 and "already recorded" in response.get_data(as_text=True)
    assert count(app, ServiceTarget) == 1


def test_reviewer_cannot_import_and_unknown_kind_is_404(app, login):
    client = login("reviewer")
    assert client.get("/imports/targets").status_code == 403
    assert client.get("/imports/targets/template.xlsx").status_code == 403
    client.post("/logout")
    staff = login("staff")
    assert staff.get("/imports/places").status_code == 404
    assert staff.get("/imports/places/template.xlsx").status_code == 404


def test_csrf_is_required_on_upload_and_confirm(app, login):
    client = login("staff")
    app.config["WTF_CSRF_ENABLED"] = True
    assert upload(client, "targets", xlsx(["名称", "类型"], ["张三", "household"])).status_code == 400
    assert client.post("/imports/targets/confirm", data={"token": "0" * 32}).status_code == 400
