"""Styles from files only: the Content-Security-Policy allows no inline style, and no
template holds a <style> element or a style="" attribute (which it would refuse); the
favicon needs no login; a request over the cap says what to do, with a way back."""
import os
import re

from app import ROOT
from app.web.wall import CONTENT_SECURITY_POLICY

TEMPLATES = os.path.join(ROOT, "templates")
INLINE_STYLE = re.compile(r"<style\b|\bstyle\s*=", re.IGNORECASE)


def _directive(policy: str, name: str) -> str:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return " ".join(words[1:])
    raise AssertionError(f"{name} is missing from {policy!r}")


def test_the_policy_allows_no_inline_style_nor_script():
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert _directive(CONTENT_SECURITY_POLICY, "style-src") == "'self'"
    assert _directive(CONTENT_SECURITY_POLICY, "script-src") == "'self'"


def test_pages_are_served_with_that_policy(client):
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_no_template_has_inline_style():
    found = []
    for folder, _dirs, files in os.walk(TEMPLATES):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if INLINE_STYLE.search(line):
                        found.append(f"{os.path.relpath(path, ROOT)}:{number}: {line.strip()}")
    assert not found, "inline style (move it to static/css/):\n" + "\n".join(found)


def test_htmx_does_not_inject_its_indicator_style():
    with open(os.path.join(TEMPLATES, "base.html"), encoding="utf-8") as f:
        base = f.read()
    assert '"includeIndicatorStyles":false' in base.replace(" ", "")
    with open(os.path.join(ROOT, "static", "css", "kepai.css"), encoding="utf-8") as f:
        assert ".htmx-request .htmx-indicator" in f.read()


def test_favicon_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page


def test_too_large_a_request_says_what_to_do_with_a_way_back(app, login):
    app.config.update(MAX_CONTENT_LENGTH=1024)
    client = login("staff")
    form = "http://localhost/commissioners/new"
    response = client.post("/commissioners/new", data={"name": "x" * 4096},
                           headers={"Referer": form})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "上传的内容过大：最多 1 KB" in page and "请返回表单" in page
    assert f'<a href="{form}">返回表单</a>' in page
    # a referrer from elsewhere is no way back
    response = client.post("/commissioners/new", data={"name": "x" * 4096},
                           headers={"Referer": "http://elsewhere.example/x"})
    assert "elsewhere.example" not in response.get_data(as_text=True)


def test_the_photo_field_states_both_limits(app, login):
    client = login("staff")
    page = client.get("/visits/new?form=full").get_data(as_text=True)
    assert "每张不超过 20 MB，合计不超过 32 MB" in page
    assert 'data-max-file="20971520"' in page
