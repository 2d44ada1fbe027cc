"""Field fit on a 360 px phone (static/js/net.js, static/js/photos.js): the save button is
disabled while the save is under way, a save that finds no station says so and keeps the
draft, the phone's being offline shows a banner, a large photo is made small before it
travels (with its EXIF date kept and turned upright), an over-limit file is refused on
the page by name; the favicon needs no login; no page breaks the Content-Security-Policy."""
import io
import re
import uuid
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import COMMISSIONER_PASSWORD as PASSWORD
from tests.browser.helpers import DETAIL, SHORT, fill_short_form, log_in, open_page

pytestmark = pytest.mark.browser
FAILED = "未能连接工作站，内容已保存为草稿，请稍后重试"
# what a request cut on purpose prints in the console (the browser, and htmx's own log)
EXPECTED_WHEN_CUT = ("net::ERR_", "htmx:sendError", "htmx:afterRequest")


@pytest.fixture
def phone_tab(browser, live_server):
    """A 360 px tab whose console is watched; a test that cuts the network says which
    errors it expects (``tab.expected``)."""
    context, page, watch = open_page(browser, live_server, viewport={"width": 360, "height": 740},
                                 is_mobile=True, has_touch=True, device_scale_factor=2)
    page.expected = ()
    yield page
    context.close()
    errors = [e for e in watch.errors if not any(x in e for x in page.expected)]
    assert not watch.outside, f"requests to outside the program: {watch.outside}"
    assert not errors, f"console errors: {errors}"


