"""Agreements in a real browser: staff record an agreement (a bad share is refused first),
sign it and put it in force, record payouts (a malformed amount is refused), see the
totals, find it on the home page's attention list and by the list's filter, terminate it;
and the list fits a 360 px phone. Selectors avoid text, so the test holds in Chinese and
in English."""
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import add_commissioner, fits, log_in, open_page, shot

pytestmark = pytest.mark.browser
DETAIL = re.compile(r"/agreements/[0-9a-f-]{36}(#\w+)?$")


@pytest.fixture
def staff_page(browser, live_server):
    """A desktop-width page, watched like ``page`` (the 422 answers this test provokes
    on purpose, a bad share and a malformed amount, are expected by the harness)."""
    context, page, watch = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield page
    context.close()
    assert not watch.outside, f"requests to outside the program: {watch.outside}"
    assert not watch.errors, f"console errors: {watch.errors}"


def _add_target(page, name):
    page.goto("/targets/new")
    page.fill("#name", name)
    page.select_option("#kind", "coop")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/targets/[0-9a-f-]{36}$"))


def _step(page, to, on, reason=None):
    page.locator(f'#steps a[href$="/step/{to}"]').click()
    page.wait_for_url(re.compile(f"/step/{to}$"))
    page.fill("#on", on.isoformat())
    if reason:
        page.fill("#reason", reason)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(DETAIL)


def _pay(page, on, amount, payee):
    page.fill("#paid_on", on.isoformat())
    page.fill("#amount_fen", amount)
    page.select_option("#payee_id", label=payee)
    page.click("#payout-form button[type=submit]")


def test_agreement_life_cycle_ledger_totals_and_attention(staff_page):
    page = staff_page
    log_in(page)
    tag = uuid.uuid4().hex[:6]
    first, second, coop = f"赵志强{tag}", f"乌云{tag}", f"讨思浩肉羊合作社{tag}"
    add_commissioner(page, first, "内蒙古农业大学")
    add_commissioner(page, second, "内蒙古农牧业科学院")
    _add_target(page, coop)
    today = date.today()
    signed, starts, ends = today - timedelta(days=320), today - timedelta(days=300), today + timedelta(days=30)

    page.goto("/agreements/new")
    page.fill("#number", f"LY-B-{tag}")
    page.fill("#title", "肉羊繁育技术入股协议")
    page.select_option("#parties-0-commissioner_id", label=first)
    page.fill("#parties-0-share_bp", "60")
    page.select_option("#parties-1-commissioner_id", label=second)
    page.fill("#parties-1-share_bp", "30")  # 90 %: refused
    page.select_option("#counterpart_id", label=coop)
    page.select_option("#form", "technology_equity")
    page.fill("#valuation_fen", "￥50,000.50")
    page.fill("#stake_bp", "20")
    page.fill("#starts_on", starts.isoformat())
    page.fill("#ends_on", ends.isoformat())
    page.click("form.stacked button[type=submit]")
    expect(page.locator("#parties .error")).to_be_visible()
    assert "/agreements/new" in page.url
    page.fill("#parties-1-share_bp", "40")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(DETAIL)
    expect(page.locator("h1").first).to_contain_text(f"LY-B-{tag}")
    expect(page.locator("dl.record")).to_contain_text("50,000.50")
    assert page.locator("#payout-form").count() == 0  # a draft has no ledger yet

    _step(page, "signed", signed)
    _step(page, "in_force", starts)
    assert page.locator('#steps a[href$="/step/signed"]').count() == 0

    _pay(page, starts + timedelta(days=100), "1,00.5", first)  # malformed: refused
    expect(page.locator("#amount_fen[aria-invalid=true]")).to_be_visible()
    assert page.locator("#ledger table").count() == 0
    page.fill("#amount_fen", "1,000.50元")
    page.click("#payout-form button[type=submit]")
    page.wait_for_url(DETAIL)
    _pay(page, starts + timedelta(days=200), "0.25", second)
    page.wait_for_url(DETAIL)
    expect(page.locator("#ledger-total")).to_have_text("1,000.75")
    totals = page.locator("#totals").inner_text()
    assert "1,000.50" in totals and "0.25" in totals and first in totals and second in totals
    shot(page, "agreement-detail")

    page.goto("/")
    attention = page.locator("#agreement-attention")
    expect(attention).to_contain_text(f"LY-B-{tag}")
    page.goto("/agreements/")
    page.select_option("#f-attention", "ending_soon")
    expect(page).to_have_url(re.compile("attention=ending_soon"))
    expect(page.locator("#results")).to_contain_text(f"LY-B-{tag}")

    page.goto("/commissioners/")
    page.locator("#q").fill(first)
    page.locator("#results").get_by_role("link", name=first).click()
    expect(page.locator("#commissioner-agreements")).to_contain_text("1,000.50")

    page.goto("/agreements/?q=" + tag)
    page.locator("#results").get_by_role("link", name=f"LY-B-{tag}").click()
    page.wait_for_url(DETAIL)
    _step(page, "terminated", today, reason="合作社转产，双方协商解除")
    expect(page.locator("dl.record")).to_contain_text("合作社转产")
    assert page.locator("#payout-form").count() == 0
    assert page.locator("#steps").count() == 0


