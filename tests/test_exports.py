"""Exports people can compute with (app/core/spreadsheet.py): numbers and money as
numbers with a number format, dates as dates, widths, a frozen header, one file-name
style; the roster, payout ledger, commissioner, target, station and team lists; and an
exported list imported back."""
import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import pytest
from flask import g
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.core import spreadsheet
from app.core.extensions import db
from app.models import Commissioner, ServiceTeam, Station, TrainingAttendee
from tests.factories import count, create_agreement, create_training
from tests.settings import STATION

NAME = re.compile(r"^(?P<what>.+)-(?P<node>[0-9A-Za-z-]+?)-(?P<day>\d{8})\.(xlsx|csv)$")


def _book(response):
    assert response.status_code == 200, response.status_code
    return load_workbook(io.BytesIO(response.data))


def _name(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition) or \
        re.search(r'filename="?([^";]+)', disposition)
    return unquote(match.group(1))


def _check_name(response, what):
    name = _name(response)
    assert name == f"{what}-{STATION}-{date.today():%Y%m%d}.xlsx", name


def _column(sheet, header):
    headers = [c.value for c in sheet[1]]
    return headers.index(header) + 1


def test_the_helper_writes_kinds_formats_widths_and_a_frozen_header(app):
    columns = [spreadsheet.Column("名称"), spreadsheet.Column("金额（元）", "money"),
               spreadsheet.Column("日期", "date"), spreadsheet.Column("人数", "int"),
               spreadsheet.Column("占比", "bp"), spreadsheet.Column("学时", "number")]
    rows = [["=SUM(A1)", 103283746, date(2025, 3, 1), 12, 3333, 2.5],
            ["长" * 80, None, None, None, None, None]]
    sheet = load_workbook(io.BytesIO(spreadsheet.xlsx("表", columns, rows))).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["A2"].value == "=SUM(A1)" and sheet["A2"].data_type == "s"  # never a formula
    assert sheet["B2"].value == 1032837.46 and sheet["B2"].number_format == "#,##0.00"
    assert sheet["C2"].value.date() == date(2025, 3, 1) and sheet["C2"].number_format == "yyyy-mm-dd"
    assert sheet["D2"].value == 12 and sheet["D2"].number_format == "0"
    assert sheet["E2"].value == 33.33 and sheet["E2"].number_format == "0.00"
    assert sheet["F2"].value == 2.5 and sheet["B3"].value is None
    assert sheet.column_dimensions["A"].width == spreadsheet.MAX_WIDTH
    assert 8 <= sheet.column_dimensions["D"].width < 20
    assert spreadsheet.cell_value(103283746, "money") == Decimal("1032837.46")
    assert spreadsheet.filename("签到名单 a/b", "150121-01", date(2025, 1, 2)) == \
        "签到名单_a_b-150121-01-20250102.xlsx"
    text = spreadsheet.csv_bytes(columns, rows).decode("utf-8-sig").splitlines()
    assert text[1].startswith("'=SUM(A1),1032837.46,2025-03-01,12,33.33,2.5")


