"""Answers remembered until this node's data changes.

A list page shows drop-downs of the node's commissioners, villages and clusters and a
count of what matches; working them out on every view costs more than the page itself.
``remembered(key, compute)`` keeps such an answer in this process, per app, keyed by the
caller's key and the database's *generation*: the id of the newest audit entry. Every
write this program makes, a user's or one applied by sync, from this process or another,
adds an audit entry in the same transaction, so a committed change retires every older
answer at once. ``KEEP_SECONDS`` bounds how long an answer lives regardless, for writes
made around the program (a bulk load straight into the database).

Keys must hold everything an answer depends on besides the data: who reads when the
answer is scoped to them (``security.reading_scope()``: the node, and a commissioner's
own id, since a commissioner reads less than their node), the filters of a count.
"""
import threading
import time
from collections import OrderedDict

from flask import current_app, g, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.core.extensions import db
from app.models import AuditEntry

KEEP_SECONDS = 60.0
SIZE = 256  # answers kept per app; the least recently used go first


class Answers:
    """One app's remembered answers (a small LRU map, safe across waitress threads).
    Keys start with the generation; answers of an older one can never be asked for
    again, so the first answer of a newer one drops them all."""

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._generation = None

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > KEEP_SECONDS:
                return None
            self._items.move_to_end(key)
            return item

    def put(self, key, value) -> None:
        with self._lock:
            if self._generation is None or key[0] > self._generation:
                self._items.clear()
                self._generation = key[0]
            elif key[0] < self._generation:
                return  # a request that began before the last write: its answer is old
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > SIZE:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def init_app(app) -> None:
    app.extensions["answers"] = Answers()


def generation() -> int:
    """The newest audit entry's id, read once per request."""
    if "data_generation" not in g:
        g.data_generation = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    return g.data_generation


def remembered(key: tuple, compute):
    """``compute()``'s answer for ``key`` at the data's current generation, worked out
    once. Not remembered while this session holds writes it has not committed (an
    answer that might yet be rolled back), nor when ``ANSWER_CACHE`` is off."""
    if not current_app.config.get("ANSWER_CACHE", True) or db.session.info.get("uncommitted_writes"):
        return compute()
    answers = current_app.extensions["answers"]
    full_key = (generation(), *key)
    item = answers.get(full_key)
    if item is not None:
        return item[1]
    value = compute()
    answers.put(full_key, value)
    return value


@event.listens_for(Session, "after_flush")
def _note_writes(session, flush_context):
    session.info["uncommitted_writes"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_writes(session):
    """After a commit or rollback the generation is read again (it may have moved)."""
    session.info.pop("uncommitted_writes", None)
    if has_app_context():
        g.pop("data_generation", None)
