"""Passwords, login throttling, user accounts and the sessions that end with them.

A new password (an account made on the users page or by `flask users create`, a reset by
an administrator, a user's own change) has at least ``MIN_PASSWORD_LENGTH`` characters
and is not one of the most common passwords (``app/data/common-passwords*.txt``, compared
without regard to case): ``password_problem`` says why one is refused, and the functions
that set a password refuse it too (``WeakPassword``).

Sessions end by generation: a user's ``session_generation`` is part of the id that the
session and the remember-me cookie carry (``User.get_id``), and ``session_user`` loads
a user only while the two agree. Logout, a new password, disabling the account and an
admin's "end sessions" bump it (``end_sessions``), which ends every session and
remember-me cookie of the account at once, wherever they were copied to."""
import functools
import os
import re
import secrets
import threading
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import current_app
from sqlalchemy import func, select

from app.core.extensions import db
from app.core.i18n import gettext as _
from app.models import LoginAttempt, User, utcnow

hasher = PasswordHasher()
# Argon2 takes 64 MiB (its memory cost) for each password it hashes or checks, and gives
# it back after: four logins at once, as at the start of a working day, took the station
# from 100 to 350 MiB of memory of its own. One at a time keeps it near 160 MiB; a
# login waits the tenth of a second another one takes.
HASHES_AT_ONCE = 1
_hashing = threading.BoundedSemaphore(HASHES_AT_ONCE)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
COMMON_PASSWORD_FILES = ("common-passwords.txt", "common-passwords-cn.txt")
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,40}$"  # the users page and `flask users create` alike


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown user's password against (made when first needed: making
    it costs as much as a login, and every `flask` command would pay it on start)."""
    return hasher.hash("no such user: a hash to check against")


class WeakPassword(ValueError):
    """A password that may not be set; the message says why, for the user."""


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common passwords shipped with the program, in lower case, read once."""
    found = set()
    for name in COMMON_PASSWORD_FILES:
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            found.update(line.strip().lower() for line in f if line.strip())
    return frozenset(found)


def password_problem(password: str | None) -> str | None:
    """Why ``password`` may not be set, in the user's language, or None when it may."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password is too short: it needs at least %(n)s characters.",
                 n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password is too long: at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
    if password.lower() in common_passwords():
        return _("This password is one of the most common passwords, which are guessed "
                 "first. Choose another one.")
    return None


def _checked(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise WeakPassword(problem)
    return password


def hash_password(password: str) -> str:
    with _hashing:
        return hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        with _hashing:
            return hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


# Failed logins are counted three ways, each with its own limit, so that one person's
# typos on the shared office laptop lock only their own account while a guesser is still
# stopped: per account (LOGIN_LOCK_AFTER, from any device), per device (the browser's
# DEVICE_COOKIE, set by the login page; LOGIN_DEVICE_LOCK_AFTER, over any accounts) and
# per address (LOGIN_ADDRESS_LOCK_AFTER: a guesser who drops or renews the cookie).
# Attempts sent without the cookie count as one device per address. Each count slows the
# answers for its last LOGIN_LOCK_AFTER - LOGIN_SLOW_AFTER failures before its lock.
DEVICE_COOKIE = "kepai_device"
DEVICE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_device_token() -> str:
    return secrets.token_urlsafe(24)


def device_key(token: str | None, address: str) -> str:
    """What an attempt counts against as its device: the cookie's token when it is one,
    else the address (attempts without a cookie share one device per address)."""
    return token if token and DEVICE_TOKEN.fullmatch(token) else f"@{address}"[:64]


def _failures(where, since) -> tuple[int, object]:
    row = db.session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False), where)).one()
    return row[0], row[1]


def recent_failures(username: str, device: str, address: str) -> list[tuple[int, object, int]]:
    """(failures in the window, the latest, the limit) per account, device and address."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    return [(*_failures(LoginAttempt.username == username.lower(), since), config["LOGIN_LOCK_AFTER"]),
            (*_failures(LoginAttempt.device == device, since), config["LOGIN_DEVICE_LOCK_AFTER"]),
            (*_failures(LoginAttempt.address == address, since), config["LOGIN_ADDRESS_LOCK_AFTER"])]


def minutes_locked(username: str, device: str, address: str) -> int:
    """How many minutes logins stay refused for this account, device or address (0: not
    locked)."""
    window = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    minutes = 0
    for failures, latest, limit in recent_failures(username, device, address):
        if failures >= limit:
            remaining = latest + window - utcnow()
            minutes = max(minutes, 1, int(remaining.total_seconds() // 60) + 1)
    return minutes


def slow_down(username: str, device: str, address: str) -> None:
    """After a few failures, answer each attempt more slowly, to make guessing costly."""
    config = current_app.config
    margin = config["LOGIN_LOCK_AFTER"] - config["LOGIN_SLOW_AFTER"]
    extra = max(failures - (limit - margin) + 1
                for failures, _latest, limit in recent_failures(username, device, address))
    if extra > 0:
        time.sleep(config["LOGIN_SLOW_SECONDS"] * extra)


def authenticate(username: str, password: str, address: str, device: str = "") -> User | None:
    """The active user with this name and password, or None; the attempt is recorded."""
    username = username.strip().lower()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:  # as slow as a wrong password, so names cannot be probed
        password_matches(User(password_hash=_dummy_hash()), password)
    ok = bool(user and user.active and password_matches(user, password))
    db.session.add(LoginAttempt(username=username, address=address, device=device or "",
                                succeeded=ok))
    if ok:
        user.last_login_at = utcnow()
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
    db.session.commit()
    return user if ok else None


def create_user(*, username: str, password: str, role: str, node_code: str,
                display_name: str = "", commissioner_id: str | None = None) -> User:
    user = User(username=username.strip().lower(), display_name=display_name,
                password_hash=hash_password(_checked(password)), role=role, node_code=node_code,
                commissioner_id=commissioner_id or None, password_changed_at=utcnow())
    db.session.add(user)
    db.session.commit()
    return user


def update_user(user: User, *, display_name: str, role: str, commissioner_id: str | None,
                active: bool, new_password: str = "") -> User:
    """Save an admin's changes; a new password or a disabled account ends the user's
    sessions."""
    if (user.active and not active) or new_password:
        _bump_generation(user)
    user.display_name = display_name
    user.role = role
    user.commissioner_id = commissioner_id or None
    user.active = active
    if new_password:
        user.password_hash = hash_password(_checked(new_password))
        user.password_changed_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, new_password: str) -> None:
    """A user's own new password; every session of theirs ends (the caller logs the
    current one in again)."""
    _bump_generation(user)
    user.password_hash = hash_password(_checked(new_password))
    user.password_changed_at = utcnow()
    db.session.commit()


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of ``user`` (logout, an admin's action)."""
    _bump_generation(user)
    db.session.commit()


def _bump_generation(user: User) -> None:
    # In SQL, so that two bumps at once both count.
    user.session_generation = User.session_generation + 1


def session_user(session_id: str) -> User | None:
    """The user a session or remember-me cookie names (``<id>:<generation>``, see
    ``User.get_id``), or None when the account is gone or disabled or the generation has
    moved on since the session began (its sessions were ended)."""
    user_id, _, generation = (session_id or "").partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def username_taken(username: str) -> bool:
    return db.session.scalar(
        select(func.count()).where(User.username == username.strip().lower())) > 0