def test_agreements_and_the_payout_ledger(app, login):
    client = login("staff")
    aid, (a, b, _t) = create_agreement(app, client, number="LY-X-1")
    client.post(f"/agreements/{aid}/step/signed", data={"on": "2024-12-20"})
    client.post(f"/agreements/{aid}/step/in_force", data={"on": "2025-01-01"})
    for payee, amount in ((a, "1,032,837.46"), (b, "0.54")):
        assert client.post(f"/agreements/{aid}/payouts", data={
            "paid_on": "2025-06-30", "amount_fen": amount, "kind": "dividend",
            "payee_id": payee}).status_code == 302
    response = client.get("/agreements/export.xlsx")
    _check_name(response, "利益共同体")
    sheet = _book(response).active
    valuation, paid, signed = 8, 13, 10
    assert sheet.cell(2, paid).value == 1032838.0 and sheet.cell(2, paid).data_type == "n"
    assert sheet.cell(2, paid).number_format == "#,##0.00"
    assert sheet.cell(2, valuation).value == 50000.5
    assert sheet.cell(2, signed).value.date() == date(2024, 12, 20)
    assert sheet.cell(2, 9).value == 12.5 and sheet.cell(2, 9).number_format == "0.00"
    assert sheet.freeze_panes == "A2"
    response = client.get("/agreements/ledger.xlsx")
    _check_name(response, "兑付台账")
    ledger = _book(response).active
    rows = list(ledger.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 2 and rows[0][0] == "LY-X-1" and rows[0][2].date() == date(2025, 6, 30)
    assert sorted(r[5] for r in rows) == [0.54, 1032837.46]
    assert ledger.cell(2, 6).number_format == "#,##0.00" and ledger.freeze_panes == "A2"
    csv_text = client.get("/agreements/ledger.csv").data.decode("utf-8-sig")
    assert "1032837.46" in csv_text
    assert client.get("/agreements/ledger.pdf").status_code == 404


def test_visits_and_trainings_lists_have_dates_numbers_and_widths(app, login, places):
    client = login("staff")
    create_training(client, places)
    response = client.get("/trainings/export.xlsx")
    _check_name(response, "培训")
    sheet = _book(response).active
    assert sheet.cell(2, 2).is_date and sheet.cell(2, 3).data_type == "n"
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width > 8
    response = client.get("/visits/export.xlsx")
    _check_name(response, "服务记录")
    sheet = _book(response).active
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["Q"].width >= 8
    csv_name = _name(client.get("/visits/export.csv"))
    assert NAME.match(csv_name) and csv_name.endswith(".csv")


def test_station_and_team_lists(app, login, world):
    with app.app_context():
        g.actor = "test"
        team = ServiceTeam(name="肉羊服务团", owner_node=STATION, cluster_id=world["cluster"],
                           leader_id=world["wang"])
        team.members = [db.session.get(Commissioner, world["wang"]),
                        db.session.get(Commissioner, world["li"])]
        station = db.session.get(Station, world["station"])
        station.established_on = date(2020, 5, 1)
        station.contact_phone = "13812345678"
        db.session.add(team)
        db.session.commit()
    client = login("staff")
    response = client.get("/stations/export.xlsx")
    _check_name(response, "工作站")
    sheet = _book(response).active
    row = [c.value for c in sheet[2]]
    assert row[0] == "土左旗工作站" and sheet.cell(2, 9).value.date() == date(2020, 5, 1)
    assert sheet.cell(2, 8).value == "13812345678" and sheet.cell(2, 8).data_type == "s"
    response = client.get("/teams/export.xlsx")
    _check_name(response, "产业服务团")
    sheet = _book(response).active
    assert [c.value for c in sheet[2]][:4] == ["肉羊服务团", "肉羊", "王建国", 2]
    page = client.get("/teams/").get_data(as_text=True)
    assert "/teams/export.xlsx" in page


def test_roster_export_imports_back_unchanged(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    for name, phone in (("张三", "13812345678"), ("李四", "")):
        assert client.post(f"/trainings/{record_id}/attendees", data={
            "name": name, "sex": "female", "ethnicity": "蒙古族", "village_id": places["红旗村"],
            "phone": phone, "category": "farmer"}).status_code == 302
    response = client.get(f"/trainings/{record_id}/roster.xlsx")
    assert _name(response).startswith("签到名单_")
    book = _book(response)
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["序号", "姓名", "性别", "民族", "嘎查/村", "电话", "类别", "脱贫户"]
    assert sheet["F2"].value == "13812345678" and sheet["F2"].data_type == "s"
    assert sheet["E2"].value == "察素齐镇 红旗村" and sheet["G2"].value == "农牧民"
    sheet.append([3, "王五", "男", "汉族", "察素齐镇 把什村", "13900001111", "农牧民", "否"])
    out = io.BytesIO()
    book.save(out)
    page = client.post(f"/trainings/{record_id}/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(out.getvalue()), "roster.xlsx")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', text) or \
        re.search(r'value="([0-9a-f]{32})"[^>]*name="token"', text)
    response = client.post(f"/trainings/{record_id}/import/confirm", data={"token": token.group(1)})
    assert response.status_code == 302
    with app.app_context():
        names = db.session.scalars(select(TrainingAttendee.name).where(
            TrainingAttendee.training_id == record_id)).all()
    assert sorted(names) == ["张三", "李四", "王五"]


def test_commissioner_list_exports_in_the_template_columns_and_imports_back(app, login, world):
    with app.app_context():
        g.actor = "test"
        wang = db.session.get(Commissioner, world["wang"])
        wang.sex, wang.ethnicity, wang.phone, wang.dispatched_on = "male", "蒙古族", "13812345678", date(2023, 4, 10)
        wang.status, wang.recognised_on = "dispatched", date(2023, 3, 1)
        db.session.commit()
    client = login("admin")
    template = load_workbook(io.BytesIO(client.get("/imports/commissioners/template.xlsx").data)).active
    response = client.get("/imports/commissioners/export.xlsx")
    _check_name(response, "科技特派员")
    book = _book(response)
    sheet = book.active
    assert [c.value for c in sheet[1]] == [c.value for c in template[1]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"王建国", "李秀英"}
    headers = [c.value for c in sheet[1]]
    wang = dict(zip(headers, rows["王建国"], strict=True))
    assert wang["性别"] == "男" and wang["手机号码"] == "13812345678"
    assert wang["选派日期"].date() == date(2023, 4, 10) and wang["状态"] == "已选派"
    row = next(r for r in range(2, 4) if sheet.cell(r, 1).value == "王建国")
    assert sheet.cell(row, _column(sheet, "选派日期")).number_format == "yyyy-mm-dd"
    assert sheet.cell(row, _column(sheet, "手机号码")).data_type == "s"
    assert wang["所属工作站"] == "土左旗工作站"
    # edit: a new person added at the bottom; the exported rows stay as they are
    sheet.append(["赵六"] + [None] * (len(headers) - 1))
    out = io.BytesIO()
    book.save(out)
    before = count(app, Commissioner)
    page = client.post("/imports/commissioners", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(out.getvalue()), "list.xlsx")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    token = re.search(r'value="([0-9a-f]{32})"', text).group(1)
    assert client.post("/imports/commissioners/confirm", data={"token": token}).status_code == 302
    assert count(app, Commissioner) == before + 1


def test_a_new_book_is_not_needed_by_callers():
    assert isinstance(spreadsheet.new_book(), Workbook)


@pytest.mark.parametrize("path, kind", [("/commissioners/", "individual"), ("/targets/", "coop")])
def test_a_list_filtered_by_kind_links_its_export_with_the_filter(app, login, path, kind):
    """The lists' own filter is called ``kind``, like nothing in the export's address."""
    page = login("staff").get(path, query_string={"kind": kind})
    assert page.status_code == 200
    assert f"export.xlsx?kind={kind}" in page.get_data(as_text=True)
