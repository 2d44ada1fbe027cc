"""Field visits in a real browser: a commissioner on a 360 px phone logs a visit with two
photos in under a minute, and staff find it by a word of its problem text."""
import io
import re
import time
import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import COMMISSIONER_PASSWORD, commissioner_account, fits, log_in, shot

pytestmark = pytest.mark.browser


def _photo(path, color):
    image = Image.new("RGB", (2000, 1500), color)
    out = io.BytesIO()
    image.save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def test_commissioner_logs_a_visit_with_two_photos_and_staff_find_it(page, phone, tmp_path):
    tag = uuid.uuid4().hex[:6]
    log_in(page)
    username = commissioner_account(page, tag)

    log_in(phone, username, COMMISSIONER_PASSWORD)
    started = time.monotonic()
    phone.goto("/visits/")
    fits(phone)
    phone.locator(".pagehead a.button", has_text=re.compile("Log a visit|记录服务")).click()
    expect(phone).to_have_url(re.compile(r"/visits/new"))
    expect(phone.locator("#chosen-commissioners input[type=checkbox]")).to_be_checked()
    fits(phone)
    shot(phone, "visit-short-form")
    phone.set_input_files("#photos", [_photo(tmp_path / "barn.jpg", (120, 80, 40)),
                                      _photo(tmp_path / "ewe.jpg", (60, 120, 60))])
    phone.fill("#problem", f"母羊产后瘫痪，食欲不振 记号{tag}")
    phone.fill("#action", "补充钙剂并调整日粮配方")
    phone.fill("#people_reached", "3")
    phone.get_by_role("button", name=re.compile("Save visit|保存")).click()
    phone.wait_for_url(re.compile(r"/visits/[0-9a-f-]{36}$"))
    assert time.monotonic() - started < 60
    expect(phone.locator(".photo-grid img")).to_have_count(2)
    phone.locator(".photo-grid").scroll_into_view_if_needed()
    phone.wait_for_function("() => [...document.querySelectorAll('.photo-grid img')]"
                            ".every(img => img.complete && img.naturalWidth > 0)")
    number = re.search(r"\d{6}-\d{2}-\d{4}-\d{5}", phone.locator("h1").inner_text()).group(0)
    fits(phone)
    shot(phone, "visit-detail")

    page.goto("/visits/")
    results = page.locator("#results")
    page.locator("#q").press_sequentially(tag, delay=30)
    expect(page).to_have_url(re.compile(f"q={tag}"))
    expect(results).to_contain_text(number)
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("瘫痪", delay=30)  # a two-character Chinese word
    expect(page).to_have_url(re.compile("q=%E7%98%AB%E7%97%AA"))
    expect(results).to_contain_text(number)
    shot(page, "visit-search")
    results.get_by_role("link", name=number).click()
    expect(page.locator(".photo-grid img")).to_have_count(2)
