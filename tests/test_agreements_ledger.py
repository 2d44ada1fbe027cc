"""The payout ledger, totals, the attention list, finding, exports and scans."""
import csv
import io
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from flask import g
from flask_login import login_user
from openpyxl import load_workbook
from sqlalchemy import select

from app.agreements import listing, services
from app.core.extensions import db
from app.models import Agreement, AgreementParty, Attachment, Commissioner, Payout, ServiceTarget, User
from tests.factories import agreement_form, count, create_agreement

STATION = "150121-01"


@contextmanager
def as_staff(app):
    """A request context with the station's staff user logged in (scoped queries)."""
    with app.test_request_context():
        login_user(db.session.scalar(select(User).where(User.username == "staff")))
        yield


def signed_in_force(client, aid, signed="2024-12-20", start="2025-01-01"):
    assert client.post(f"/agreements/{aid}/step/signed", data={"on": signed}).status_code == 302
    assert client.post(f"/agreements/{aid}/step/in_force", data={"on": start}).status_code == 302


def pay(client, aid, payee, amount, on="2025-06-30", kind="dividend", **extra):
    return client.post(f"/agreements/{aid}/payouts", data={
        "paid_on": on, "amount_fen": amount, "kind": kind, "payee_id": payee, **extra})


def test_payouts_only_while_signed_or_in_force(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    assert pay(client, aid, a, "100").status_code == 422  # a draft has no ledger
    signed_in_force(client, aid)
    assert pay(client, aid, a, "1,000.50").status_code == 302
    assert client.post(f"/agreements/{aid}/step/terminated",
                       data={"on": "2025-07-01", "reason": "经营困难"}).status_code == 302
    assert pay(client, aid, a, "100", on="2025-07-01").status_code == 422
    with app.app_context():
        assert [p.amount_fen for p in db.session.scalars(select(Payout))] == [100050]


@pytest.mark.parametrize("change, words", [
    ({"amount_fen": "-3"}, "negative"),
    ({"amount_fen": "0"}, "more than zero"),
    ({"amount_fen": "1.005"}, "two decimal"),
    ({"amount_fen": "abc"}, "such as"),
    ({"amount_fen": ""}, "required"),
    ({"paid_on": "2024-06-01"}, "outside the agreement"),
    ({"paid_on": "2028-06-01"}, "outside the agreement"),
])
def test_bad_payouts_are_422_and_write_nothing(app, login, change, words):
    client = login("staff")
    client.post("/language", data={"lang": "en"})
    aid, (a, b, t) = create_agreement(app, client, ends_on="2027-12-31")
    signed_in_force(client, aid)
    data = {"paid_on": "2025-06-30", "amount_fen": "100", "kind": "dividend", "payee_id": a, **change}
    if data["paid_on"] > date.today().isoformat():
        words = "future"
    response = client.post(f"/agreements/{aid}/payouts", data=data)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert count(app, Payout) == 0


def test_payee_must_be_a_party(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    with app.app_context():
        g.actor = "test"
        outsider = Commissioner(name="局外人", owner_node=STATION)
        db.session.add(outsider)
        db.session.commit()
        outsider_id = outsider.id
    assert pay(client, aid, outsider_id, "100").status_code == 422
    assert count(app, Payout) == 0


def test_out_of_term_payout_needs_a_reason(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    assert pay(client, aid, a, "100", on="2024-12-25").status_code == 422
    assert pay(client, aid, a, "100", on="2024-12-25", out_of_term_reason="签约预付").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Payout.out_of_term_reason)) == "签约预付"


def test_totals_add_up_to_the_cent_by_year_and_commissioner(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    for payee, amount, on in ((a, "0.10", "2025-03-01"), (a, "0.20", "2025-04-01"),
                              (b, "1,000.05", "2025-05-01"), (b, "19.99", "2026-01-10")):
        assert pay(client, aid, payee, amount, on=on).status_code == 302
    with as_staff(app):
        ledger = listing.ledger(aid)  # the page's lines, and the ORM payouts: the same sums
        assert [p.id for p in ledger] == [p.id for p in db.session.get(Agreement, aid).payouts]
        for payouts in (ledger, db.session.get(Agreement, aid).payouts):
            by_year = dict(services.totals_by_year(payouts))
            assert by_year == {2025: 10 + 20 + 100005, 2026: 1999}
            by_payee = {(str(c), y): total for c, y, total in services.totals_by_payee(payouts)}
            assert by_payee == {("王建国", 2025): 30, ("其木格", 2025): 100005, ("其木格", 2026): 1999}
        summary = services.commissioner_summary(db.session.get(Commissioner, a))
        assert summary["by_year"][0] == (2025, 30) and summary["agreements"][0].id == aid
    page = client.get(f"/agreements/{aid}").get_data(as_text=True)
    assert "1,020.34" in page and "1,000.35" in page  # ledger total and 2025's, to the cent
    assert "0.30" in client.get(f"/commissioners/{a}").get_data(as_text=True)


def test_edit_and_delete_payout(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    pay(client, aid, a, "100")
    with app.app_context():
        pid = db.session.scalar(select(Payout.id))
    form = client.get(f"/agreements/{aid}/payouts/{pid}/edit").get_data(as_text=True)
    assert 'value="100.00"' in form
    response = client.post(f"/agreements/{aid}/payouts/{pid}/edit", data={
        "paid_on": "2025-07-01", "amount_fen": "250.5", "kind": "service_fee", "payee_id": b})
    assert response.status_code == 302
    bad = client.post(f"/agreements/{aid}/payouts/{pid}/edit", data={
        "paid_on": "2025-07-01", "amount_fen": "1,00", "kind": "service_fee", "payee_id": b})
    assert bad.status_code == 422
    with app.app_context():
        payout = db.session.get(Payout, pid)
        assert (payout.amount_fen, payout.payee_id, payout.version) == (25050, b, 2)
    assert client.post(f"/agreements/{aid}/payouts/{pid}/delete").status_code == 302
    with app.app_context():
        assert listing.ledger(aid) == [] and db.session.get(Agreement, aid).payouts == []
    assert client.get(f"/agreements/{aid}/payouts/nonexistent/edit").status_code == 404


def _agreement(owner=STATION, **fields):
    counterpart = ServiceTarget(name="合作社", kind="coop", owner_node=owner)
    db.session.add(counterpart)
    db.session.flush()
    agreement = Agreement(number=fields.pop("number"), title=fields.pop("title", "协议"),
                          form="paid_service", counterpart_id=counterpart.id, owner_node=owner, **fields)
    db.session.add(agreement)
    db.session.commit()
    return agreement


def test_attention_list_on_home_and_as_a_filter(app, login):
    today = date.today()
    with as_staff(app):
        g.actor = "test"
        c = Commissioner(name="张三", owner_node=STATION)
        db.session.add(c)
        db.session.commit()
        soon = _agreement(number="A-soon", status="in_force", starts_on=today - timedelta(days=30),
                          ends_on=today + timedelta(days=20))
        overdue = _agreement(number="A-over", status="in_force", starts_on=today - timedelta(days=800),
                             ends_on=today - timedelta(days=3))
        silent = _agreement(number="A-silent", status="in_force", starts_on=today - timedelta(days=500),
                            ends_on=today + timedelta(days=900))
        paid = _agreement(number="A-paid", status="in_force", starts_on=today - timedelta(days=500),
                          ends_on=today + timedelta(days=900))
        db.session.add(Payout(agreement_id=paid.id, paid_on=today - timedelta(days=40), amount_fen=100,
                              kind="dividend", payee_id=c.id, owner_node=STATION))
        _agreement(number="A-ended", status="ended", starts_on=today - timedelta(days=800),
                   ends_on=today + timedelta(days=10))
        db.session.commit()
        found = {kind: {a.number for a in items} for kind, (n, items) in listing.attention().items()}
        assert found == {"ending_soon": {"A-soon"}, "overdue": {"A-over"},
                         "silent": {"A-silent", "A-over"}}
        assert {soon.number, overdue.number, silent.number}
    client = login("staff")
    home = client.get("/").get_data(as_text=True)
    assert "A-soon" in home and "A-over" in home and "A-silent" in home and "A-paid" not in home
    listed = client.get("/agreements/?attention=ending_soon").get_data(as_text=True)
    assert "A-soon" in listed and "A-over" not in listed
    listed = client.get("/agreements/?attention=any").get_data(as_text=True)
    assert "A-paid" not in listed and "A-ended" not in listed and "A-silent" in listed


@pytest.mark.parametrize("query, found", [
    ("commissioner={a}", True), ("counterpart={t}", True), ("year=2025", True),
    ("status=draft", True), ("form=technology_equity", True), ("year=2024", False),
    ("status=signed", False), ("form=paid_service", False), ("commissioner=x", False)])
def test_list_filters(app, login, query, found):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client, number="LY-FIND-1", signed_on="2025-01-01")
    client.get(f"/agreements/{aid}")  # shows the "saved" message, which names the number
    page = client.get("/agreements/?" + query.format(a=a, t=t)).get_data(as_text=True)
    assert ("LY-FIND-1" in page) is found


def test_list_search_and_pagination(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client, number="LY-FIND-1", signed_on="2025-01-01")
    assert "LY-FIND-1" in client.get("/agreements/?q=其木格").get_data(as_text=True)
    assert "LY-FIND-1" in client.get("/agreements/?q=把什村").get_data(as_text=True)
    assert "LY-FIND-1" not in client.get("/agreements/?q=不存在").get_data(as_text=True)
    fragment = client.get("/agreements/?q=LY", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "LY-FIND-1" in fragment and "<html" not in fragment
    assert client.get("/agreements/?page=99").status_code == 200


def test_exports_csv_and_xlsx_with_chinese_headers_and_exact_yuan(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client, number="LY-EXP-1")
    signed_in_force(client, aid)
    pay(client, aid, a, "0.10")
    pay(client, aid, b, "0.20")
    response = client.get("/agreements/export.csv?status=in_force")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    with app.test_request_context():
        from app.agreements.export import _columns
        from app.core.i18n import force_locale
        with force_locale("zh_CN"):
            expected = [c.header for c in _columns()]
    assert table[0] == expected
    row = dict(zip(expected, table[1], strict=False))
    assert table[1][0] == "LY-EXP-1" and "0.30" in table[1] and "50000.50" in table[1]
    assert "王建国（60%）" in row[expected[5]]
    book = load_workbook(io.BytesIO(client.get("/agreements/export.xlsx").get_data()))
    sheet = book.active
    assert [c.value for c in sheet[1]] == expected
    assert sheet["A2"].value == "LY-EXP-1" and sheet["M2"].value == 0.3
    assert sheet["M2"].number_format == "#,##0.00" and sheet["M2"].data_type == "n"
    empty = client.get("/agreements/export.csv?status=ended").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(empty)))) == 1
    assert client.get("/agreements/export.pdf").status_code == 404


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_signed_agreement_scan(app, login):
    client = login("staff")
    aid, _ = create_agreement(app, client)
    response = client.post(f"/agreements/{aid}/scans", data={
        "file": (io.BytesIO(PDF), "协议.pdf"), "caption": "签字版"}, content_type="multipart/form-data")
    assert response.status_code == 302
    bad = client.post(f"/agreements/{aid}/scans", data={
        "file": (io.BytesIO(b"not a pdf"), "x.pdf")}, content_type="multipart/form-data")
    assert bad.status_code == 422
    with app.app_context():
        scans = db.session.scalars(select(Attachment)).all()
        assert [(s.record_type, s.record_id, s.content_type) for s in scans] == \
            [("agreement", aid, "application/pdf")]
        sha = scans[0].sha256
    assert sha in client.get(f"/agreements/{aid}").get_data(as_text=True)
    assert client.get(f"/files/{sha}").get_data() == PDF


