"""The unsaved draft of a visit form (static/js/draft.js) on a 360 px phone: what a
commissioner typed comes back after the tab was closed, goes away only once the server
saved the visit, stays through an invalid submit, is never shown to another user of the
same browser, and can be discarded."""
import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COMMISSIONER_PASSWORD, DETAIL, SHORT, fill_short_form, log_in, open_page

pytestmark = pytest.mark.browser
RESTORED = re.compile(r"已恢复 \d{1,2}月\d{1,2}日 \d\d:\d\d 未保存的草稿。\s*照片需重新选择。")


class Phone:
    """A 360 px browser context whose tabs can be closed and opened again (localStorage
    lives in the context); every tab is watched like the harness's ``phone``."""

    def __init__(self, browser, live_server):
        self.context, self.page, self.watch = open_page(
            browser, live_server, viewport={"width": 360, "height": 740},
            is_mobile=True, has_touch=True, device_scale_factor=2)

    def reopen(self):
        """Closes the tab, as when the phone's browser is closed, and opens a new one."""
        self.page.close()
        self.page = self.context.new_page()
        self.page.on("console", self.watch.console)
        self.page.on("pageerror", self.watch.page_error)
        self.page.set_default_timeout(10_000)
        return self.page

    def drafts(self) -> dict:
        return self.page.evaluate("""() => Object.fromEntries(Object.keys(localStorage)
            .filter(k => k.startsWith('kepai-draft:')).map(k => [k, JSON.parse(localStorage[k])]))""")


@pytest.fixture
def phone_context(browser, live_server):
    phone = Phone(browser, live_server)
    yield phone
    phone.context.close()
    assert not phone.watch.outside, f"requests to outside the program: {phone.watch.outside}"
    assert not phone.watch.errors, f"console errors: {phone.watch.errors}"


def _log_out(page):
    page.locator(".usermenu summary").click()
    page.locator(".usermenu form button[type=submit]").click()
    page.wait_for_url(re.compile("/login"))


def _save(page):
    """Saves the visit form and waits for the visit page to have settled (draft.js has
    dealt with the submitted draft: htmx runs it a moment after the address changed)."""
    page.get_by_role("button", name=re.compile("Save visit|保存")).click()
    page.wait_for_url(DETAIL)
    page.wait_for_function("() => !sessionStorage.getItem('kepai-draft-pending')")


def _wait_for_draft(phone, text):
    """The debounced save has written a draft holding ``text``."""
    phone.page.wait_for_function(
        """text => Object.keys(localStorage).some(k => k.startsWith('kepai-draft:')
            && localStorage[k].includes(text))""", arg=text)


