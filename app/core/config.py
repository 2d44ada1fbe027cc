"""Configuration, in layers: defaults here, then ``instance/config.py``, then ``KEPAI_*``
environment variables (and ``DATABASE_URL``), then the test config a test passes in.

The secret key is generated into the instance folder on first run and never committed.
"""
import json
import os
import secrets
from datetime import timedelta

DEFAULTS = {
    "SQLALCHEMY_DATABASE_URI": None,  # filled in: instance/kepai.sqlite3
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # True only when served over HTTPS
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),  # "stay logged in" at most this long
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session: phones stay open all day
    "WTF_CSRF_HEADERS": ["X-CSRFToken"],
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    "IMAGE_WORKERS": 2,          # images decoded at once; more uploads wait (app/core/attachments.py)
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh_CN", "en"],
    "PAGE_SIZE": 25,
    "ANSWER_CACHE": True,        # remember list counts and drop-downs until data changes (app/core/cache.py)
    "LOGIN_SLOW_AFTER": 3,       # failures in the window before each answer is slowed
    "LOGIN_LOCK_AFTER": 5,       # failures in the window before an account's logins are refused
    "LOGIN_DEVICE_LOCK_AFTER": 10,   # failures from one device, any accounts, before it is refused
    "LOGIN_ADDRESS_LOCK_AFTER": 30,  # the same from one address (a guesser dropping the cookie)
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_SLOW_SECONDS": 1.0,
    "SYNC_AUTO": True,           # a running node syncs by itself when it has an upstream
    "SYNC_INTERVAL": 60,         # seconds between syncs while all is well
    "SYNC_MAX_BACKOFF": 600,     # longest wait between attempts while the upstream is away
    "SYNC_TIMEOUT": 30,          # seconds to wait for the upstream's answer
    "SYNC_BATCH_OPS": None,      # operations per push request; None: 500 (app/sync/wire.py)
    "BACKUP_DIR": None,          # where backups go; None: instance/backups (app/backup)
    "BACKUP_KEEP": 14,           # how many backups are kept (older ones are removed)
    "BACKUP_COPY_TO": None,      # a folder (a USB stick) each backup is copied to as well
    "BACKUP_DAILY": True,        # the running node makes a backup by itself once a day
    "BACKUP_EVERY_HOURS": 24,    # ... when none was made in this many hours
}

SECRET_FILE = "secret_key"
LONGEST_REMEMBER = timedelta(days=30)  # no setting makes "stay logged in" last longer


def _parse(value: str):
    """Read an environment value as JSON when it is JSON (true, 5, ["a"]), else as text."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def load_config(app, test_config=None):
    app.config.from_mapping(DEFAULTS)
    # An absolute path: Flask resolves a relative one against the package (app/core/config.py).
    app.config.from_pyfile(os.path.join(app.instance_path, "config.py"), silent=True)
    for key, value in os.environ.items():
        if key.startswith("KEPAI_") and key != "KEPAI_INSTANCE":
            app.config[key.removeprefix("KEPAI_")] = _parse(value)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)
    remember = app.config["REMEMBER_COOKIE_DURATION"]
    if not isinstance(remember, timedelta):  # seconds, from an environment variable
        remember = timedelta(seconds=float(remember))
    app.config["REMEMBER_COOKIE_DURATION"] = min(remember, LONGEST_REMEMBER)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = os.path.join(app.instance_path, "kepai.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"timeout": 15, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _instance_secret(instance_path: str) -> str:
    """The node's secret key: read from the instance folder, made there on first run."""
    path = os.path.join(instance_path, SECRET_FILE)
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _instance_secret(instance_path)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
