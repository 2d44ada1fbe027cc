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

One request at a time works an answer out: the others asking for the same key meanwhile
wait for it instead of doing the same work beside it (waitress threads share one
interpreter lock, so eight requests working out the home page's year figures at once each
took eight times as long, and held eight copies of what it reads). An answer only older
than ``KEEP_SECONDS`` (no write since) is still given to the others while one request
works it out again.
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
WAIT_SECONDS = 30.0  # the longest a request waits for another's working out, then does it too
SIZE = 256  # answers kept per app; the least recently used go first


class Answers:
    """One app's remembered answers (a small LRU map, safe across waitress threads).
    Keys start with the generation; answers of an older one can never be asked for
    again, so the first answer of a newer one drops them all."""

    def __init__(self):
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._generation = None
        self._working: dict = {}  # key: [lock held while one request works it out, users]

    def get(self, key, stale: bool = False):
        """The (time, value) kept for ``key``, or None; one older than KEEP_SECONDS only
        with ``stale``."""
        with self._lock:
            item = self._items.get(key)
            if item is None or (not stale and time.monotonic() - item[0] > KEEP_SECONDS):
                return None
            self._items.move_to_end(key)
            return item

    def working_on(self, key, wait: bool = True) -> "_Working":
        """``with answers.working_on(key) as mine:`` holds the lock of ``key``'s working
        out (one lock for all the requests asking at once); with ``wait=False`` it does
        not wait for it, and ``mine`` says whether it holds it."""
        with self._lock:
            entry = self._working.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
            return _Working(self, key, entry[0], wait)

    def _done_with(self, key) -> None:
        with self._lock:
            entry = self._working[key]
            entry[1] -= 1
            if not entry[1]:
                del self._working[key]

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


class _Working:
    def __init__(self, answers: Answers, key, lock: threading.Lock, wait: bool):
        self.answers, self.key, self.lock, self.wait, self.held = answers, key, lock, wait, False

    def __enter__(self) -> bool:
        self.held = self.lock.acquire(timeout=WAIT_SECONDS) if self.wait \
            else self.lock.acquire(blocking=False)
        return self.held

    def __exit__(self, *exc) -> None:
        if self.held:
            self.lock.release()
        self.answers._done_with(self.key)


def init_app(app) -> None:
    app.extensions["answers"] = Answers()


def generation() -> int:
    """The newest audit entry's id, read once per request."""
    if "data_generation" not in g:
        g.data_generation = db.session.scalar(select(func.max(AuditEntry.id))) or 0
    return g.data_generation


def known(key: tuple):
    """The answer remembered for ``key`` at the data's current generation, or None when
    there is none yet: for a page that shows a costly part at once when it is known and
    has it fetched after the page otherwise."""
    if not current_app.config.get("ANSWER_CACHE", True) or db.session.info.get("uncommitted_writes"):
        return None
    item = current_app.extensions["answers"].get((generation(), *key))
    return item[1] if item is not None else None


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
    old = answers.get(full_key, stale=True)
    with answers.working_on(full_key, wait=old is None) as mine:
        if not mine and old is not None:  # another request works it out again: the old one
            return old[1]
        item = answers.get(full_key)  # worked out while this one waited
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
