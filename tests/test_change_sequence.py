"""The change sequence a downstream node pulls never skips a row that committed late
with a lower number: change-log rows are numbered in the commit's last step, under a
lock held from that insert to the COMMIT (app/core/history.py), and only then; writers
are never serialised for the rest of their transaction."""
import threading
import time

import pytest
from flask import g
from sqlalchemy import event, select

from app.core.extensions import db
from app.models import ChangeLogEntry, Commissioner
from app.sync.server import changes_since


def _postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: commit order is sequence order already")


def _last_seq(app):
    with app.app_context():
        return db.session.scalar(select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq.desc()).limit(1)) or 0


def _seq_of(name):
    return db.session.scalar(select(ChangeLogEntry.seq).join(
        Commissioner, Commissioner.id == ChangeLogEntry.record_id).where(Commissioner.name == name))


def _write(app, name, seqs, before_commit=None):
    with app.app_context():
        g.actor = name
        db.session.add(Commissioner(name=name, owner_node="150121-01"))
        db.session.flush()
        if before_commit:
            before_commit()
        db.session.commit()
        seqs[name] = _seq_of(name)


def test_a_late_commit_never_hides_behind_a_later_number(app):
    """The slow writer's COMMIT is late after its change-log row was numbered: a writer
    committing meanwhile waits, so no reader can see its higher number first."""
    _postgres_only(app)
    after = _last_seq(app)
    numbered, seqs = threading.Event(), {}
    with app.app_context():
        engine = db.engine

    def late_commit(conn, cursor, statement, *args):
        if threading.current_thread().name == "slow" and "INSERT INTO change_log" in statement:
            numbered.set()
            time.sleep(1.0)  # numbered, not yet committed
    event.listen(engine, "after_cursor_execute", late_commit)
    try:
        slow = threading.Thread(target=_write, args=(app, "慢", seqs), name="slow")
        fast = threading.Thread(target=lambda: numbered.wait(5) and _write(app, "快", seqs))
        slow.start()
        fast.start()
        assert numbered.wait(5)
        time.sleep(0.3)
        with app.app_context():  # a reader while the slow one is still open
            seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
        assert seen == []  # the fast writer waits: nothing numbered after the open one is visible
        slow.join(10)
        fast.join(10)
    finally:
        event.remove(engine, "after_cursor_execute", late_commit)
    assert seqs["慢"] < seqs["快"]
    with app.app_context():
        seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
    assert seen == ["慢", "快"]


def test_an_open_transaction_does_not_hold_up_other_writers(app):
    """A push's records, audit and outbox are written long before its commit: another
    writer commits meanwhile, and the sequence is in commit order."""
    _postgres_only(app)
    after = _last_seq(app)
    flushed, done, seqs = threading.Event(), threading.Event(), {}
    release = threading.Event()

    def wait_for_release():
        flushed.set()
        release.wait(10)
    slow = threading.Thread(target=_write, args=(app, "慢", seqs, wait_for_release))

    def fast_writer():
        flushed.wait(5)
        _write(app, "快", seqs)
        done.set()
    fast = threading.Thread(target=fast_writer)
    slow.start()
    fast.start()
    try:
        assert done.wait(8), "the second writer waited for the first one's commit"
    finally:
        release.set()
        slow.join(10)
        fast.join(10)
    assert seqs["快"] < seqs["慢"]
    with app.app_context():
        seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
    assert seen == ["快", "慢"]


def test_a_rolled_back_savepoint_takes_its_change_log_rows_with_it(app):
    """Rows wait for the commit; a savepoint rolled back (one operation of a push
    refused) and a session closed without committing leave none behind."""
    after = _last_seq(app)
    with app.app_context():
        g.actor = "test"
        savepoint = db.session.begin_nested()
        db.session.add(Commissioner(name="退", owner_node="150121-01"))
        db.session.flush()
        savepoint.rollback()
        savepoint = db.session.begin_nested()
        db.session.add(Commissioner(name="留", owner_node="150121-01"))
        db.session.flush()
        savepoint.commit()
        db.session.commit()
        db.session.add(Commissioner(name="关", owner_node="150121-01"))
        db.session.flush()
        db.session.close()
        db.session.add(Commissioner(name="后", owner_node="150121-01"))
        db.session.commit()
        seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
    assert seen == ["留", "后"]
