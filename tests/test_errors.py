"""Error pages: the right status, in the user's language, a partial for htmx fragment
requests, JSON for /api/; and the public health check."""
import os
import re

import pytest
from sqlalchemy import func, select

from app import ROOT
from app.core.extensions import db

TRANSLATIONS = os.path.join(ROOT, "translations")
ZH = {  # what the Chinese pages say (translations/pending/hardening.tsv)
    400: "表单已过期或来源不明", 403: "您无权查看或进行此操作", 404: "没有此页面或记录",
    405: "此地址不接受这种请求", 413: "上传的内容过大：最多 1 KB", 500: "系统出错，未保存任何内容",
}
EN = {
    400: "The form expired or was sent from elsewhere", 403: "You are not allowed to see or do this",
    404: "There is no such page or record", 405: "This address does not accept that kind",
    413: "The upload is too large: at most 1 KB", 500: "Something went wrong on our side",
}


@pytest.fixture
def app(app):
    app.config.update(MAX_CONTENT_LENGTH=1024, PROPAGATE_EXCEPTIONS=False)

    @app.get("/_boom")
    def boom():
        raise RuntimeError("a bug")

    @app.get("/api/_boom")
    def api_boom():
        raise RuntimeError("a bug")
    return app


def _trigger(client, code, headers=None):
    """A request that ends in ``code`` for a logged-in staff user."""
    headers = headers or {}
    if code == 400:
        client.application.config["WTF_CSRF_ENABLED"] = True
        return client.post("/password", data={"current": "x"}, headers=headers)
    return {
        403: lambda: client.get("/users", headers=headers),
        404: lambda: client.get("/no/such/page", headers=headers),
        405: lambda: client.get("/logout", headers=headers),
        413: lambda: client.post("/commissioners/new", data={"name": "x" * 4096},
                                 headers=headers),
        500: lambda: client.get("/_boom", headers=headers),
    }[code]()


CODES = sorted(ZH)


@pytest.mark.parametrize("code", CODES)
def test_error_pages_in_chinese_by_default(login, code):
    client = login("staff")
    response = _trigger(client, code)
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert body.startswith("<!doctype html>") and 'lang="zh-CN"' in body
    assert ZH[code] in body and f"{code} · " in body
    assert "返回首页" in body  # the way back, translated too
    assert "Traceback" not in body and "a bug" not in body


@pytest.mark.parametrize("code", CODES)
def test_error_pages_in_english_after_switching(login, code):
    client = login("staff")
    client.post("/language", data={"lang": "en"})
    response = _trigger(client, code)
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert 'lang="en"' in body and EN[code] in body and ZH[code] not in body