def _agreement_in_force(browser, live_server, tag) -> str:
    """As the admin on a desktop tab: an agreement in force with a payout; its page."""
    context, page, watch = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    try:
        log_in(page)
        first, second, coop = f"白音{tag}", f"其木格{tag}", f"毕克齐合作社{tag}"
        add_commissioner(page, first, "内蒙古农业大学")
        add_commissioner(page, second, "内蒙古农牧业科学院")
        _add_target(page, coop)
        starts = date.today() - timedelta(days=100)
        page.goto("/agreements/new")
        page.fill("#number", f"LY-P-{tag}")
        page.fill("#title", "肉羊养殖技术服务协议")
        page.select_option("#parties-0-commissioner_id", label=first)
        page.fill("#parties-0-share_bp", "60")
        page.select_option("#parties-1-commissioner_id", label=second)
        page.fill("#parties-1-share_bp", "40")
        page.select_option("#counterpart_id", label=coop)
        page.select_option("#form", "technology_equity")
        page.fill("#valuation_fen", "20,000")
        page.fill("#stake_bp", "10")
        page.fill("#starts_on", starts.isoformat())
        page.fill("#ends_on", (starts + timedelta(days=700)).isoformat())
        page.click("form.stacked button[type=submit]")
        page.wait_for_url(DETAIL)
        _step(page, "signed", starts - timedelta(days=10))
        _step(page, "in_force", starts)
        _pay(page, starts + timedelta(days=50), "800.00", first)
        page.wait_for_url(DETAIL)
        expect(page.locator("#ledger-total")).to_have_text("800.00")
        return page.url.split("#")[0]
    finally:
        context.close()
        assert not watch.outside and not watch.errors, (watch.outside, watch.errors)


def test_agreement_list_fits_a_phone(phone, browser, live_server):
    """The list, the form, and an agreement's page with its ledger (made here: the test
    needs no other to have run first)."""
    tag = uuid.uuid4().hex[:6]
    detail = _agreement_in_force(browser, live_server, tag)
    log_in(phone)
    phone.goto("/agreements/")
    fits(phone)
    expect(phone.locator("#results")).to_contain_text(f"LY-P-{tag}")
    phone.goto("/agreements/new")
    fits(phone)
    phone.goto("/agreements/?q=" + tag)
    phone.locator("#results").get_by_role("link", name=f"LY-P-{tag}").click()
    phone.wait_for_url(DETAIL)
    assert phone.url.split("#")[0] == detail
    expect(phone.locator("#ledger-total")).to_have_text("800.00")
    fits(phone)
