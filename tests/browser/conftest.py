"""The browser harness: a real server (waitress) on loopback against a fresh SQLite
instance folder, driven by Playwright through Debian's Chromium.

Every page a test opens is watched: a request to anywhere but 127.0.0.1 is aborted and
fails the test, and so does any console error or uncaught script error."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser.helpers import ADMIN, ADMIN_PASSWORD, CHROMIUM, CHROMIUM_ARGS, open_page

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