def test_parties_child_rows_belong_to_the_agreements_node(app, login):
    client = login("staff")
    aid, _ = create_agreement(app, client)
    with app.app_context():
        owners = set(db.session.scalars(select(AgreementParty.owner_node)))
        assert owners == {STATION}


def test_a_paid_party_cannot_be_removed(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    pay(client, aid, b, "10")
    data = agreement_form(a, b, t, **{"parties-1-commissioner_id": "", "parties-0-share_bp": "100"})
    assert client.post(f"/agreements/{aid}/edit", data=data).status_code == 422
    with app.app_context():
        assert len(db.session.get(Agreement, aid).parties) == 2


def test_remembered_list_count_and_attention_follow_every_write(app, login):
    """The list's count, the home page's counts and attention list are remembered until
    the data changes: a new agreement, a payout or a deletion shows at once."""
    client = login("staff")
    today = date.today()
    assert "A-late" not in client.get("/").get_data(as_text=True)
    aid, (a, b, t) = create_agreement(app, client, number="A-late", starts_on=(today - timedelta(days=800)).isoformat(),
                            ends_on=(today - timedelta(days=3)).isoformat(), signed_on="2024-01-01")
    assert "A-late" in client.get("/agreements/").get_data(as_text=True)
    assert "共 1 条" in client.get("/agreements/").get_data(as_text=True)
    signed_in_force(client, aid, signed=str(today - timedelta(days=810)),
                    start=str(today - timedelta(days=800)))
    home = client.get("/").get_data(as_text=True)
    assert "A-late" in home  # overdue, and silent: no payout for a year
    assert "A-late" in client.get("/agreements/?attention=overdue").get_data(as_text=True)
    assert client.post(f"/agreements/{aid}/delete", data={}).status_code in (302, 303)
    client.get("/")  # shows the flash message (which names it)
    assert "A-late" not in client.get("/").get_data(as_text=True)
    listed = client.get("/agreements/").get_data(as_text=True)
    assert "A-late" not in listed and "共 0 条" in listed
    assert "A-late" not in client.get("/agreements/?attention=overdue").get_data(as_text=True)


def test_identical_payout_is_a_warning_until_confirmed(app, login):
    client = login("staff")
    aid, (a, b, t) = create_agreement(app, client)
    signed_in_force(client, aid)
    assert pay(client, aid, a, "500").status_code == 302
    again = pay(client, aid, a, "500.00", kind="service_fee")
    assert again.status_code == 422
    body = again.get_data(as_text=True)
    assert 'id="same-payout"' in body and 'name="same_again"' in body
    assert "Please correct the marked fields" not in body and "请更正" not in body
    assert count(app, Payout) == 1  # nothing written before the user confirms
    assert pay(client, aid, b, "500").status_code == 302  # another payee
    assert pay(client, aid, a, "500", on="2025-07-01").status_code == 302  # another day
    assert pay(client, aid, a, "500.01").status_code == 302  # another amount
    with app.app_context():
        first, to_b = (db.session.scalar(select(Payout.id).where(Payout.payee_id == payee)
                                         .order_by(Payout.created_at)) for payee in (a, b))
    edit = {"paid_on": "2025-06-30", "amount_fen": "500", "kind": "dividend"}
    # saving a payout unchanged is no duplicate of itself; turning one into a copy warns
    assert client.post(f"/agreements/{aid}/payouts/{first}/edit",
                       data={**edit, "payee_id": a, "note": "核对"}).status_code == 302
    copy = client.post(f"/agreements/{aid}/payouts/{to_b}/edit", data={**edit, "payee_id": a})
    assert copy.status_code == 422 and 'id="same-payout"' in copy.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Payout, to_b).payee_id == b
    assert pay(client, aid, a, "500", same_again="y").status_code == 302  # confirmed
    assert count(app, Payout) == 5
