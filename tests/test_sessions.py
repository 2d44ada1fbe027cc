"""Sessions end: a copied session cookie or remember-me cookie stops working after
logout, a password change, the account's disabling and an admin's "end sessions"."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.auth import services
from app.core.extensions import db
from app.models import AuditEntry, User
from tests.settings import PASSWORD, TEST_CONFIG

REMEMBER = "remember_token"


def _user(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def _logged_in(app, username="staff", remember=False):
    client = app.test_client()
    data = {"username": username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def _copy(app, client, *names):
    """Another browser holding copies of ``client``'s cookies (an attacker's, say)."""
    other = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        other.set_cookie(name, cookie.value)
    return other


def _works(client) -> bool:
    return client.get("/").status_code == 200


def test_copied_session_and_remember_cookies_die_at_logout(app):
    client = _logged_in(app, remember=True)
    session_copy = _copy(app, client, "session")
    remember_copy = _copy(app, client, REMEMBER)
    assert _works(session_copy) and _works(remember_copy)
    client.post("/logout")
    assert not _works(client)
    assert not _works(session_copy)
    assert not _works(remember_copy)
    assert _works(_logged_in(app))  # logging in again works


def test_logout_on_one_device_ends_the_others(app):
    phone, laptop = _logged_in(app), _logged_in(app, remember=True)
    phone.post("/logout")
    assert not _works(laptop)


def test_password_change_ends_other_sessions_but_keeps_this_one(app):
    client = _logged_in(app, remember=True)
    session_copy = _copy(app, client, "session")
    remember_copy = _copy(app, client, REMEMBER)
    new = "another-pass-2"
    response = client.post("/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert _works(client)
    assert not _works(session_copy) and not _works(remember_copy)
    # the remember-me cookie this browser got anew works on its own
    assert _works(_copy(app, client, REMEMBER))


def test_disabling_an_account_ends_its_sessions(app):
    staff = _logged_in(app, remember=True)
    remember_copy = _copy(app, staff, REMEMBER)
    admin = _logged_in(app, "admin")
    user = _user(app, "staff")
    response = admin.post(f"/users/{user.id}", data={
        "display_name": "", "role": "station_staff", "commissioner_id": ""})  # not active
    assert response.status_code == 302
    assert not _works(staff) and not _works(remember_copy)
    # enabled again: the old cookies stay dead
    admin.post(f"/users/{user.id}", data={"role": "station_staff", "active": "y"})
    assert _user(app, "staff").active
    assert not _works(staff) and not _works(remember_copy)


def test_an_admin_resetting_a_password_ends_the_users_sessions(app):
    staff = _logged_in(app)
    admin = _logged_in(app, "admin")
    user = _user(app, "staff")
    admin.post(f"/users/{user.id}", data={"role": "station_staff", "active": "y",
                                          "password": "reset-pass-3", "confirm": "reset-pass-3"})
    assert not _works(staff)
    assert _works(admin)


def test_an_admins_own_new_password_keeps_their_session(app):
    admin = _logged_in(app, "admin")
    other = _logged_in(app, "admin")
    me = _user(app, "admin")
    response = admin.post(f"/users/{me.id}", data={
        "role": "station_admin", "active": "y", "password": "reset-pass-3",
        "confirm": "reset-pass-3"})
    assert response.status_code == 302
    assert _works(admin) and not _works(other)


def test_users_page_ends_a_users_sessions(app):
    staff = _logged_in(app, remember=True)
    remember_copy = _copy(app, staff, REMEMBER)
    admin = _logged_in(app, "admin")
    user = _user(app, "staff")
    page = admin.get("/users").get_data(as_text=True)
    assert f"/users/{user.id}/end-sessions" in page
    assert admin.get(f"/users/{user.id}/end-sessions").status_code == 405  # a POST only
    response = admin.post(f"/users/{user.id}/end-sessions")
    assert response.status_code == 302 and response.headers["Location"] == "/users"
    assert "已结束" in admin.get("/users").get_data(as_text=True)
    assert not _works(staff) and not _works(remember_copy)
    assert _works(admin)
    assert _works(_logged_in(app))  # the account itself still works
    with app.app_context():  # a session generation is not an audited change
        assert not db.session.scalars(select(AuditEntry).where(
            AuditEntry.record_type == "user", AuditEntry.action == "update")).all()


def test_ending_ones_own_sessions_keeps_the_current_one(app):
    admin = _logged_in(app, "admin")
    elsewhere = _logged_in(app, "admin")
    me = _user(app, "admin")
    assert admin.post(f"/users/{me.id}/end-sessions").status_code == 302
    assert _works(admin) and not _works(elsewhere)


def test_only_admins_end_sessions_and_only_of_their_accounts(app):
    staff = _logged_in(app)
    admin_id = _user(app, "admin").id
    assert staff.post(f"/users/{admin_id}/end-sessions").status_code == 403
    admin = _logged_in(app, "admin")
    reviewer = _user(app, "reviewer")  # a league role: not the station admin's to manage
    assert admin.post(f"/users/{reviewer.id}/end-sessions").status_code == 404
    assert admin.post("/users/99999/end-sessions").status_code == 404


def test_users_page_action_needs_a_csrf_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        admin = _logged_in_with_token(app, "admin")
        user = _user(app, "staff")
        assert admin.post(f"/users/{user.id}/end-sessions").status_code == 400
        assert _user(app, "staff").session_generation == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _logged_in_with_token(app, username):
    import re
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def test_remember_me_lasts_thirty_days_at_most(app, tmp_path, monkeypatch):
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    client = _logged_in(app, remember=True)
    expires = client.get_cookie(REMEMBER).expires
    left = expires - datetime.now(UTC)
    assert timedelta(days=29) < left <= timedelta(days=30)
    monkeypatch.setenv("KEPAI_REMEMBER_COOKIE_DURATION", str(365 * 86400))
    longer = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert longer.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)


@pytest.mark.parametrize("bad", ["{id}", "{id}:1", "{id}:x", ":0", "", "abc", "{id}:-1", "99999:0"])
def test_malformed_or_wrong_generation_session_ids_load_nobody(app, bad):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "staff"))
        assert services.session_user(user.get_id()) is user
        assert services.session_user(bad.format(id=user.id)) is None


def test_ended_sessions_ids_load_nobody(app):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "staff"))
        assert services.session_user(user.get_id()) is user
        services.end_sessions(user)
        assert services.session_user(f"{user.id}:0") is None
        assert services.session_user(user.get_id()) is user
