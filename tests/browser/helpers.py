"""What the browser tests share: the Chromium they drive, the admin account the live
server is set up with, a watched tab, logging in, and steps more than one test takes
(adding a commissioner, a commissioner's login, checking a page fits a phone)."""
import os
import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ADMIN, ADMIN_PASSWORD = "browser-admin", "browser-pass-1"
COMMISSIONER_PASSWORD = "visit-pass-1"
SHOTS = os.environ.get("KEPAI_SCREENSHOTS")  # a folder to keep screenshots in, when set


class Watch:
    """What a page did that a test must not allow: outside requests and console errors."""

    def __init__(self):
        self.outside: list[str] = []
        self.errors: list[str] = []

    def route(self, route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def console(self, message):
        # An invalid form is answered 422 by design (the form again, with its errors);
        # the browser logs every 4xx as a console error, so that one is expected.
        if message.type == "error" and "status of 422" not in message.text:
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def page_error(self, error):
        self.errors.append(f"uncaught: {error}")


def open_page(browser, live_server, **context_options):
    """A new browser context and tab on the live server, watched: (context, page, watch)."""
    watch = Watch()
    context = browser.new_context(base_url=live_server, locale="zh-CN",
                                  service_workers="block", **context_options)
    context.route("**/*", watch.route)
    page = context.new_page()
    page.on("console", watch.console)
    page.on("pageerror", watch.page_error)
    page.set_default_timeout(10_000)
    return context, page, watch


def log_in(page, username=ADMIN, password=ADMIN_PASSWORD):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form.login button[type=submit], .login form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def shot(page, name):
    """A full-page screenshot into KEPAI_SCREENSHOTS, when set."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits(page):
    """The page is no wider than a 360 px phone's screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width} px wide on a 360 px screen"


def add_commissioner(page, name, org):
    """As the admin: a new commissioner; the page ends on their record."""
    page.goto("/commissioners/new")
    page.fill("#name", name)
    page.select_option("#kind", "individual")
    page.select_option("#level", "county")
    page.fill("#sending_org", org)
    page.select_option("#sending_org_type", "university")
    page.select_option("#status", "recognised")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/commissioners/[0-9a-f-]{36}$"))


def commissioner_account(page, tag) -> str:
    """As the admin: a commissioner record and its login (COMMISSIONER_PASSWORD); returns
    the user name."""
    page.goto("/commissioners/new")
    page.fill("#name", f"赵志强{tag}")
    page.select_option("#kind", "individual")
    page.select_option("#level", "county")
    page.select_option("#status", "recognised")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/commissioners/[0-9a-f-]{36}$"))
    commissioner_id = page.url.rsplit("/", 1)[1]
    username = f"zhao{tag}"
    page.goto("/users/new")
    page.fill("#username", username)
    page.select_option("#role", "commissioner")
    page.select_option("#commissioner_id", commissioner_id)
    page.fill("#password", COMMISSIONER_PASSWORD)
    page.fill("#confirm", COMMISSIONER_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/users/new" not in url)
    return username


SHORT = "/visits/new?form=short"
DETAIL = re.compile(r"/visits/[0-9a-f-]{36}$")


def fill_short_form(page, station, problem, visited_on):
    """The short visit form filled for ``station`` (the visit_station fixture's)."""
    page.goto(SHORT)
    page.fill("#problem", problem)
    page.fill("#visited_on", visited_on.isoformat())
    page.fill("#start_time", "09:30")
    page.select_option("#mode", "online")
    village = page.locator("#village_id option", has_text=station["village"])
    village_id = village.get_attribute("value")
    page.select_option("#village_id", village_id)
    page.select_option("#pick-targets", station["target_id"])  # htmx adds it to the chosen
    expect(page.locator(f'#chosen-targets input[value="{station["target_id"]}"]')).to_be_checked()
    return village_id
