"""Passwords, login throttling and user accounts."""
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import current_app
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import LoginAttempt, User, utcnow

hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,40}$"  # the users page and `flask users create` alike
_DUMMY_HASH = hasher.hash("no such user: a hash to check against")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def recent_failures(username: str, address: str) -> tuple[int, object]:
    """Failures in the window for this user name or this address, and the latest one."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    row = db.session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False),
            or_(LoginAttempt.username == username.lower(), LoginAttempt.address == address))
    ).one()
    return row[0], row[1]


def minutes_locked(username: str, address: str) -> int:
    """How many minutes logins stay refused for this name or address (0: not locked)."""
    failures, latest = recent_failures(username, address)
    if failures < current_app.config["LOGIN_LOCK_AFTER"]:
        return 0
    window = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    remaining = latest + window - utcnow()
    return max(1, int(remaining.total_seconds() // 60) + 1)


def slow_down(username: str, address: str) -> None:
    """After a few failures, answer each attempt more slowly, to make guessing costly."""
    failures, _ = recent_failures(username, address)
    extra = failures - current_app.config["LOGIN_SLOW_AFTER"] + 1
    if extra > 0:
        time.sleep(current_app.config["LOGIN_SLOW_SECONDS"] * extra)


def authenticate(username: str, password: str, address: str) -> User | None:
    """The active user with this name and password, or None; the attempt is recorded."""
    username = username.strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:  # as slow as a wrong password, so names cannot be probed
        password_matches(User(password_hash=_DUMMY_HASH), password)
    ok = bool(user and user.active and password_matches(user, password))
    db.session.add(LoginAttempt(username=username, address=address, succeeded=ok))
    if ok:
        user.last_login_at = utcnow()
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    db.session.commit()
    return user if ok else None


def create_user(*, username: str, password: str, role: str, node_code: str,
                display_name: str = "", commissioner_id: str | None = None) -> User:
    user = User(username=username.strip().lower(), display_name=display_name,
                password_hash=hash_password(password), role=role, node_code=node_code,
                commissioner_id=commissioner_id or None, password_changed_at=utcnow())
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user: User, *, display_name: str, role: str, commissioner_id: str | None,
                active: bool, new_password: str = "") -> User:
    user.display_name = display_name
    user.role = role
    user.commissioner_id = commissioner_id or None
    user.active = active
    if new_password:
        user.password_hash = hash_password(new_password)
        user.password_changed_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    db.session.commit()


def username_taken(username: str) -> bool:
    return db.session.scalar(
        select(func.count()).where(User.username == username.strip().lower())) > 0