@pytest.mark.parametrize("code", CODES)
def test_htmx_fragment_gets_the_partial(login, code):
    client = login("staff")
    response = _trigger(client, code, headers={"HX-Request": "true"})
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'class="card error-page"' in body and ZH[code] in body
    assert "HX-Request" in response.headers["Vary"]
    boosted = _trigger(client, 404, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_anonymous_unknown_page_is_404_not_login(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and ZH[404] in response.get_data(as_text=True)


def test_api_paths_answer_json(login, client):
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.is_json
    assert ZH[404] in response.get_json()["error"]
    login("staff")
    response = client.get("/api/_boom")
    assert response.status_code == 500 and response.is_json
    assert set(response.get_json()) == {"error"}
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.is_json


def test_a_failed_request_leaves_the_session_usable(app, login):
    """After a 500 the next request on the same database works (the session was rolled
    back), and nothing half-written remains."""
    client = login("staff")
    assert client.get("/_boom").status_code == 500
    assert client.get("/commissioners/").status_code == 200


def test_healthz_answers_json_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert (body["role"], body["code"]) == ("station", "150121-01")
    assert body["database"]["ok"] is True
    assert body["database"]["dialect"] in ("sqlite", "postgresql")


def test_healthz_before_migration_is_degraded(tmp_path, monkeypatch):
    from app import create_app
    from tests.settings import TEST_CONFIG
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / "instance"))
    empty = create_app({**TEST_CONFIG,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    response = empty.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["role"] is None
    assert body["database"]["error"] == "not migrated"


def test_shipped_chinese_catalog_is_found(app):
    """Babel reads zh_CN as zh_Hans_CN; the catalog in translations/zh must still load."""
    from app.core.i18n import force_locale, gettext
    with app.test_request_context(), force_locale("zh_CN"):
        assert gettext("Not found") == "未找到"


def test_every_error_title_is_translated():
    """Each status the program answers with has a title and message in Chinese."""
    from babel.messages.pofile import read_po
    with open(os.path.join(TRANSLATIONS, "zh", "LC_MESSAGES", "messages.po"), "rb") as f:
        catalog = read_po(f)
    from app.web.errors import ERROR_TITLES
    for code, title in ERROR_TITLES.items():
        translated = catalog.get(title._args[0])
        assert translated and re.search(r"[\u4e00-\u9fff]", translated.string), code


@pytest.mark.parametrize("method, url", [
    ("GET", "/users/99999999999999999999"), ("GET", "/users/2147483648"),
    ("GET", "/sync/conflicts/9223372036854775808"), ("GET", "/users/-1"),
    ("POST", "/sync/rejected/99999999999999999999")])
def test_numbers_too_large_for_the_database_are_404(login, method, url):
    """Once a 500: an <int:...> larger than an integer column reached the database."""
    client = login("admin")
    assert client.open(url, method=method).status_code == 404


@pytest.mark.parametrize("q, status", [("把什\x01村", 200), ("\x1f\x7f", 200),
                                       ("00\x00", 400), ("\x00", 400)])
def test_control_characters_in_a_visit_search_are_ignored(login, q, status):
    """Once a 500: a NUL in the search broke SQLite's full-text query. A NUL is now
    refused for every request (400); other control characters are dropped from the search."""
    client = login("staff")
    assert client.get("/visits/", query_string={"q": q}).status_code == status


@pytest.mark.parametrize("path", ["/commissioners/?q=a%00b", "/targets/?q=%00", "/trainings/?q=x%00",
                                  "/agreements/?q=%00", "/places/?q=%00"])
def test_a_nul_character_in_a_parameter_is_400_not_500(client, login, path):
    login("staff")
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_character_in_a_form_field_is_400_and_writes_nothing(app, client, login):
    login("staff")
    response = client.post("/commissioners/new", data={"name": "王\x00建国", "kind": "individual",
                                                       "level": "county"})
    assert response.status_code == 400
    from app.models import Commissioner
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == 0


@pytest.mark.parametrize("name", ["\n", "a\r\nb"])
def test_a_form_part_without_a_readable_name_is_ignored(app, client, login, name):
    """werkzeug gives a multipart part whose name it cannot read (a hostile client's, or
    one with a line break) the key ``None``; WTForms failed on it with a 500. The forms
    read the rest as if it were not there (app/web/request.py)."""
    app.config["MAX_CONTENT_LENGTH"] = None  # this module's 1 KB is for the 413 page
    login("staff")
    empty = client.post("/agreements/new", data={name: "-1"}, content_type="multipart/form-data")
    assert empty.status_code == 422
    from app.models.shipped import shipped_id
    saved = client.post("/commissioners/new", content_type="multipart/form-data", data={
        name: "-1", "name": "王建国", "kind": "individual", "level": "county",
        "status": "recognised", "sending_org": "内蒙古农业大学", "sending_org_type": "university",
        "cluster_ids": [shipped_id("cluster", "肉羊")]})
    assert saved.status_code == 302
    from app.models import Commissioner
    with app.app_context():
        assert db.session.scalars(select(Commissioner.name)).all() == ["王建国"]
