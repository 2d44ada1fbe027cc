"""Security basics: the login wall over every route, CSRF, cookies, headers, roles."""
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Commissioner, User
from app.web.wall import PUBLIC_ENDPOINTS, TOKEN_BLUEPRINTS
from tests.settings import PASSWORD

EXPECTED_PUBLIC = {"auth.login", "static", "main.healthz", "main.language", "sync_api.openapi"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _url(rule) -> str:
    """The rule's path with a plausible value for each variable part."""
    def value(match):
        converter, name = match.group(1), match.group(2)
        if name == "filename":
            return "css/kepai.css"
        return "1" if converter in ("int", "float") else "x"
    return ARGUMENT.sub(value, rule.rule)


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in EXPECTED_PUBLIC
            and r.endpoint.split(".")[0] not in TOKEN_BLUEPRINTS]


def _methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def test_public_endpoints_are_exactly_these():
    assert PUBLIC_ENDPOINTS == EXPECTED_PUBLIC


def test_sync_api_refuses_requests_without_a_node_token(app, client):
    """The sync API needs no login but a node's token: without one, nothing but a refusal."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("sync_api.")
             and r.endpoint not in EXPECTED_PUBLIC]
    assert len(rules) >= 3
    for rule in rules:
        for method in _methods(rule):
            for headers in ({}, {"X-Kepai-Protocol": "1"},
                            {"X-Kepai-Protocol": "1", "Authorization": "Bearer kp1_forged"}):
                response = client.open(_url(rule), method=method, headers=headers)
                assert response.status_code in (401, 426), (rule.rule, headers)


def test_every_other_route_sends_anonymous_users_to_login(app, client):
    checked, wrong = 0, []
    for rule in _rules(app):
        for method in _methods(rule):
            url = _url(rule)
            response = client.open(url, method=method)
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.startswith("/login"):
                wrong.append((method, url, response.status_code, location))
            checked += 1
    assert not wrong, wrong
    assert checked > 25  # every area's routes, GET and POST


def test_htmx_requests_get_hx_redirect_to_login(app, client):
    wrong = []
    for rule in _rules(app):
        for method in _methods(rule):
            url = _url(rule)
            response = client.open(url, method=method, headers={"HX-Request": "true"})
            target = response.headers.get("HX-Redirect", "")
            if response.status_code != 200 or not target.startswith("/login?next=") \
                    or "Location" in response.headers:
                wrong.append((method, url, response.status_code, target))
    assert not wrong, wrong


def test_login_remembers_where_the_user_was_going(client, app):
    response = client.get("/commissioners/?q=王")
    assert response.headers["Location"].startswith("/login?next=")
    response = client.post(response.headers["Location"],
                           data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/commissioners/?q=王"


def test_public_endpoints_answer_without_login(client):
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/css/kepai.css").status_code == 200
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def _token(client, path="/login") -> str:
    """The CSRF token of the form on the page (the hidden csrf_token input)."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                     page).group(1)


def test_csrf_enforced_on_forms(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "<html" in body and 'lang="zh-CN"' in body and "error-page" in body
    assert client.get("/").status_code == 302  # not logged in

    token = _token(client)
    response = client.post("/login", data={"username": "staff", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"

    # a logged-in form post without the token is refused and writes nothing
    data = {"name": "王建国", "kind": "individual", "level": "county", "status": "recognised"}
    assert client.post("/commissioners/new", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == 0

    # htmx sends the token from <meta name="csrf-token"> as the X-CSRFToken header
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                     client.get("/").get_data(as_text=True)).group(1)
    response = client.post("/commissioners/new", data=data,
                           headers={"HX-Request": "true", "X-CSRFToken": meta})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == 1
    response = client.post("/logout", headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_session_cookie_httponly_samesite_not_secure(client):
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # a station's Wi-Fi has no TLS: login must still work


@pytest.mark.parametrize("user, path", [(None, "/login"), ("staff", "/"), (None, "/no-such-page")])
def test_security_headers(client, login, user, path):
    if user:
        login(user)
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # nothing from elsewhere


@pytest.mark.parametrize("path", ["/", "/commissioners/", "/commissioners/new", "/users", "/password"])
def test_pages_load_nothing_from_outside(login, path):
    body = login("admin").get(path).get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', body)


def test_reviewer_cannot_create_commissioners(app, login):
    client = login("reviewer")
    assert client.get("/commissioners/new").status_code == 403
    response = client.post("/commissioners/new", data={"name": "王建国", "kind": "individual",
                                                        "level": "county", "status": "recognised"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == 0
    assert "New commissioner" not in client.get("/commissioners/").get_data(as_text=True)


@pytest.mark.parametrize("username", ["staff", "reviewer"])
def test_only_admins_see_users(login, client, username):
    login(username)
    assert client.get("/users").status_code == 403
    assert client.get("/users/new").status_code == 403
    assert client.post("/users/new", data={"username": "evil", "role": "station_admin",
                                           "password": "x" * 10,
                                           "confirm": "x" * 10}).status_code == 403
    assert 'href="/users"' not in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login("admin")
    assert client.get("/users").status_code == 200
    assert 'href="/users"' in client.get("/").get_data(as_text=True)


def test_station_admin_assigns_only_station_roles(app, login):
    client = login("admin")
    form = client.get("/users/new").get_data(as_text=True)
    assert 'value="station_staff"' in form and 'value="league_admin"' not in form
    for role in ("league_admin", "league_reviewer", "region_admin"):
        response = client.post("/users/new", data={
            "username": "upstart", "role": role, "password": PASSWORD, "confirm": PASSWORD,
            "active": "y"})
        assert response.status_code == 422, role
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "upstart")) is None
        reviewer = db.session.scalar(select(User).where(User.username == "reviewer"))
        staff = db.session.scalar(select(User).where(User.username == "staff"))
    # an account holding a role the admin cannot give is not theirs to edit
    assert client.get(f"/users/{reviewer.id}").status_code == 404
    response = client.post(f"/users/{staff.id}", data={"role": "league_admin", "active": "y"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, staff.id).role == "station_staff"


def test_users_of_another_node_are_not_shown(app, login):
    from app.auth.services import create_user
    with app.app_context():
        other = create_user(username="elsewhere", password=PASSWORD, role="station_staff",
                            node_code="150122-01")
        other_id = other.id
    client = login("admin")
    assert "elsewhere" not in client.get("/users").get_data(as_text=True)
    assert client.get(f"/users/{other_id}").status_code == 404
