"""Training sessions in a real browser: station staff plan a session, open its print
sign-in sheet (screenshot kept in /tmp), fill the Excel sheet, import it with a preview,
confirm, and see the figures on the session page and in the list."""
import re
import uuid
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser
STAFF_PASSWORD = "staff-pass-123"
SCREENSHOT = "/tmp/kepai-trainings-sign-in.png"


def _make_staff(page) -> str:
    """A station staff account, made by the admin through the users page."""
    username = "staff-" + uuid.uuid4().hex[:6]
    log_in(page)
    page.goto("/users/new")
    page.fill("#username", username)
    page.select_option("#role", "station_staff")
    page.fill("#password", STAFF_PASSWORD)
    page.fill("#confirm", STAFF_PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/users/?(\?.*)?$"))
    page.context.clear_cookies()
    return username


def _unwatched(browser, live_server, username):
    """A logged-in tab for the steps that must answer 422: Chromium reports every 4xx
    response as a console error, which the watched ``page`` fixture counts as a failure."""
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, username, STAFF_PASSWORD)
    return context, tab


def test_plan_print_import_and_see_figures(page, browser, live_server, tmp_path):
    username = _make_staff(page)
    log_in(page, username, STAFF_PASSWORD)
    title = "马铃薯晚疫病防治培训" + uuid.uuid4().hex[:4]

    # plan a session (a week ahead: planned)
    page.locator(".mainnav a[href='/trainings/']").click()
    expect(page).to_have_url(re.compile(r"/trainings/"))
    page.goto("/trainings/new")
    page.fill("#title", title)
    page.fill("#held_on", (date.today() + timedelta(days=7)).isoformat())
    page.fill("#hours", "3")
    page.fill("#place_text", "察素齐镇文化活动室")
    page.fill("#outside_trainers", "李教授")
    page.fill("#content", "晚疫病识别与药剂防治")
    page.select_option("#status", "planned")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/trainings/[0-9a-f-]{36}$"))
    session_url = page.url
    expect(page.locator("h1")).to_contain_text(title)

    # a held session cannot be in the future: refused with the message at the field
    context, tab = _unwatched(browser, live_server, username)
    tab.goto(session_url + "/edit")
    tab.select_option("#status", "held")
    tab.click("form.stacked button[type=submit]")
    expect(tab.locator("#held_on-err")).to_be_visible()

    # the print page: A4, no navigation, header and numbered rows
    page.goto(session_url + "/sign-in")
    expect(page.locator("h1")).to_contain_text(title)
    assert page.locator("nav").count() == 0
    headers = page.locator("thead th").all_inner_texts()
    assert headers == ["序号", "姓名", "性别", "民族", "嘎查/村", "电话", "类别", "签名"]
    assert page.locator("tbody tr").count() == 30
    page.emulate_media(media="print")
    expect(page.locator(".noprint")).to_be_hidden()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=SCREENSHOT, full_page=False)
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})

    # the Excel sheet, filled in as after the session
    with page.expect_download() as download:
        page.goto(session_url)
        page.locator("a[href$='/sign-in.xlsx']").first.click()
    path = tmp_path / "sheet.xlsx"
    download.value.save_as(path)
    wb = load_workbook(path)
    ws = wb.active
    header = next(r for r in range(1, 10) if ws.cell(r, 2).value == "姓名")
    people = [("张丽", "女", "蒙古族", "察素齐镇", "13812345678", "农牧民"),
              ("王强", "男", "汉族", "察素齐镇", "13900000001", "致富带头人"),
              ("乌云", "女", "蒙古族", "", "", "村书记")]
    for offset, row in enumerate(people, start=1):
        for col, value in enumerate(row, start=2):
            ws.cell(header + offset, col, value)
    bad = tmp_path / "bad.xlsx"
    ws.cell(header + 4, 2, "赵六")
    ws.cell(header + 4, 7, "路人")
    wb.save(bad)
    ws.cell(header + 4, 2).value = None
    ws.cell(header + 4, 7).value = None
    good = tmp_path / "good.xlsx"
    wb.save(good)

    # a session still to come has no roster yet: held three days ago, then imported
    tab.goto(session_url + "/import")
    expect(tab.locator(".flash-error")).to_be_visible()
    tab.goto(session_url + "/edit")
    tab.fill("#held_on", (date.today() - timedelta(days=3)).isoformat())
    tab.select_option("#status", "held")
    tab.click("form.stacked button[type=submit]")
    tab.wait_for_url(re.compile(r"/trainings/[0-9a-f-]{36}$"))

    # a file with a bad row: the preview lists the error, nothing written yet; the
    # valid rows may be added if the user chooses
    tab.goto(session_url + "/import")
    tab.set_input_files("#file", str(bad))
    tab.click("form.stacked button[type=submit]")
    expect(tab.locator("ul.error")).to_contain_text("路人")
    assert tab.locator("form[action$='/import/confirm'] input[name=partial]").count() == 1
    context.close()
    page.goto(session_url + "/import")

    # the clean file: preview, then confirm
    page.set_input_files("#file", str(good))
    page.click("form.stacked button[type=submit]")
    confirm = page.locator("form[action$='/import/confirm'] button")
    expect(confirm).to_be_visible()
    confirm.click()
    expect(page).to_have_url(re.compile(r"/trainings/[0-9a-f-]{36}(#roster)?$"))
    expect(page.locator("#figures .stat").first).to_be_visible()

    # the figures: 3 people, 2 women, 2 ethnic minorities, by category
    stats = page.locator("#figures .stat strong").all_inner_texts()
    assert stats[:3] == ["3", "2", "2"], stats
    expect(page.locator("#figures table")).to_contain_text("致富带头人")
    expect(page.locator("#roster")).to_contain_text("乌云")

    # and in the list
    page.goto("/trainings/?q=" + title)
    expect(page.locator("#results .figures strong")).to_have_text(re.compile(r"^3\D"))


def _pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: its /Type /Page objects (not the /Pages tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_sign_in_sheet_prints_on_one_a4_page(page, live_server):
    """30 rows and the key on one A4 page, as Chromium prints it (issue 13 item 8)."""
    username = _make_staff(page)
    log_in(page, username, STAFF_PASSWORD)
    page.goto("/trainings/new")
    page.fill("#title", "一页签到表测试培训" + uuid.uuid4().hex[:4])
    page.fill("#held_on", (date.today() + timedelta(days=3)).isoformat())
    page.fill("#hours", "2.5")
    page.fill("#place_text", "察素齐镇文化活动室（二楼会议室）")
    page.fill("#outside_trainers", "李教授、内蒙古农业大学张老师")
    page.select_option("#status", "planned")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/trainings/[0-9a-f-]{36}$"))
    page.goto(page.url + "/sign-in")
    assert page.locator("tbody tr").count() == 30
    expect(page.locator(".foot")).to_contain_text("类别")
    pdf = page.pdf(format="A4", print_background=True)
    assert _pdf_pages(pdf) == 1
    assert _pdf_pages(page.pdf(format="A4", print_background=True)) == 1  # stable