def _photo(width, height, orientation=1, quality=95) -> bytes:
    """A heavy JPEG (a gradient with noise) with an EXIF capture date and orientation."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    picture = Image.merge("RGB", (gradient, noise, Image.eval(gradient, lambda v: 255 - v)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0132] = "2025:06:01 10:20:30"
    exif.get_ifd(0x8769)[0x9003] = "2025:06:01 10:20:30"
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _part(request, name) -> bytes:
    """The bytes of the first file sent under ``name`` in a multipart request."""
    boundary = re.search(r"boundary=(.+)", request.headers["content-type"]).group(1).encode()
    for part in request.post_data_buffer.split(b"--" + boundary):
        head, _, body = part.partition(b"\r\n\r\n")
        if f'name="{name}"'.encode() in head and b"filename=" in head:
            return body[:-2]  # the CRLF before the next boundary
    raise AssertionError(f"no file {name} in the request")


def _posts(page, path="/visits/new"):
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST" and path in r.url else None)
    return sent


def test_save_button_disabled_while_saving_then_the_visit_saves(phone_tab, station, tmp_path):
    page = phone_tab
    log_in(page, station["first"], PASSWORD)
    fill_short_form(page, station, f"母牛产后瘫痪 {uuid.uuid4().hex[:6]}", date.today())
    page.set_input_files("#photos", files=[{"name": "cow.jpg", "mimeType": "image/jpeg",
                                            "buffer": _photo(800, 600)}])
    held = []
    page.route("**/visits/new*", lambda route: held.append(route)
               if route.request.method == "POST" else route.continue_())
    sent = _posts(page)
    button = page.locator("form.visit-form button[type=submit]")
    button.click()
    page.wait_for_function("() => document.querySelector('form.visit-form[aria-busy=true]')")
    expect(button).to_be_disabled()
    expect(page.locator(".upload-progress progress")).to_be_visible()
    expect(page.locator(".upload-progress")).to_contain_text(re.compile("正在发送|已发送"))
    page.locator("#problem").press("Control+Enter")  # no second send, by key or by tap
    page.evaluate("() => document.querySelector('form.visit-form button[type=submit]').click()")
    page.wait_for_timeout(300)
    assert len(held) == 1 and len(sent) == 1
    held[0].continue_()
    page.wait_for_url(DETAIL)
    assert len(sent) == 1


def test_a_save_that_finds_no_station_says_so_and_keeps_the_draft(phone_tab, station):
    page = phone_tab
    page.expected = EXPECTED_WHEN_CUT
    log_in(page, station["first"], PASSWORD)
    problem = f"玉米螟虫害 {uuid.uuid4().hex[:6]}"
    fill_short_form(page, station, problem, date.today() - timedelta(days=1))
    page.route("**/visits/new*", lambda route: route.abort("connectionrefused")
               if route.request.method == "POST" else route.continue_())
    button = page.locator("form.visit-form button[type=submit]")
    button.click()
    message = page.locator("form.visit-form .net-error")
    expect(message).to_have_text(FAILED)
    expect(message).to_be_in_viewport()
    expect(page.locator("#net-status")).to_be_visible()
    expect(page.locator("#net-status")).to_contain_text("未能连接工作站")
    expect(button).to_be_enabled()  # to try again
    expect(page.locator("#problem")).to_have_value(problem)
    assert page.evaluate("""p => Object.keys(localStorage).some(k => k.startsWith('kepai-draft:')
        && localStorage[k].includes(p))""", problem)

    # the station is back: the banner goes at the next answer, the form opened again
    # brings the draft back, and the save goes through
    page.unroute("**/visits/new*")
    page.goto(SHORT)
    expect(page.locator("#net-status")).to_be_hidden()
    expect(page.locator("[data-draft-notice]")).to_be_visible()
    expect(page.locator("#problem")).to_have_value(problem)
    page.locator("form.visit-form button[type=submit]").click()
    page.wait_for_url(DETAIL)


def test_a_save_without_an_answer_in_time_says_so(phone_tab, station):
    page = phone_tab
    page.expected = EXPECTED_WHEN_CUT + ("htmx:timeout",)
    log_in(page, station["first"], PASSWORD)
    problem = f"马铃薯晚疫病 {uuid.uuid4().hex[:6]}"
    fill_short_form(page, station, problem, date.today())
    held = []
    page.route("**/visits/new*", lambda route: held.append(route)
               if route.request.method == "POST" else route.continue_())
    page.evaluate("() => { htmx.config.timeout = 800; }")  # instead of five minutes
    page.locator("form.visit-form button[type=submit]").click()
    expect(page.locator("form.visit-form .net-error")).to_have_text(FAILED)
    expect(page.locator("form.visit-form button[type=submit]")).to_be_enabled()
    assert len(held) == 1


def test_offline_banner_follows_the_phone(phone_tab, browser, station):
    page = phone_tab
    page.expected = EXPECTED_WHEN_CUT
    log_in(page, station["first"], PASSWORD)
    page.goto("/visits/")
    banner = page.locator("#net-status")
    expect(banner).to_be_hidden()
    page.context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("未连接到工作站")
    page.locator(".mainnav a[href='/']").click()  # a menu tap while offline: still said
    expect(banner).to_be_visible()
    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    page.locator(".mainnav a[href='/']").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(banner).to_be_hidden()


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_large_photo_travels_small_upright_with_its_date(phone_tab, station, orientation):
    page = phone_tab
    log_in(page, station["first"], PASSWORD)
    fill_short_form(page, station, f"羊只跛行 {uuid.uuid4().hex[:6]}", date.today())
    original = _photo(4000, 3000, orientation=orientation)
    assert len(original) > 2_500_000
    page.set_input_files("#photos", files=[{"name": "IMG_0001.JPG", "mimeType": "image/jpeg",
                                            "buffer": original}])
    page.wait_for_function("() => !document.querySelector('#photos[aria-busy]')", timeout=30_000)
    sent = _posts(page)
    page.locator("form.visit-form button[type=submit]").click()
    page.wait_for_url(DETAIL)
    assert len(sent) == 1
    photo = _part(sent[0], "photos")
    assert len(photo) < len(original) / 3 and len(sent[0].post_data_buffer) < 1_500_000
    image = Image.open(io.BytesIO(photo))
    assert image.format == "JPEG"
    upright = (1600, 1200) if orientation == 1 else (1200, 1600)
    assert image.size == upright  # the picture is upright; its EXIF says so
    exif = image.getexif()
    assert exif.get(0x0112, 1) == 1
    assert exif.get_ifd(0x8769).get(0x9003) == "2025:06:01 10:20:30"
    expect(page.locator(".photo-grid img")).to_have_count(1)


def test_an_over_limit_file_is_refused_on_the_page_by_name(phone_tab, station, tmp_path):
    page = phone_tab
    log_in(page, station["first"], PASSWORD)
    fill_short_form(page, station, f"奶牛乳房炎 {uuid.uuid4().hex[:6]}", date.today())
    huge = tmp_path / "huge.heic"  # not made smaller by the browser: sent as chosen
    with open(huge, "wb") as f:
        f.truncate(21 * 1024 * 1024)
    page.set_input_files("#photos", huge)
    sent = _posts(page)
    page.locator("form.visit-form button[type=submit]").click()
    refusal = page.locator(".photo-error")
    expect(refusal).to_contain_text("huge.heic")
    expect(refusal).to_contain_text("最多 20 MB")
    page.wait_for_timeout(300)
    assert not sent


def test_favicon_without_login(page, live_server):
    response = page.request.get(live_server + "/favicon.ico")
    assert response.status == 200 and response.body()[:4] == b"\x00\x00\x01\x00"
    page.goto("/login")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server + icon).status == 200


PAGES = ["/", "/visits/", "/visits/new?form=full", "/visits/new?form=short", "/commissioners/",
         "/commissioners/new", "/targets/", "/trainings/", "/trainings/new", "/stations/",
         "/agreements/", "/agreements/new", "/reports/", "/teams/", "/places/", "/clusters/",
         "/sync/", "/users", "/password"]


def test_no_page_breaks_the_content_security_policy(page):
    """The harness fails on any console error (a refused inline style is one); the
    violations are also counted by the page itself."""
    page.add_init_script("""window.__csp = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));""")
    log_in(page)
    for path in PAGES:
        page.goto(path)
        assert page.evaluate("window.__csp") == [], path
    # boosted navigation (htmx swaps the page in) and the sign-in sheet's own stylesheet
    page.goto("/trainings/")
    page.locator(".mainnav a[href='/visits/']").click()
    expect(page).to_have_url(re.compile("/visits/"))
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("getComputedStyle(document.querySelector('.mainnav')).overflowX") == "auto"
    page.goto("/trainings/new")
    page.fill("#title", "青贮玉米种植培训" + uuid.uuid4().hex[:4])
    page.fill("#held_on", (date.today() + timedelta(days=7)).isoformat())
    page.fill("#hours", "2")
    page.fill("#place_text", "察素齐镇")
    page.fill("#outside_trainers", "李教授")
    page.fill("#content", "青贮技术")
    page.select_option("#status", "planned")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/trainings/[0-9a-f-]{36}$"))
    page.goto(page.url + "/sign-in")
    assert page.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse") == "collapse"
    assert page.evaluate("window.__csp") == []
