"""Logging in and out, throttling, changing one's password, and the users page."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import services
from app.core.extensions import db
from app.models import Commissioner, LoginAttempt, User
from tests.factories import count
from tests.settings import PASSWORD


def _user(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def _post_login(client, username, password, address="127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_login_and_logout(app, client):
    response = _post_login(client, "Staff ", PASSWORD)  # names are trimmed, case-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 302  # already logged in
    assert _user(app, "staff").last_login_at is not None
    assert client.get("/logout").status_code == 405  # logging out is a POST
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username,password", [("staff", "wrong-password"),
                                               ("nobody", PASSWORD), ("", ""), ("staff", "")])
def test_bad_login_is_422_with_a_message(client, username, password):
    response = _post_login(client, username, password)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    if username and password:
        assert "用户名或密码错误" in body
    assert client.get("/").status_code == 302


def test_unknown_user_costs_a_hash_check_too(client, monkeypatch):
    """An unknown name is not answered faster than a wrong password (no name probing)."""
    calls = []
    real = services.password_matches
    monkeypatch.setattr(services, "password_matches",
                        lambda user, password: calls.append(user.password_hash) or
                        real(user, password))
    _post_login(client, "nobody", PASSWORD)
    assert len(calls) == 1 and calls[0].startswith("$argon2")


def test_inactive_user_is_refused(app, client):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "staff"))
        user.active = False
        db.session.commit()
    response = _post_login(client, "staff", PASSWORD)
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_deactivated_user_is_logged_out_at_the_next_request(app, login):
    client = login("staff")
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "staff")).active = False
        db.session.commit()
    assert client.get("/").status_code == 302


@pytest.fixture
def sleeps(app, monkeypatch):
    """The delays the throttle asked for (time.sleep is replaced: tests stay fast)."""
    app.config["LOGIN_SLOW_SECONDS"] = 1.0
    calls = []
    monkeypatch.setattr(services.time, "sleep", calls.append)
    return calls


def test_failures_slow_down_then_lock_even_the_right_password(app, client, sleeps):
    assert (app.config["LOGIN_SLOW_AFTER"], app.config["LOGIN_LOCK_AFTER"]) == (3, 5)
    for _ in range(5):
        assert _post_login(client, "staff", "wrong-password").status_code == 422
    assert sleeps == [1.0, 2.0]  # the 4th and 5th answers were slowed, more each time
    response = _post_login(client, "staff", PASSWORD)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "登录失败次数过多" in body and "15 分钟" in body
    assert client.get("/").status_code == 302
    assert sleeps == [1.0, 2.0]  # a refused attempt is not even checked


def test_lock_counts_per_user_name_across_addresses(app, client, sleeps):
    for n in range(5):
        _post_login(client, "staff", "wrong-password", address=f"192.0.2.{n}")
    response = _post_login(client, "staff", PASSWORD, address="192.0.2.99")
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert _post_login(client, "admin", PASSWORD, address="192.0.2.99").status_code == 302


def _browser(app):
    """A browser that has opened the login page, and so has its device cookie."""
    browser = app.test_client()
    assert browser.get("/login").status_code == 200
    assert browser.get_cookie(services.DEVICE_COOKIE) is not None
    return browser


def test_login_page_sets_a_lasting_device_cookie(app, client):
    def device_cookies():
        return [h for h in client.get("/login").headers.getlist("Set-Cookie")
                if h.startswith(services.DEVICE_COOKIE + "=")]

    [header] = device_cookies()
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Max-Age=31536000" in header
    assert device_cookies() == []  # kept, not renewed


def test_one_persons_typos_lock_only_their_account_on_a_shared_laptop(app, sleeps):
    laptop = _browser(app)
    for _ in range(5):
        assert _post_login(laptop, "staff", "wrong-password").status_code == 422
    assert "登录失败次数过多" in _post_login(laptop, "staff", PASSWORD).get_data(as_text=True)
    assert _post_login(laptop, "admin", PASSWORD).status_code == 302


def test_lock_counts_per_device_across_user_names(app, sleeps):
    laptop = _browser(app)
    assert app.config["LOGIN_DEVICE_LOCK_AFTER"] == 10
    for n in range(10):
        assert _post_login(laptop, f"guess{n}", "wrong-password").status_code == 422
    assert sleeps == [1.0, 2.0]  # the device's 9th and 10th answers were slowed
    response = _post_login(laptop, "staff", PASSWORD)
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert _post_login(_browser(app), "staff", PASSWORD).status_code == 302  # another device


def test_attempts_without_the_cookie_count_per_address(app, sleeps):
    bare = app.test_client(use_cookies=False)
    for n in range(10):
        _post_login(bare, f"guess{n}", "wrong-password", address="192.0.2.7")
    assert "登录失败次数过多" in _post_login(bare, "staff", PASSWORD, address="192.0.2.7") \
        .get_data(as_text=True)
    assert _post_login(bare, "staff", PASSWORD, address="192.0.2.8").status_code == 302
    assert _post_login(_browser(app), "admin", PASSWORD, address="192.0.2.7").status_code == 302


def test_a_guesser_renewing_the_cookie_is_stopped_by_the_address(app, sleeps):
    app.config["LOGIN_ADDRESS_LOCK_AFTER"] = 12
    for n in range(12):
        _post_login(_browser(app), f"guess{n}", "wrong-password", address="192.0.2.7")
    response = _post_login(_browser(app), "staff", PASSWORD, address="192.0.2.7")
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert _post_login(_browser(app), "staff", PASSWORD, address="192.0.2.8").status_code == 302


def test_old_failures_do_not_count(app, client, sleeps):
    window = timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"], seconds=1)
    with app.app_context():
        for _ in range(10):
            db.session.add(LoginAttempt(username="staff", address="127.0.0.1",
                                        succeeded=False, at=services.utcnow() - window))
        db.session.commit()
    assert _post_login(client, "staff", PASSWORD).status_code == 302
    assert sleeps == []


def test_lock_lifts_after_the_window(app, client, sleeps, monkeypatch):
    for _ in range(5):
        _post_login(client, "staff", "wrong-password")
    assert _post_login(client, "staff", PASSWORD).status_code == 422
    later = services.utcnow() + timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"], seconds=1)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    assert _post_login(client, "staff", PASSWORD).status_code == 302


@pytest.mark.parametrize("target,expected", [
    ("/commissioners/", "/commissioners/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example/", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirect_is_only_local(client, target, expected):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_language_next_is_only_local(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.headers["Location"] == "/"


def test_change_password(app, login):
    client = login("staff")
    assert client.get("/password").status_code == 200
    new = "another-pass-2"
    response = client.post("/password", data={"current": "wrong", "new": new, "confirm": new})
    assert response.status_code == 422
    assert "当前密码错误" in response.get_data(as_text=True)
    assert client.post("/password", data={"current": PASSWORD, "new": "short",
                                          "confirm": "short"}).status_code == 422
    assert client.post("/password", data={"current": PASSWORD, "new": new,
                                          "confirm": new + "x"}).status_code == 422
    assert services.password_matches(_user(app, "staff"), PASSWORD)
    response = client.post("/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    client.post("/logout")
    assert _post_login(client, "staff", PASSWORD).status_code == 422
    assert _post_login(client, "staff", new).status_code == 302


def _new_user(**changes):
    return {"username": "NewStaff", "display_name": "新同事", "role": "station_staff",
            "commissioner_id": "", "password": PASSWORD, "confirm": PASSWORD, "active": "y",
            **changes}


def test_users_page_creates_accounts(app, login, client):
    admin = login("admin")
    assert "staff" in admin.get("/users").get_data(as_text=True)
    response = admin.post("/users/new", data=_new_user())
    assert response.status_code == 302 and response.headers["Location"] == "/users"
    user = _user(app, "newstaff")
    assert user.role == "station_staff" and user.node_code == "150121-01"
    assert user.display_name == "新同事"
    admin.post("/logout")
    assert _post_login(client, "newstaff", PASSWORD).status_code == 302


@pytest.mark.parametrize("changes", [
    {"username": "Staff"},                                   # taken (any case)
    {"username": "ab"},                                      # too short
    {"username": "王 五"},                                   # not letters and digits
    {"password": "", "confirm": ""},                         # a new account needs one
    {"password": "short", "confirm": "short"},
    {"confirm": "different"},
    {"role": "commissioner"},                                # needs its commissioner
    {"role": "nonsense"},
])
def test_bad_new_account_is_422_and_writes_nothing(app, login, changes):
    before = count(app, User)
    response = login("admin").post("/users/new", data=_new_user(**changes))
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(app, User) == before


def test_commissioner_account_is_linked(app, login):
    with app.app_context():
        commissioner = Commissioner(name="王建国", owner_node="150121-01")
        db.session.add(commissioner)
        db.session.commit()
        cid = commissioner.id
    response = login("admin").post("/users/new", data=_new_user(
        username="wangjg", role="commissioner", commissioner_id=cid))
    assert response.status_code == 302
    assert _user(app, "wangjg").commissioner_id == cid


def test_edit_and_deactivate_an_account(app, login, client):
    staff = _user(app, "staff")
    admin = login("admin")
    page = admin.get(f"/users/{staff.id}").get_data(as_text=True)
    assert 'name="username"' not in page  # a user name does not change
    response = admin.post(f"/users/{staff.id}", data={
        "display_name": "老张", "role": "station_admin", "commissioner_id": ""})
    assert response.status_code == 302
    edited = _user(app, "staff")
    assert (edited.display_name, edited.role, edited.active) == ("老张", "station_admin", False)
    assert services.password_matches(edited, PASSWORD)  # empty password field: kept
    admin.post("/logout")
    assert _post_login(client, "staff", PASSWORD).status_code == 422
    assert admin.get("/users/99999").status_code == 302  # logged out: login first
    login("admin")
    assert client.get("/users/99999").status_code == 404


@pytest.mark.parametrize("data", [{"role": "station_admin"},  # active unchecked
                                  {"role": "station_staff", "active": "y"}])
def test_admin_cannot_deactivate_or_demote_themself(app, login, data):
    me = _user(app, "admin")
    client = login("admin")
    response = client.post(f"/users/{me.id}", data=data)
    assert response.status_code == 422
    assert "不能取消自己的管理员权限" in response.get_data(as_text=True)
    still = _user(app, "admin")
    assert still.active and still.role == "station_admin"


def test_admin_resets_a_password(app, login):
    staff = _user(app, "staff")
    response = login("admin").post(f"/users/{staff.id}", data={
        "role": "station_staff", "active": "y", "password": "reset-pass-3",
        "confirm": "reset-pass-3"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert services.password_matches(_user(app, "staff"), "reset-pass-3")


# The password rule: at least 10 characters, not one of the common passwords.

WEAK = [("123456789", "密码太短：至少需要 10 个字符"),        # 9 characters
        ("password", "密码太短"),
        ("1234567890", "最常用的密码之一"),
        ("Password123", "最常用的密码之一"),               # the list is compared in any case
        ("WOAINI1314", "最常用的密码之一")]                # and holds China's common ones


def test_password_rule():
    assert services.MIN_PASSWORD_LENGTH == 10
    assert len(services.common_passwords()) > 10_000
    assert {"123456", "password", "qwertyuiop", "woaini1314"} <= services.common_passwords()


@pytest.mark.parametrize("password", [PASSWORD, "wheat-field-2025", "十个汉字也是可以的密码呢", "x" * 200])
def test_password_rule_accepts(password):
    assert services.password_problem(password) is None


@pytest.mark.parametrize("weak,why", WEAK)
def test_weak_password_refused_on_the_users_page(app, login, weak, why):
    before = count(app, User)
    response = login("admin").post("/users/new", data=_new_user(password=weak, confirm=weak))
    assert response.status_code == 422
    assert why in response.get_data(as_text=True)
    assert count(app, User) == before


@pytest.mark.parametrize("weak,why", WEAK)
def test_weak_password_refused_as_an_admins_reset(app, login, weak, why):
    staff = _user(app, "staff")
    response = login("admin").post(f"/users/{staff.id}", data={
        "role": "station_staff", "active": "y", "password": weak, "confirm": weak})
    assert response.status_code == 422 and why in response.get_data(as_text=True)
    assert services.password_matches(_user(app, "staff"), PASSWORD)


@pytest.mark.parametrize("weak,why", WEAK)
def test_weak_password_refused_as_ones_own_change(app, login, weak, why):
    client = login("staff")
    response = client.post("/password", data={"current": PASSWORD, "new": weak, "confirm": weak})
    assert response.status_code == 422 and why in response.get_data(as_text=True)
    assert services.password_matches(_user(app, "staff"), PASSWORD)


def test_weak_password_reason_in_english_too(app, login):
    client = login("staff", lang="en")
    response = client.post("/password", data={"current": PASSWORD, "new": "qwertyuiop",
                                              "confirm": "qwertyuiop"})
    assert response.status_code == 422
    assert "one of the most common passwords" in response.get_data(as_text=True)


def test_services_refuse_a_weak_password_whoever_calls_them(app):
    with app.test_request_context():
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        with pytest.raises(services.WeakPassword):
            services.change_password(staff, "qwertyuiop")
        with pytest.raises(services.WeakPassword):
            services.create_user(username="weak", password="short", role="station_staff",
                                 node_code="150121-01")
        with pytest.raises(services.WeakPassword):
            services.update_user(staff, display_name="", role="station_staff",
                                 commissioner_id=None, active=True, new_password="1234567890")
        db.session.rollback()
    assert services.password_matches(_user(app, "staff"), PASSWORD)


def test_passwords_are_hashed_one_at_a_time(monkeypatch):
    """Argon2 takes 64 MiB for each password it checks or hashes: logins at once take
    turns (services.HASHES_AT_ONCE), so a station's memory does not grow with them."""
    import threading
    import time

    from app.models import User

    running, most = [0], [0]
    lock = threading.Lock()

    def slow(*_args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return True

    class Hasher:  # what argon2's does, slowly, counting how many at once
        verify = hash = staticmethod(slow)

    monkeypatch.setattr(services, "hasher", Hasher())
    user = User(password_hash="$argon2id$whatever")
    threads = [threading.Thread(target=services.password_matches, args=(user, PASSWORD))
               for _ in range(4)] + [threading.Thread(target=services.hash_password, args=(PASSWORD,))
                                     for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most[0] == services.HASHES_AT_ONCE == 1
