"""`flask seed-demo` makes a usable demo station once."""
import pytest
from sqlalchemy import func, select

from app import create_app
from app.core.extensions import db
from app.models import Commissioner, OutboxEntry, ServiceTarget, User


@pytest.fixture
def empty_app(tmp_path, monkeypatch):
    monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path))
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.sqlite3"})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_seed_demo_makes_station_and_accounts(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        users = dict(db.session.execute(select(User.username, User.role)).all())
        assert users == {"demo-admin": "station_admin", "demo-staff": "station_staff",
                         "demo-commissioner": "commissioner"}
        linked = db.session.scalar(select(User).where(User.username == "demo-commissioner"))
        assert linked.commissioner is not None
        assert db.session.scalar(select(func.count()).select_from(Commissioner)) == 24
        assert db.session.scalar(select(func.count()).select_from(ServiceTarget)) == 80
        assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) > 100
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "not added" in again.output
    client = empty_app.test_client()
    response = client.post("/login", data={"username": "demo-staff", "password": "kepai-demo-1"})
    assert response.status_code == 302