def test_draft_survives_a_closed_tab_and_goes_once_saved(phone_context, station):
    phone, tag = phone_context, uuid.uuid4().hex[:6]
    page = phone.page
    log_in(page, station["first"], COMMISSIONER_PASSWORD)
    visited_on = date.today() - timedelta(days=2)
    problem = f"羔羊腹泻，精神沉郁 草稿{tag}\n第二行"
    village_id = fill_short_form(page, station, problem, visited_on)
    page.fill("#action", "口服补液盐")
    _wait_for_draft(phone, "口服补液盐")
    [(key, draft)] = phone.drafts().items()
    assert re.fullmatch(r"kepai-draft:\d+:visit-new-short", key)
    assert "csrf_token" not in draft["values"] and "photos" not in draft["values"]
    proposed_id = page.locator("#visit_id").input_value()
    assert draft["values"]["visit_id"] == [proposed_id]  # sent again, it is saved once

    page = phone.reopen()
    page.goto(SHORT)
    notice = page.locator("[data-draft-notice]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(RESTORED)
    expect(page.locator("#problem")).to_have_value(problem)
    expect(page.locator("#action")).to_have_value("口服补液盐")
    expect(page.locator("#visited_on")).to_have_value(visited_on.isoformat())
    expect(page.locator("#start_time")).to_have_value("09:30")
    expect(page.locator("#mode")).to_have_value("online")
    expect(page.locator("#village_id")).to_have_value(village_id)
    expect(page.locator(f'#chosen-targets input[value="{station["target_id"]}"]')).to_be_checked()
    expect(page.locator("#chosen-commissioners input[type=checkbox]")).to_be_checked()
    # The token comes from the server, not from the draft; the visit's proposed id from it.
    assert page.locator("input[name=csrf_token]").first.input_value()
    expect(page.locator("#visit_id")).to_have_value(proposed_id)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    _save(page)
    assert page.url.endswith(f"/visits/{proposed_id}")
    body = page.locator("main")
    expect(body).to_contain_text(f"草稿{tag}")
    expect(body).to_contain_text(station["target"])
    expect(body).to_contain_text(station["village"])
    expect(body).to_contain_text(visited_on.isoformat() + " 09:30")
    assert phone.drafts() == {}

    page.goto(SHORT)
    expect(page.locator("#problem")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    expect(page.locator("#visited_on")).to_have_value(date.today().isoformat())


def test_invalid_submit_keeps_the_draft(phone_context, station):
    phone, tag = phone_context, uuid.uuid4().hex[:6]
    page = phone.page
    log_in(page, station["first"], COMMISSIONER_PASSWORD)
    page.goto(SHORT)
    page.fill("#problem", f"饲草霉变 草稿{tag}")
    page.fill("#visited_on", (date.today() + timedelta(days=3)).isoformat())  # in the future
    _wait_for_draft(phone, f"草稿{tag}")
    page.get_by_role("button", name=re.compile("Save visit|保存")).click()
    expect(page.locator("#visited_on[aria-invalid=true]")).to_be_visible()  # the 422 answer
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    page.fill("#action", "更换饲草")  # the re-rendered form goes on saving
    _wait_for_draft(phone, "更换饲草")

    page = phone.reopen()
    page.goto(SHORT)
    expect(page.locator("[data-draft-notice]")).to_contain_text(RESTORED)
    expect(page.locator("#problem")).to_have_value(f"饲草霉变 草稿{tag}")
    expect(page.locator("#action")).to_have_value("更换饲草")


def test_another_user_does_not_see_the_draft_and_discard_clears_it(phone_context, station):
    phone, tag = phone_context, uuid.uuid4().hex[:6]
    page = phone.page
    log_in(page, station["first"], COMMISSIONER_PASSWORD)
    page.goto(SHORT)
    page.fill("#problem", f"奶牛乳房炎 草稿{tag}")
    page.fill("#visited_on", (date.today() - timedelta(days=1)).isoformat())
    _wait_for_draft(phone, f"草稿{tag}")
    _log_out(page)

    log_in(page, station["second"], COMMISSIONER_PASSWORD)
    page.goto(SHORT)
    expect(page.locator("#problem")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    page.goto("/visits/new?form=full")
    expect(page.locator("#problem")).to_have_value("")
    _log_out(page)

    log_in(page, station["first"], COMMISSIONER_PASSWORD)  # logging out kept the first user's draft
    page.goto(SHORT)
    expect(page.locator("#problem")).to_have_value(f"奶牛乳房炎 草稿{tag}")
    page.locator("[data-draft-discard]").click()
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    expect(page.locator("#problem")).to_have_value("")
    expect(page.locator("#visited_on")).to_have_value(date.today().isoformat())
    expect(page.locator("#chosen-commissioners input[type=checkbox]")).to_be_checked()
    assert phone.drafts() == {}
    page.reload()
    expect(page.locator("#problem")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()


def test_edit_draft_is_kept_per_visit_and_dropped_when_the_visit_changed(phone_context, browser,
                                                                         live_server, station):
    phone, tag = phone_context, uuid.uuid4().hex[:6]
    page = phone.page
    log_in(page, station["first"], COMMISSIONER_PASSWORD)
    page.goto(SHORT)
    page.fill("#problem", f"原来的问题{tag}")
    _save(page)
    edit = page.url + "/edit"
    page.goto(edit)
    page.fill("#problem", f"改了一半{tag}")
    _wait_for_draft(phone, f"改了一半{tag}")
    assert [re.sub(r"\d+", "N", k) for k in phone.drafts()] == ["kepai-draft:N:visit-edit-" +
                                                                 re.sub(r"\d+", "N", edit.split("/")[-2])]
    page = phone.reopen()
    page.goto(edit)
    expect(page.locator("[data-draft-notice] [data-draft-restored]")).to_be_visible()
    expect(page.locator("#problem")).to_have_value(f"改了一半{tag}")
    page.goto(SHORT)  # the new-visit form has no draft of its own
    expect(page.locator("[data-draft-notice]")).to_be_hidden()

    # The same user saves the visit from another browser: the draft's base is gone.
    other, other_page, _watch = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    log_in(other_page, station["first"], COMMISSIONER_PASSWORD)
    other_page.goto(edit)
    other_page.fill("#result", f"已经好转{tag}")
    _save(other_page)
    other.close()

    page.goto(edit)
    notice = page.locator("[data-draft-notice]")
    expect(notice.locator("[data-draft-stale]")).to_be_visible()
    expect(notice.locator("[data-draft-stale]")).to_contain_text("未保存的草稿没有恢复")
    expect(notice.locator("[data-draft-discard]")).to_be_hidden()
    expect(page.locator("#problem")).to_have_value(f"原来的问题{tag}")
    expect(page.locator("#result")).to_have_value(f"已经好转{tag}")
    assert phone.drafts() == {}


def test_a_draft_older_than_seven_days_is_deleted(phone_context, station):
    phone = phone_context
    page = phone.page
    log_in(page, station["first"], COMMISSIONER_PASSWORD)
    page.goto(SHORT)
    page.fill("#problem", "旧草稿")
    _wait_for_draft(phone, "旧草稿")
    page.evaluate("""() => { for (const k of Object.keys(localStorage)) {
        if (!k.startsWith('kepai-draft:')) continue;
        const draft = JSON.parse(localStorage[k]);
        draft.savedAt -= 8 * 86400000;
        localStorage[k] = JSON.stringify(draft); } }""")
    page.goto(SHORT)
    expect(page.locator("#problem")).to_have_value("")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    assert phone.drafts() == {}
