"""Backups and restores (app/backup): a backup taken during a burst of writes restores
whole, a restored demo station equals the original record by record, damaged backups
are refused, the last N are kept, everything is owner-only, the page is for station
admins only. On SQLite always; on PostgreSQL too when TEST_DATABASE_URL is set (the
restores go into fresh databases named kepai_bk_*)."""
import io
import os
import sqlite3
import stat
import threading
import time
import zipfile

import pytest
from flask import g
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.backup import services
from app.core.extensions import db
from app.core.records import create as create_record
from app.models import Commissioner
from tests.settings import PG_URL, STATION, TEST_CONFIG


def _dialect(app) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


@pytest.fixture
def fresh_app(app, tmp_path, monkeypatch, request):
    """Makes apps on new, empty instances (a new laptop, a new league database) of the
    same dialect as ``app``; PostgreSQL databases are dropped afterwards."""
    made, databases = [], []

    def make(name="restored"):
        monkeypatch.setenv("KEPAI_INSTANCE", str(tmp_path / name))
        if _dialect(app) == "sqlite":
            uri = f"sqlite:///{tmp_path / name}.sqlite3"
        else:
            from tests.node_processes import fresh_postgres, sibling_database
            database = sibling_database(PG_URL, f"bk_{name}")
            uri = fresh_postgres(PG_URL, database)
            databases.append(database)
        other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": uri})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    if databases:
        import psycopg
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"),
                             autocommit=True) as conn:
            for database in databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _backup(app, root) -> dict:
    with app.app_context():
        return services.make(str(root), trigger="test")


def _restore(other, path, *extra):
    return other.test_cli_runner().invoke(args=["restore", str(path), *extra])


def _tables(app) -> dict:
    """Every table's rows in primary-key order: what 'record by record' compares."""
    with app.app_context():
        found = {}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = [tuple(row) for row in rows]
        db.session.remove()
        return found


def test_backup_during_a_burst_of_writes_restores_every_acknowledged_write(
        app, tmp_path, fresh_app, monkeypatch):
    """A thread writes commissioners through the record service while the backup runs.
    The backup's snapshot is held while the thread writes five more: they are either in
    the copy or not, but the copy passes integrity_check, its counts equal the manifest,
    and every write acknowledged before the backup began is in the restored database."""
    acknowledged, stop = [], threading.Event()

    def writer():
        with app.app_context():
            g.actor = "test"
            n = 0
            while not stop.is_set():
                n += 1
                record = create_record(Commissioner(), {"name": f"写入{n}"}, owner_node=STATION)
                acknowledged.append(record.id)
            db.session.remove()

    counts = services._sqlite_counts if _dialect(app) == "sqlite" else services._pg_counts
    waited = []

    def counts_then_wait(connection):
        found = counts(connection)
        if not waited:  # the live database's snapshot is open: writes go on meanwhile
            mark, deadline = len(acknowledged), time.monotonic() + 30
            while len(acknowledged) < mark + 5 and thread.is_alive() and time.monotonic() < deadline:
                stop.wait(0.01)
            waited.append(len(acknowledged) - mark)
        return found

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 20:
            stop.wait(0.01)
        before = list(acknowledged)
        monkeypatch.setattr(services, "_sqlite_counts" if _dialect(app) == "sqlite" else "_pg_counts",
                            counts_then_wait)
        manifest = _backup(app, tmp_path / "backups")
        monkeypatch.setattr(services, "_sqlite_counts" if _dialect(app) == "sqlite" else "_pg_counts",
                            counts)
        during = len(acknowledged) - len(before)
    finally:
        stop.set()
        thread.join(30)
    assert waited and waited[0] >= 5 and during >= 5  # the node kept writing during the backup
    assert manifest["tables"]["commissioner"] >= len(before)

    other = fresh_app()
    result = _restore(other, manifest["path"])
    assert result.exit_code == 0, result.output
    with other.app_context():
        if _dialect(other) == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        restored = set(db.session.scalars(select(Commissioner.id)))
        assert set(before) <= restored
        assert len(restored) == manifest["tables"]["commissioner"]
        db.session.remove()


def test_a_restored_demo_station_equals_the_original_record_by_record(app, tmp_path, fresh_app):
    from app.core import files
    from app.demo import seed
    with app.app_context():
        g.actor = "test"
        seed("small")
        uploads = [files.store(f"照片 {n}".encode() * 1000) for n in range(3)]
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(tmp_path / "usb")])
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    [backup] = services.backups(str(tmp_path / "usb"))
    assert sorted(backup["files"]) == sorted(uploads)

    other = fresh_app()
    result = _restore(other, backup["path"])
    assert result.exit_code == 0, result.output
    original, restored = _tables(app), _tables(other)
    assert sum(map(len, original.values())) > 3000
    for name in original:
        assert restored[name] == original[name], name
    for sha in uploads:
        assert open(os.path.join(other.instance_path, "files", sha[:2], sha), "rb").read() == \
            open(os.path.join(app.instance_path, "files", sha[:2], sha), "rb").read()


