"""The menu on a 360 px phone: the role's everyday pages show, the rest fold behind 更多,
and every page of the role is reached from it (issue: field fit, a phone-first shell)."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COMMISSIONER_PASSWORD, log_in

pytestmark = pytest.mark.browser


def _menu(phone):
    return phone.locator(".mainnav a")


@pytest.mark.parametrize("who", ["admin", "commissioner"])
def test_every_page_of_the_role_is_reached_from_the_phone_menu(phone, station, who):
    if who == "admin":
        log_in(phone)
    else:
        log_in(phone, station["first"], COMMISSIONER_PASSWORD)
    links = _menu(phone)
    hidden = [a for a in links.all() if not a.is_visible()]
    assert hidden, "some items fold behind 更多 on a phone"
    for a in links.all():  # every shown item is a touch target of 44 px at least
        if a.is_visible():
            assert a.bounding_box()["height"] >= 44
    phone.locator(".nav-more").click()
    hrefs = []
    for a in links.all():
        expect(a).to_be_visible()
        assert a.bounding_box()["x"] + a.bounding_box()["width"] <= 361  # nothing off-screen
        hrefs.append(a.get_attribute("href"))
    for href in hrefs:
        response = phone.request.get(href)
        assert response.status == 200, href
    if who == "commissioner":
        assert not {"/places/", "/clusters/", "/teams/", "/stations/", "/goals/"} & set(hrefs)
    else:
        assert {"/places/", "/clusters/", "/teams/", "/stations/", "/sync/"} <= set(hrefs)
