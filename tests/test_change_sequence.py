"""The change sequence a downstream node pulls never skips a row that committed late
with a lower number: writers of the change log are serialised until they commit."""
import threading
import time

import pytest
from flask import g
from sqlalchemy import select

from app.core.extensions import db
from app.models import ChangeLogEntry, Commissioner
from app.sync.server import changes_since


def test_a_late_commit_never_hides_behind_a_later_number(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: commit order is sequence order already")
    with app.app_context():
        after = db.session.scalar(select(ChangeLogEntry.seq).order_by(ChangeLogEntry.seq.desc()).limit(1)) or 0
    slow_flushed, second_done = threading.Event(), threading.Event()
    seqs = {}

    def slow_writer():
        with app.app_context():
            g.actor = "slow"
            db.session.add(Commissioner(name="慢", owner_node="150121-01"))
            db.session.flush()  # numbered now, committed later
            slow_flushed.set()
            time.sleep(1.0)
            db.session.commit()
            seqs["slow"] = db.session.scalar(select(ChangeLogEntry.seq).join(
                Commissioner, Commissioner.id == ChangeLogEntry.record_id).where(Commissioner.name == "慢"))

    def fast_writer():
        slow_flushed.wait(5)
        with app.app_context():
            g.actor = "fast"
            db.session.add(Commissioner(name="快", owner_node="150121-01"))
            db.session.commit()
            seqs["fast"] = db.session.scalar(select(ChangeLogEntry.seq).join(
                Commissioner, Commissioner.id == ChangeLogEntry.record_id).where(Commissioner.name == "快"))
            second_done.set()

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
    for t in threads:
        t.start()
    slow_flushed.wait(5)
    time.sleep(0.3)
    with app.app_context():  # a reader while the slow one is still open
        seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
    assert seen == []  # the fast writer waits: nothing numbered after the open one is visible
    for t in threads:
        t.join(10)
    assert seqs["slow"] < seqs["fast"]
    with app.app_context():
        seen = [c["fields"]["name"] for c in changes_since("1501", after, 100)["changes"]]
    assert seen == ["慢", "快"]
