"""What the suite's modules share: the seeded station's code and password, the test
configuration, and the databases every test runs on (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set). A plain module: conftest.py, the factories and the tests import
it; no test module imports another."""
import os

STATION = "150121-01"
PASSWORD = "secret-pass-1"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
               "LOGIN_SLOW_SECONDS": 0.0}


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the one
    TEST_DATABASE_URL names (made here if missing), so workers never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    import psycopg
    from sqlalchemy.engine import make_url
    target = make_url(url)
    name = f"{target.database}_{worker}"
    plain = target.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    worker_url = target.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_URL"] = worker_url
    return worker_url


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))

DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
