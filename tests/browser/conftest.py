"""The browser harness: a real server (waitress) on loopback against a fresh SQLite
instance folder, driven by Playwright through Debian's Chromium.

Every page a test opens is watched: a request to anywhere but 127.0.0.1 is aborted and
fails the test, and so does any console error or uncaught script error."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.browser.helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    CHROMIUM,
    CHROMIUM_ARGS,
    commissioner_account,
    log_in,
    open_page,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if not os.path.exists(CHROMIUM):
                item.add_marker(pytest.mark.skip(
                    reason=f"{CHROMIUM} is absent (apt-get install chromium to run browser tests)"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env, *args, stdin=None):
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"flask {' '.join(args)}: {result.stdout}{result.stderr}"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The base URL of a station served by waitress from a fresh instance folder."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEPAI_") and k != "DATABASE_URL"}
    env.update(KEPAI_INSTANCE=str(instance), FLASK_APP="wsgi", PYTHONUNBUFFERED="1")
    _flask(env, "db", "upgrade")
    _flask(env, "node", "init", "--role", "station", "--code", "150121-01",
           "--name", "土左旗科技特派员工作站")
    _flask(env, "users", "create", "--username", ADMIN, "--role", "station_admin",
           stdin=ADMIN_PASSWORD + "\n")
    port = _free_port()
    log = open(instance / "waitress.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={port}",
         "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((instance / "waitress.log").read_text()) from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (desktop size); the test fails on any outside request or
    console error."""
    context, page, watch = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield page
    context.close()
    assert not watch.outside, f"requests to outside the program: {watch.outside}"
    assert not watch.errors, f"console errors: {watch.errors}"


@pytest.fixture
def phone(browser, live_server):
    """A fresh tab 360 px wide, as on a small phone; watched like ``page``."""
    context, page, watch = open_page(browser, live_server, viewport={"width": 360, "height": 740},
                                 is_mobile=True, has_touch=True, device_scale_factor=2)
    yield page
    context.close()
    assert not watch.outside, f"requests to outside the program: {watch.outside}"
    assert not watch.errors, f"console errors: {watch.errors}"


@pytest.fixture(scope="module")
def station(browser, live_server):
    """As the admin: two commissioners with logins, a village and a service target."""
    context, page, _watch = open_page(browser, live_server, viewport={"width": 1280, "height": 900})
    tag = uuid.uuid4().hex[:6]
    log_in(page)
    first, second = commissioner_account(page, tag + "a"), commissioner_account(page, tag + "b")
    page.goto("/places/new?level=township")
    page.fill("#name", f"白庙子镇{tag}")
    page.locator("#parent_id").select_option(index=1)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/places/[0-9a-f-]{36}$"))
    page.goto("/places/new?level=village")
    page.fill("#name", f"讨思浩村{tag}")
    page.locator("#parent_id").select_option(
        page.locator("#parent_id option", has_text=f"白庙子镇{tag}").get_attribute("value"))
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/places/[0-9a-f-]{36}$"))
    page.goto("/targets/new")
    page.fill("#name", f"讨思浩肉羊合作社{tag}")
    page.select_option("#kind", "coop")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/targets/[0-9a-f-]{36}$"))
    target_id = page.url.rsplit("/", 1)[1]
    context.close()
    return {"first": first, "second": second, "village": f"讨思浩村{tag}",
            "target": f"讨思浩肉羊合作社{tag}", "target_id": target_id}
