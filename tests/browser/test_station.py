"""The station in a real browser: log in, add a commissioner, find them by searching
(htmx), see their history; and the login and list pages on a 360 px phone."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import add_commissioner, fits, log_in, shot

pytestmark = pytest.mark.browser


def test_add_find_and_see_history(page):
    log_in(page)
    assert page.locator(".usermenu summary").inner_text().startswith("browser-admin")
    tag = uuid.uuid4().hex[:6]
    wanted, other = f"王建国{tag}", f"李梅{tag}"
    add_commissioner(page, wanted, "内蒙古农业大学")
    assert page.locator("h1").first.inner_text().strip().startswith(wanted)
    add_commissioner(page, other, "内蒙古农牧业科学院")

    page.goto("/commissioners/")
    results = page.locator("#results")
    assert wanted in results.inner_text() and other in results.inner_text()
    page.evaluate("window.__notReloaded = true")
    page.locator("#q").press_sequentially(f"王建国{tag}", delay=30)
    # the last keystroke's search has come back: its address is pushed after the swap
    expect(page).to_have_url(re.compile(f"q=[^&]*{tag}"))
    expect(results).not_to_contain_text(other)
    expect(results).to_contain_text(wanted)
    assert page.evaluate("window.__notReloaded") is True  # swapped by htmx, not reloaded
    assert "q=" in page.url  # the search is in the address, for back and reload
    shot(page, "search")

    results.get_by_role("link", name=wanted).click()  # a boosted link: htmx loads the page
    expect(page).to_have_url(re.compile(r"/commissioners/[0-9a-f-]{36}$"))
    expect(page.locator(".history-list")).to_be_visible()
    entries = page.locator(".history-list > li")
    assert entries.count() == 1
    entry = entries.first.inner_text()
    assert "browser-admin" in entry and "v1" in entry
    assert wanted in entry and "内蒙古农业大学" in entry
    shot(page, "detail")


def test_search_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    log_in(page)
    page.goto("/commissioners/?q=no-such-name-at-all")
    assert page.locator("#results").inner_text().strip()
    assert page.locator("#results table").count() == 0
    context.close()


def test_login_and_list_fit_a_phone(phone):
    phone.goto("/login")
    fits(phone)
    box = phone.locator("#username").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    shot(phone, "phone-login")
    log_in(phone)
    phone.goto("/commissioners/")
    fits(phone)
    shot(phone, "phone-list")
