"""Configuration layers: defaults, instance/config.py, KEPAI_* environment, test config;
the instance folder, DATABASE_URL and the generated secret key."""
import os
import stat

import pytest

from app import create_app
from app.core.config import SECRET_FILE


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh instance folder chosen by KEPAI_INSTANCE, and no stray KEPAI_* settings."""
    for key in list(os.environ):
        if key.startswith("KEPAI_") or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    folder = tmp_path / "node"
    monkeypatch.setenv("KEPAI_INSTANCE", str(folder))
    return folder


def test_defaults(instance):
    app = create_app()
    assert app.instance_path == str(instance)
    assert instance.is_dir()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'kepai.sqlite3'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    assert app.config["LOGIN_LOCK_AFTER"] == 5
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] == 15


def test_layers_override_in_order(instance, monkeypatch):
    instance.mkdir()
    (instance / "config.py").write_text(
        'PAGE_SIZE = 10\nLOGIN_LOCK_AFTER = 7\nSITE_NOTE = "from file"\n'
        'LANGUAGES = ["zh_CN"]\n', encoding="utf-8")
    assert create_app().config["PAGE_SIZE"] == 10  # the file beats the defaults

    monkeypatch.setenv("KEPAI_PAGE_SIZE", "40")                  # JSON number
    monkeypatch.setenv("KEPAI_SESSION_COOKIE_SECURE", "true")    # JSON boolean
    monkeypatch.setenv("KEPAI_LANGUAGES", '["zh_CN", "en"]')     # JSON list
    monkeypatch.setenv("KEPAI_SITE_NOTE", "plain text")          # not JSON: kept as text
    app = create_app({"LOGIN_LOCK_AFTER": 9})
    assert app.config["PAGE_SIZE"] == 40
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["LANGUAGES"] == ["zh_CN", "en"]
    assert app.config["SITE_NOTE"] == "plain text"
    assert app.config["LOGIN_LOCK_AFTER"] == 9  # the test config beats the file
    assert "INSTANCE" not in app.config

    app = create_app({"PAGE_SIZE": 5})
    assert app.config["PAGE_SIZE"] == 5  # the test config beats the environment


def test_secure_cookie_setting_reaches_the_cookie(instance, monkeypatch):
    monkeypatch.setenv("KEPAI_SESSION_COOKIE_SECURE", "true")
    app = create_app({"TESTING": True})

    @app.get("/_set_session")
    def _set_session():
        from flask import session
        session["x"] = 1
        return "ok"
    from app.web.wall import PUBLIC_ENDPOINTS
    monkeypatch.setattr("app.web.wall.PUBLIC_ENDPOINTS", PUBLIC_ENDPOINTS | {"_set_session"})
    cookie = app.test_client().get("/_set_session").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_database_url_overrides(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://kepai@localhost/somewhere")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://kepai@localhost/somewhere"
    assert "connect_args" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_instance_folders_are_separate_nodes(tmp_path, monkeypatch, instance):
    first = create_app()
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / "other"))
    second = create_app()
    assert first.instance_path != second.instance_path
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


def test_secret_key_generated_once_private_and_reused(instance):
    key = create_app().config["SECRET_KEY"]
    path = instance / SECRET_FILE
    assert path.read_text(encoding="ascii") == key
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert create_app().config["SECRET_KEY"] == key


def test_configured_secret_key_is_not_written(instance, monkeypatch):
    monkeypatch.setenv("KEPAI_SECRET_KEY", "from-the-environment")
    assert create_app().config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / SECRET_FILE).exists()


def test_a_station_database_waits_for_the_disk_unless_told_otherwise(monkeypatch, tmp_path):
    """synchronous=FULL (2) on every connection; the suite's OFF is the suite's alone."""
    from sqlalchemy import create_engine

    import app.core.database  # noqa: F401  (the connection settings)
    monkeypatch.delenv("KEPAI_SQLITE_SYNCHRONOUS", raising=False)
    engine = create_engine(f"sqlite:///{tmp_path}/station.sqlite3")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