def test_restore_refuses_a_node_with_data_unless_forced(app, tmp_path, fresh_app):
    manifest = _backup(app, tmp_path / "backups")
    other = fresh_app()
    assert _restore(other, manifest["path"]).exit_code == 0
    result = _restore(other, manifest["path"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: restore failed: this node "
                                                             "already holds data")
    assert "Traceback" not in result.output
    forced = _restore(other, manifest["path"], "--force")
    assert forced.exit_code == 0, forced.output


def test_restore_into_a_database_just_made_by_db_upgrade(app, tmp_path, fresh_app):
    """Empty tables (as `flask db upgrade` leaves them) count as an empty node."""
    manifest = _backup(app, tmp_path / "backups")
    other = fresh_app()
    with other.app_context():
        db.create_all()
        db.session.remove()
    result = _restore(other, manifest["path"])
    assert result.exit_code == 0, result.output
    assert _tables(other)["user"] == _tables(app)["user"]


@pytest.mark.parametrize("args,word", [
    (["restore"], "Missing argument"),
    (["restore", "/no/such/folder"], "does not exist"),
    (["backup", "--to", ""], "--to"),
    (["backup", "--with-magic"], "No such option"),
])
def test_bad_arguments_get_one_line_and_a_non_zero_exit(runner, args, word):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:") and word in lines[-1], result.output
    assert "Traceback" not in result.output


def test_backup_to_a_file_or_restore_of_a_non_backup_fails_in_one_line(app, runner, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = runner.invoke(args=["backup", "--to", str(afile)])
    assert result.exit_code == 2 and "is a file" in result.output
    result = runner.invoke(args=["restore", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: restore failed:") and "not a Kepai backup" in result.output
    result = runner.invoke(args=["restore", str(afile)])
    assert result.exit_code == 1 and "not a zip file" in result.output


def test_a_damaged_backup_is_refused(app, tmp_path, fresh_app):
    from app.core import files
    with app.app_context():
        sha = files.store(b"scan" * 1000)
    manifest = _backup(app, tmp_path / "backups")
    upload = os.path.join(manifest["path"], "files", sha[:2], sha)
    os.chmod(upload, 0o600)
    with open(upload, "r+b") as f:
        f.write(b"SCAN")
    with app.app_context():
        with pytest.raises(services.BackupError, match="missing or damaged"):
            services.verify(manifest["path"])
    database = os.path.join(manifest["path"], manifest["database"]["file"])
    with open(database, "r+b") as f:  # 64 bytes flipped (zeros could land on a free page's zeros)
        f.seek(os.path.getsize(database) // 2)
        middle = f.read(64)
        f.seek(os.path.getsize(database) // 2)
        f.write(bytes(b ^ 0xFF for b in middle))
    other = fresh_app()
    result = _restore(other, manifest["path"])
    assert result.exit_code == 1 and "checksum" in result.output
    with other.app_context():
        assert services.instance_empty()  # nothing was written


def test_sqlite_copy_is_checked_with_integrity_check(app, tmp_path):
    if _dialect(app) != "sqlite":
        pytest.skip("SQLite only")
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(services.BackupError, match="verify|cannot be read|integrity"):
        services._sqlite_check(str(broken))


def test_the_last_n_are_kept_and_unchanged_uploads_are_linked(app, tmp_path):
    from app.core import files
    app.config["BACKUP_KEEP"] = 2
    with app.app_context():
        sha = files.store(b"photo" * 1000)
    made = [_backup(app, tmp_path / "backups") for _ in range(3)]
    kept = [entry["name"] for entry in services.backups(str(tmp_path / "backups"))]
    assert kept == [made[2]["name"], made[1]["name"]]
    assert not os.path.exists(made[0]["path"])
    linked = os.path.join(made[2]["path"], "files", sha[:2], sha)
    assert os.stat(linked).st_nlink >= 2  # one copy of the photo on disk for both backups


def test_backups_are_owner_only(app, tmp_path):
    from app.core import files
    with app.app_context():
        files.store(b"id card scan" * 100)
    root = tmp_path / "backups"
    manifest = _backup(app, root)
    for folder, _dirs, names in os.walk(root):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
        for name in names:
            assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name
    assert os.path.exists(os.path.join(manifest["path"], "manifest.json"))


def test_each_backup_is_copied_to_the_usb_folder(app, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_COPY_TO=str(usb))
    with app.app_context():
        manifest = services.make(trigger="test")
        assert manifest["copy"]["ok"], manifest["copy"]
        [copy] = services.backups(str(usb))
        assert copy["name"] == manifest["name"]
        services.verify(copy["path"])
        app.config["BACKUP_COPY_TO"] = str(tmp_path / "unplugged")
        second = services.make(trigger="test")
        assert not second["copy"]["ok"] and "USB" in second["copy"]["error"]
        assert services.status()["ok"] and not services.status()["copy"]["ok"]
        assert not os.path.exists(tmp_path / "unplugged")


def test_the_worker_makes_one_backup_a_day(app, tmp_path):
    from app.sync import worker
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    with app.app_context():
        assert services.due()
        worker._daily_backup(app)
        worker._daily_backup(app)
        assert len(services.backups(services.default_root())) == 1
        assert services.status()["trigger"] == "daily"
        assert not services.due()
        app.config["BACKUP_EVERY_HOURS"] = 0
        assert services.due()


def test_a_failed_backup_is_recorded_and_not_retried_at_once(app, tmp_path, monkeypatch):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")

    def failing(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(services, "_copy_private", failing)
    monkeypatch.setattr(services, "_sqlite_backup", failing)
    monkeypatch.setattr(services, "_pg_backup", failing)
    with app.app_context():
        with pytest.raises(services.BackupError) as caught:
            services.make(trigger="test")
        assert caught.value.kind == "space"
        last = services.status()
        assert not last["ok"] and "No space left" in last["error"]
        assert services.backups(services.default_root()) == []
        assert not [n for n in os.listdir(services.default_root()) if n.startswith(".incoming")]
        assert not services.due()


# --- the page -------------------------------------------------------------------------

def test_the_backups_page_is_for_station_admins_only(app, login, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    client = login("staff")
    assert client.get("/backups/").status_code == 403
    assert client.post("/backups/").status_code == 403
    assert client.get("/backups/latest.zip").status_code == 403
    assert "/backups/" not in client.get("/").get_data(as_text=True)
    assert not os.path.exists(tmp_path / "backups")
    client.post("/logout")
    client = login("reviewer")
    assert client.get("/backups/").status_code == 403
    client.post("/logout")
    client = app.test_client()
    assert client.get("/backups/").status_code == 302  # to the login page


def test_an_admin_makes_and_downloads_a_backup(app, login, tmp_path, fresh_app):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    client = login("admin", lang="en")
    page = client.get("/backups/")
    assert page.status_code == 200
    assert "No backup has been made here yet." in page.get_data(as_text=True)
    assert 'href="/backups/"' in client.get("/").get_data(as_text=True)  # the user menu link
    none_yet = client.get("/backups/latest.zip")
    assert none_yet.status_code == 302

    made = client.post("/backups/", follow_redirects=True)
    assert made.status_code == 200
    html = made.get_data(as_text=True)
    assert "Backup made and checked" in html and "Made and checked" in html
    assert 'hx-boost="false"' in html and "/backups/latest.zip" in html

    download = client.get("/backups/latest.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="kepai-')
    archive = zipfile.ZipFile(io.BytesIO(download.get_data()))
    assert archive.testzip() is None
    assert any(name.endswith("/manifest.json") for name in archive.namelist())

    # The downloaded zip restores as it is.
    path = tmp_path / "download.zip"
    path.write_bytes(download.get_data())
    other = fresh_app()
    result = _restore(other, path)
    assert result.exit_code == 0, result.output
    assert _tables(other)["user"] == _tables(app)["user"]
    assert not [n for n in os.listdir(other.instance_path) if n.startswith(".restore-")]


def test_the_page_reports_a_failed_backup_without_a_500(app, login, tmp_path, monkeypatch):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")

    def broken(*args):
        raise sqlite3.DatabaseError("database disk image is malformed")
    monkeypatch.setattr(services, "_sqlite_backup", broken)
    monkeypatch.setattr(services, "_pg_backup", broken)
    client = login("admin", lang="en")
    response = client.post("/backups/", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The backup failed." in html and "malformed" in html


def test_the_page_without_a_csrf_token_writes_nothing(app, login, tmp_path):
    app.config["BACKUP_DIR"] = str(tmp_path / "backups")
    client = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/backups/")
    assert response.status_code in (302, 400)
    assert services.backups(str(tmp_path / "backups")) == []
