"""The downstream side of sync: push the outbox, then pull the upstream's changes.

Push sends the outbox in order, in batches (by count and by bytes), gzip-compressed; an
entry leaves the outbox only once the upstream has answered for it. Pull applies each
page of changes together with the new checkpoint in one transaction, so that a crash
between the two cannot happen and re-applying a page is harmless.
"""
import http.client
import json
import os
import ssl
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, func, inspect, select

from app.core.extensions import db
from app.core.history import new_op_id, record_fields
from app.core.version import __version__
from app.models import OutboxEntry, SyncConflict, SyncRun, Upstream, utcnow
from app.sync import registry, rows, wire
from app.sync.pacing import ChunkPacer

RUN_LOCK = threading.Lock()  # one sync at a time in this process
TOKEN_FILE = "upstream_token"
MAX_PASSES = 5  # pushes of held operations in one run, while each pass applies something


class SyncError(Exception):
    """Sync could not complete; the message is the one-line reason."""


@dataclass
class Progress:
    """What the running sync has done so far (read by the sync page)."""

    phase: str = "idle"
    figures: dict = field(default_factory=dict)


PROGRESS = Progress()


def upstream() -> Upstream | None:
    return db.session.scalar(select(Upstream))


def set_upstream(url: str, token: str) -> Upstream:
    settings = upstream() or Upstream(url=url)
    settings.url = url.rstrip("/")
    settings.last_error, settings.failures = "", 0
    db.session.add(settings)
    db.session.flush()
    write_token(token)
    db.session.commit()
    return settings


def _token_path() -> str:
    return os.path.join(current_app.instance_path, TOKEN_FILE)


def write_token(token: str) -> None:
    """Keep the upstream token in an owner-only file of the instance folder, not in the
    database: a copy of the database file alone cannot sync as this node."""
    path = _token_path()
    temporary = path + ".new"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def read_token() -> str:
    try:
        with open(_token_path(), encoding="ascii") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def pending_count() -> int:
    """Operations waiting to be sent (neither held upstream nor refused)."""
    return db.session.scalar(select(func.count()).select_from(OutboxEntry)
                             .where(OutboxEntry.rejected_at.is_(None),
                                    OutboxEntry.held_at.is_(None)))


def held_count() -> int:
    """Operations the upstream holds until a record they reference arrives."""
    return db.session.scalar(select(func.count()).select_from(OutboxEntry)
                             .where(OutboxEntry.rejected_at.is_(None),
                                    OutboxEntry.held_at.is_not(None)))


def rejected_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxEntry)
                             .where(OutboxEntry.rejected_at.is_not(None)))


class Link:
    """Requests to the upstream, counting requests and bytes both ways, over one kept-alive
    connection for the run (``HttpTransport``). ``transport`` replaces the network (tests
    pass one that calls another app in-process). One request at a time: push sends from
    a thread of its own while this one records and builds (``_push_pass``)."""

    def __init__(self, settings: Upstream, timeout: float, transport=None):
        self.base, self.token, self.timeout = settings.url, read_token(), timeout
        self.transport = transport or HttpTransport()
        # A simulated link (tests) brings its own clock, for the pacing of file chunks.
        self.clock = getattr(transport, "clock", None) or time.monotonic
        self.sent = self.received = self.requests = 0

    def close(self) -> None:
        """Let go of the connection (the end of a run)."""
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def call(self, method: str, path: str, body: dict | None = None, raw: bytes | None = None,
             timeout: float | None = None, **params) -> dict:
        """One request; ``body`` goes as gzip JSON, ``raw`` bytes as they are (file chunks).
        ``timeout``: seconds to wait for it, when not the link's own."""
        url = self.base + "/api/sync/v1" + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = wire.pack(body) if body is not None else raw
        headers = {"Authorization": f"Bearer {self.token}", "X-Kepai-Protocol": str(wire.PROTOCOL),
                   "Accept-Encoding": "gzip",
                   "Content-Type": "application/octet-stream" if raw is not None else "application/json",
                   **({"Content-Encoding": "gzip"} if body is not None else {})}
        self.requests += 1
        self.sent += len(data or b"")
        status, encoding, raw = self.transport(method, url, data, headers, timeout or self.timeout)
        self.received += len(raw)
        try:
            answer = wire.unpack(raw, encoding) if encoding == "gzip" else json.loads(raw or b"{}")
        except (wire.WireError, ValueError):
            raise SyncError(f"upstream answered {status} with something that is not sync JSON") from None
        if status >= 400:
            raise SyncError(refusal(status, answer.get("error", "") if isinstance(answer, dict) else ""))
        return answer


class HttpTransport:
    """HTTP requests over one kept-alive connection, opened at the first request and
    again after a failure; a proxy named in the environment (``https_proxy``, ``no_proxy``)
    is used as urllib would. A request that fails on a connection an earlier request
    used, before any answer came (the upstream closed the idle connection, or restarted),
    is sent once more on a new connection; repeating a push or a file chunk is harmless
    (operations apply exactly once; a chunk at an offset already passed is refused with
    the count, which the sender goes on from). Callable as a transport:
    (status, content encoding, body); SyncError when unreachable."""

    STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
             ConnectionAbortedError)

    def __init__(self):
        self.connection: http.client.HTTPConnection | None = None
        self.origin = None
        self.opened = 0  # connections opened (one for a whole run, unless one failed)

    def __call__(self, method, url, data, headers, timeout):
        parts = urllib.parse.urlsplit(url)
        for attempt in (1, 2):
            try:
                reused, target = self._connect(parts, timeout)
            except OSError as exc:
                self.close()
                raise SyncError(f"upstream unreachable: {exc}") from None
            try:
                self.connection.request(method, target, body=data, headers=headers)
                response = self.connection.getresponse()
                body = response.read()
            except self.STALE as exc:
                self.close()
                if reused and attempt == 1:
                    continue
                raise SyncError(f"upstream unreachable: {exc or type(exc).__name__}") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise SyncError(f"upstream unreachable: {exc or type(exc).__name__}") from None
            if response.will_close:
                self.close()
            return response.status, response.getheader("Content-Encoding"), body
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self, parts, timeout) -> tuple[bool, str]:
        """Whether the connection was used before; and the request's target."""
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        proxy = None
        if not urllib.request.proxy_bypass(host):
            proxy = urllib.request.getproxies().get(scheme)
        target = parts.path + ("?" + parts.query if parts.query else "")
        if proxy and scheme == "http":
            target = urllib.parse.urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
        origin = (scheme, host, port, proxy)
        if self.connection is not None and self.origin != origin:
            self.close()
        if self.connection is None:
            via = urllib.parse.urlsplit(proxy) if proxy else None
            address = (via.hostname, via.port or 80) if via else (host, port)
            if scheme == "https":
                self.connection = http.client.HTTPSConnection(
                    *address, timeout=timeout, context=ssl.create_default_context())
                if via:
                    self.connection.set_tunnel(host, port)
            else:
                self.connection = http.client.HTTPConnection(*address, timeout=timeout)
            self.origin, self.opened = origin, self.opened + 1
        self.connection.timeout = timeout
        reused = self.connection.sock is not None
        if reused:
            self.connection.sock.settimeout(timeout)
        return reused, target

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def refusal(status: int, reason: str) -> str:
    """The one-line reason for an upstream's refusal."""
    if status == 401:
        return f"upstream refused the token ({reason or 'unauthorised'})"
    if status == 426:
        return f"protocol mismatch: {reason}"
    if status == 404:
        return "upstream has no sync API here (wrong address, or the upstream is too old)"
    return f"upstream answered {status}: {reason or 'error'}"


def _adopting_from(source: str):
    session = db.session
    session.info.update(applying_sync=True, keep_stamps=True, sync_source=source)


def _clear_flags():
    for key in ("applying_sync", "keep_stamps", "sync_source"):
        db.session.info.pop(key, None)


def adopt(state: dict) -> bool:
    """Make the local record what the upstream says it is (no outbox entry: it came
    from there). Returns whether anything changed here (False also for a type this
    program does not know). Within a pulled page (``Page``) the records come from the
    page's reads and are flushed with the page."""
    model = registry.model(state.get("type", ""))
    if model is None:
        return False
    page = db.session.info.get("sync_page")
    record = page.records.get(state["id"]) if page else db.session.get(model, state["id"])
    if record is not None and not isinstance(record, model):
        record = db.session.get(model, state["id"])
    related = page.related if page else None
    fields = state["fields"]
    if record is None:
        record = model(id=state["id"])
        registry.assign(record, fields, related=related)
        record.field_versions = {k: state["version"] for k in registry.fields_of(model)}
        db.session.add(record)
        if page:
            page.records[record.id] = record
        changed = True
    else:
        before = record_fields(record)
        differs = [k for k in registry.fields_of(model) if before.get(k) != fields.get(k)]
        changed = bool(differs) or record.version != state["version"]
        if not changed:
            return False
        # Who created it here stays; who changed it last is the upstream's word, unless
        # that is only the upstream's stamp for this node's own push.
        keys = differs + [k for k in ("updated_at", "updated_by")
                          if differs and not str(fields.get("updated_by", "")).startswith("sync:")]
        registry.assign(record, fields, keys, related=related)
        record.field_versions = {**(record.field_versions or {}),
                                 **{k: state["version"] for k in differs}}
    record.version = state["version"]
    if page is None or inspect(record).pending:
        db.session.flush()  # a new record at once: what comes after may reference it
    return changed


def _op(entry: OutboxEntry) -> dict:
    op = {"op_id": entry.op_id, "type": entry.record_type, "id": entry.record_id,
          "action": entry.action, "base_version": entry.base_version, "version": entry.version,
          "changed": entry.changed or [], "fields": entry.fields}
    if entry.resolves_conflict:
        op["resolves"] = True
    return op


def sending_order(held_only: bool = False) -> list[int]:
    """The outbox entries to send, parents first: every type after the types it
    references (the registry's order), and each record's changes in the order they were
    made. The order the session happened to flush in does not matter."""
    rank = {name: i for i, name in enumerate(registry.types())}
    stmt = select(OutboxEntry.seq, OutboxEntry.record_type).where(OutboxEntry.rejected_at.is_(None))
    if held_only:
        stmt = stmt.where(OutboxEntry.held_at.is_not(None))
    rows = db.session.execute(stmt).all()
    return [seq for seq, _ in sorted(rows, key=lambda row: (rank.get(row[1], len(rank)), row[0]))]


def _batches(seqs: list[int]):
    """Batches of at most ``BATCH_OPS`` operations (the ``SYNC_BATCH_OPS`` setting, if
    set; never more than the upstream's ``MAX_OPS``) and ``BATCH_BYTES`` of JSON, in order."""
    most = max(1, min(int(current_app.config.get("SYNC_BATCH_OPS") or wire.BATCH_OPS), wire.MAX_OPS))
    at = 0
    while at < len(seqs):
        chunk = seqs[at:at + most]
        entries = {e.seq: e for e in db.session.scalars(
            select(OutboxEntry).where(OutboxEntry.seq.in_(chunk)))}
        ops, size = [], 0
        for seq in chunk:
            at += 1
            entry = entries.get(seq)
            if entry is None or entry.rejected_at is not None:
                continue  # settled meanwhile
            op = _op(entry)
            size += len(wire.dumps(op))
            if ops and size > wire.BATCH_BYTES:
                at -= 1
                break
            ops.append(op)
        if ops:
            yield ops


def push(link: Link, run: SyncRun, upstream_code: str) -> None:
    """Send the outbox parents first; then, while a pass applies anything, send again
    what the upstream held (its parent may have arrived meanwhile)."""
    seqs = sending_order()
    for _ in range(MAX_PASSES):
        applied_before = run.applied + run.duplicates + run.conflicts
        _push_pass(link, run, upstream_code, _batches(seqs))
        seqs = sending_order(held_only=True)
        if not seqs or run.applied + run.duplicates + run.conflicts == applied_before:
            return


def _push_pass(link: Link, run: SyncRun, upstream_code: str, batches) -> None:
    """Send the batches in order, one request at a time, without the station idling:
    while the upstream applies batch n (the request goes from a thread of its own), this
    thread records the answers to batch n-1 and builds batch n+1, which leaves as soon
    as n is answered. Answers are recorded in order, each batch in one local transaction
    of this thread's session; the sending thread touches no session. When a request
    fails, every batch answered before it has been recorded; an answer that arrives
    after a failure here is dropped, and its operations stay in the outbox (sent again,
    they are answered from the upstream's record)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as sender:
        ops = next(batches, None)
        in_flight = sender.submit(link.call, "POST", "/push", _push_body(ops)) if ops else None
        answered = None  # (ops, answer) not yet recorded
        while in_flight is not None:
            if answered is not None:
                _take_answer(*answered, run, upstream_code)
            following = next(batches, None)
            body = _push_body(following) if following else None
            db.session.rollback()  # release the read before waiting (the request may take long)
            answered = (ops, in_flight.result())
            ops = following
            in_flight = sender.submit(link.call, "POST", "/push", body) if following else None
        if answered is not None:
            _take_answer(*answered, run, upstream_code)


def _push_body(ops: list) -> dict:
    return {"protocol": wire.PROTOCOL, "ops": ops, "pending": pending_count(), "version": __version__}


def _take_answer(ops: list, answer: dict, run: SyncRun, upstream_code: str) -> None:
    results = {r.get("op_id"): r for r in answer.get("results", []) if isinstance(r, dict)}
    run.sent += len(ops)
    with rows.paused_gc():
        _record_results(ops, results, run, upstream_code)
    PROGRESS.figures = _figures(run)


def _record_results(ops: list, results: dict, run: SyncRun, upstream_code: str) -> None:
    """Take the upstream's answers for one batch, in one local transaction. An entry
    leaves the outbox only when the upstream says it applied it (or recorded a conflict,
    which is then recorded here too), now or, for a repeat, the first time."""
    _adopting_from(upstream_code)
    try:
        waiting = set(db.session.scalars(select(OutboxEntry.op_id).where(
            OutboxEntry.op_id.in_([op["op_id"] for op in ops if op["op_id"] in results]))))
        states: dict[str, dict] = {}  # record id -> the upstream's state in an answer
        done, kept = [], {}
        for op in ops:
            result = results.get(op["op_id"])
            if result is None or op["op_id"] not in waiting:
                continue  # no answer: stays in the outbox for the next run (or settled meanwhile)
            status = result.get("status")
            if status == "duplicate":
                run.duplicates += 1
                status = result.get("first_status")
            if status not in ("applied", "conflict"):
                kept[op["op_id"]] = (result, status)
                if status == "held":
                    run.held = (run.held or 0) + 1
                else:
                    run.rejected += 1
                continue
            done.append(op["op_id"])
            if status == "conflict":
                run.conflicts += 1
                _local_conflict(op, result, upstream_code)
            elif result.get("status") != "duplicate":
                run.applied += 1
            if "fields" in result and isinstance(result.get("type"), str) \
                    and isinstance(result.get("version"), int):
                states.pop(op["id"], None)  # a later answer for the same record wins
                states[op["id"]] = result
        if kept:
            for entry in db.session.scalars(select(OutboxEntry).where(OutboxEntry.op_id.in_(list(kept)))):
                _keep(entry, *kept[entry.op_id])
        if done:
            db.session.execute(delete(OutboxEntry).where(OutboxEntry.op_id.in_(done))
                               .execution_options(synchronize_session=False))
        # The upstream's record is the truth here unless a newer local edit is still on
        # its way (then that edit's own answer brings the final state): the answers are
        # applied as a pulled page is, after the answered entries have left the outbox.
        apply_page(list(states.values()), upstream_code, settle=False)
        db.session.commit()
    finally:
        _clear_flags()
        db.session.info.pop("sync_page", None)
        db.session.info.pop("record_lookup", None)


PROBLEM_KEYS = ("code", "field", "ref_type", "ref_id")


def _keep(entry: OutboxEntry, result: dict, status: str) -> None:
    """An operation the upstream did not apply stays, held or refused, with its reason.
    Anything but a held one (an unknown answer too) is refused: a person looks at it."""
    problem = {k: str(result[k])[:80] for k in PROBLEM_KEYS if result.get(k) is not None}
    entry.reject_reason = str(result.get("reason") or status)[:300]
    entry.problem = problem or None
    if status == "held":
        entry.held_at = entry.held_at or utcnow()
    else:
        entry.rejected_at, entry.held_at = utcnow(), None


def _local_conflict(op: dict, result: dict, upstream_code: str) -> None:
    values = {k: {"here": v["there"], "there": v["here"]} for k, v in result.get("conflict", {}).items()}
    db.session.add(SyncConflict(record_type=op["type"], record_id=op["id"], fields=values,
                                deleted_there=bool(result.get("deleted_upstream")),
                                other_node=upstream_code))


def enqueue_all() -> int:
    """Put every record of this node's subtree in the outbox as a create (for data that
    was loaded without one, e.g. bulk demo data, or a league newly given an upstream).
    Records already waiting are left alone. Returns how many were queued."""
    from app.core.node import subtree, this_node
    code = this_node().code
    waiting = set(db.session.execute(select(OutboxEntry.record_type, OutboxEntry.record_id)))
    rows, queued = [], 0
    for record_type, model in registry.types().items():
        for record in db.session.scalars(select(model).where(subtree(model.owner_node, code))
                                         .execution_options(yield_per=1000)):
            if (record_type, record.id) in waiting:
                continue
            rows.append({"op_id": new_op_id(), "record_type": record_type, "record_id": record.id,
                         "action": "create", "base_version": record.version - 1,
                         "version": record.version, "changed": [],
                         "fields": record_fields(record), "created_at": utcnow(),
                         "resolves_conflict": False})
            if len(rows) >= 2000:
                db.session.execute(OutboxEntry.__table__.insert(), rows)
                queued, rows = queued + len(rows), []
    if rows:
        db.session.execute(OutboxEntry.__table__.insert(), rows)
        queued += len(rows)
    db.session.commit()
    return queued


def files_to_send() -> list[str]:
    """Files of this node's own attachments that the upstream is not known to hold: the
    photos and documents, not their thumbnails (the upstream makes its own)."""
    from app.core import files
    from app.core.node import subtree, this_node
    from app.models import Attachment, SentFile
    shas = db.session.scalars(select(Attachment.sha256).where(
        subtree(Attachment.owner_node, this_node().code)))
    sent = set(db.session.scalars(select(SentFile.sha256)))
    wanted = {sha for sha in shas if sha and sha not in sent}
    return sorted(sha for sha in wanted if files.exists(sha))


def send_files(link: Link, run: SyncRun) -> None:
    """Send each file the upstream lacks, in chunks paced to the link (app/sync/pacing.py),
    going on from what already arrived."""
    from app.models import SentFile
    pacer = ChunkPacer(link.timeout)  # one per run: what one file taught serves the next
    for sha in files_to_send():
        status = link.call("GET", f"/files/{sha}")
        if not status.get("present"):
            send_file(link, sha, int(status.get("received", 0)), pacer)
            run.files_sent += 1
        db.session.add(SentFile(sha256=sha))
        db.session.commit()
        PROGRESS.figures = _figures(run)


MAX_FILE_FAILURES = 4  # chunks in a row without an answer before the run gives up


def send_file(link: Link, sha: str, offset: int, pacer: ChunkPacer) -> None:
    """Upload one file from ``offset``. A chunk that gets no answer is followed by a
    question of how much arrived (the upstream keeps every whole chunk), and the upload
    goes on from there, never from byte 0, with smaller chunks; SyncError after
    MAX_FILE_FAILURES failures in a row (the next run goes on from what arrived)."""
    from app.core import files
    data, failures = files.read(sha), 0
    while True:
        chunk = data[offset:offset + pacer.next_size(len(data) - offset)]
        final = offset + len(chunk) >= len(data)
        started = link.clock()
        try:
            answer = link.call("PUT", f"/files/{sha}", raw=chunk, timeout=pacer.timeout(len(chunk)),
                               offset=offset, final=1 if final else 0)
        except SyncError as exc:
            failures += 1
            if failures >= MAX_FILE_FAILURES:
                raise SyncError(f"file {sha[:12]}… not sent after {failures} tries: {exc}") from None
            pacer.failed()
            status = _file_status(link, sha)
            if status is None:
                continue  # not even the question got through: try the same chunk again
            if status.get("present"):
                return
            offset = int(status.get("received", 0))
            continue
        failures = 0
        pacer.took(len(chunk), link.clock() - started)
        if final or answer.get("present"):
            return
        offset = int(answer.get("received", offset + len(chunk)))


def _file_status(link: Link, sha: str) -> dict | None:
    """The upstream's word on a file (present, bytes received), or None if unreachable."""
    try:
        return link.call("GET", f"/files/{sha}")
    except SyncError:
        return None


def pull(link: Link, run: SyncRun, settings_id: int, upstream_code: str) -> None:
    """Pages of the upstream's changes until it has no more, each applied and committed
    with its checkpoint in one transaction (the collector paused: ``rows.paused_gc``).
    While a page is applied here, the next is asked for from a thread of its own (as
    push sends), so that the upstream builds it meanwhile: what a page holds depends
    only on the upstream's change log and the checkpoint it starts from, which the page
    before gives (``next``). When applying a page fails, neither it nor its checkpoint
    is committed, and the page fetched meanwhile is dropped (the next run asks again)."""
    after = db.session.get(Upstream, settings_id).pull_checkpoint

    def fetch(checkpoint: int) -> dict:
        return link.call("GET", "/changes", after=checkpoint, limit=wire.PULL_LIMIT)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-pull") as fetcher:
        coming = fetcher.submit(fetch, after)
        while coming is not None:
            page = coming.result()
            after = int(page.get("next", after))
            coming = fetcher.submit(fetch, after) if page.get("more") else None
            with rows.paused_gc():
                _apply_pulled(page, after, run, settings_id, upstream_code)
            PROGRESS.figures = _figures(run)


def _apply_pulled(page: dict, checkpoint: int, run: SyncRun, settings_id: int, upstream_code: str) -> None:
    """Apply one pulled page and commit it with the checkpoint it brings."""
    changes = [c for c in page.get("changes", []) if isinstance(c, dict)]
    _adopting_from(upstream_code)
    try:
        run.pulled += apply_page(changes, upstream_code)
        db.session.get(Upstream, settings_id).pull_checkpoint = checkpoint
        db.session.commit()
    finally:
        _clear_flags()
        db.session.info.pop("sync_page", None)
        db.session.info.pop("record_lookup", None)


class Page:
    """What applying one pulled page needs, read with a query each: the page's records
    in their wire form (``rows.wire_states``, a query per type and collection), the
    records with an unsent local edit, the open conflicts."""

    def __init__(self, changes: list, conflicts: bool = True):
        by_type: dict[type, set] = {}
        for change in changes:
            model = registry.model(change.get("type", ""))
            if model is not None:
                by_type.setdefault(model, set()).add(change["id"])
        self.states: dict[str, tuple] = {}
        for model, ids in by_type.items():
            for record_id, current in rows.wire_states(model, ids).items():
                self.states[record_id] = (model, current)
        ids = [c["id"] for c in changes]
        self.pending = set(db.session.execute(select(OutboxEntry.record_type, OutboxEntry.record_id)
                                              .where(OutboxEntry.rejected_at.is_(None),
                                                     rows.among(OutboxEntry.record_id, ids))).all())
        self.conflicts: dict[tuple, list] = {}
        for conflict in db.session.scalars(select(SyncConflict).where(
                rows.among(SyncConflict.record_id, ids), SyncConflict.resolved_at.is_(None))) \
                if conflicts else ():
            self.conflicts.setdefault((conflict.record_type, conflict.record_id), []).append(conflict)

    def version(self, change: dict) -> int:
        """The local version of the change's record (0 when there is none here)."""
        found = self.states.get(change["id"])
        return found[1]["version"] if found else 0


class Objects:
    """The ORM objects for the changes ``Adoption`` cannot write as rows (creates, and
    changes to foreign keys or collections): the records with their collections and the
    records those collections name, a query per type."""

    def __init__(self, changes: list):
        from sqlalchemy.orm import selectinload
        by_type: dict[type, set] = {}
        linked: dict[type, set] = {}
        for change in changes:
            model = registry.model(change["type"])
            by_type.setdefault(model, set()).add(change["id"])
            for key, target in registry.collections(model).items():
                if isinstance(change["fields"].get(key), list):
                    linked.setdefault(target, set()).update(change["fields"][key])
        self.records: dict[str, object] = {}
        for model, ids in by_type.items():
            wanted = [selectinload(getattr(model, key)) for key in registry.collections(model)]
            for record in db.session.scalars(select(model).where(rows.among(model.id, ids)).options(*wanted)):
                self.records[record.id] = record
        for target, ids in linked.items():
            for record in db.session.scalars(select(target).where(
                    rows.among(target.id, ids - set(self.records)))):
                self.records[record.id] = record

    def lookup(self, model, record_id: str):
        """A record at hand (for the audit's labels), or None."""
        record = self.records.get(record_id)
        return record if isinstance(record, model) else None

    def related(self, target, ids: list) -> list:
        found = [self.records.get(i) for i in ids]
        if all(isinstance(r, target) for r in found):
            return found
        return db.session.query(target).filter(target.id.in_(ids)).all()


def apply_page(changes: list, upstream_code: str, settle: bool = True) -> int:
    """Apply one pulled page (in the caller's transaction); returns how many records it
    changed here. A change to a record with an unsent local edit is skipped (the edit's
    own answer brings the merge); only fields that differ are written, a collection only
    when its ids differ; a conflict the upstream no longer has open is settled (unless
    not to ``settle``: the states in the answers to a push). Changes to plain columns are
    written as rows (``rows.Adoption``), the rest through the ORM."""
    if not changes:
        return 0
    page = Page(changes, conflicts=settle)
    adoption, by_orm = rows.Adoption(), []
    changed = 0
    for change in changes:
        key = (change.get("type"), change.get("id"))
        model = registry.model(change.get("type", ""))
        if key in page.pending or model is None:
            continue  # our own edit goes up first; its answer brings the merge
        if change["version"] >= page.version(change):
            found = page.states.get(change["id"])
            taken = adoption.take(model, found[1], change) if found and found[0] is model else None
            if taken is None:
                by_orm.append(change)
            changed += bool(taken)
        if not change.get("conflict_open"):
            for conflict in page.conflicts.pop(key, []):
                conflict.resolved_at, conflict.resolved_by = utcnow(), f"sync:{upstream_code}"
    adoption.write()
    if by_orm:
        objects = Objects(by_orm)
        db.session.info.update(sync_page=objects, record_lookup=objects.lookup)
        for change in by_orm:
            changed += adopt(change)
    db.session.flush()
    return changed


def report(link: Link) -> None:
    """Tell the upstream what is still waiting here, so that its page of downstream
    nodes says what this node's header says."""
    counts = {"pending": pending_count(), "held": held_count(), "refused": rejected_count()}
    db.session.rollback()
    link.call("POST", "/report", {**counts, "version": __version__})


@dataclass
class Summary:
    """What one sync run did."""

    sent: int = 0
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    held: int = 0
    pulled: int = 0
    files_sent: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    requests: int = 0
    error: str = ""


def _figures(run: SyncRun) -> dict:
    return {k: getattr(run, k) for k in ("sent", "applied", "duplicates", "conflicts",
                                         "rejected", "held", "pulled", "files_sent", "bytes_sent",
                                         "bytes_received")}


def sync_once(trigger: str = "manual", timeout: float | None = None, transport=None) -> "Summary":
    """Push then pull until up to date. Raises SyncError (with the run recorded) when
    it cannot finish; a run already going in this process raises too."""
    if not RUN_LOCK.acquire(blocking=False):
        raise SyncError("a sync is already running")
    try:
        return _run(trigger, timeout or current_app.config.get("SYNC_TIMEOUT", 30), transport)
    finally:
        RUN_LOCK.release()
        PROGRESS.phase = "idle"


def _run(trigger: str, timeout: float, transport) -> "Summary":
    settings = upstream()
    if settings is None:
        raise SyncError("no upstream set: flask upstream set --url URL --token TOKEN")
    run = SyncRun(trigger=trigger)
    db.session.add(run)
    settings.last_attempt_at = utcnow()
    db.session.commit()
    run_id, settings_id = run.id, settings.id
    link = Link(settings, timeout, transport)
    try:
        PROGRESS.phase, PROGRESS.figures = "connecting", {}
        hello = link.call("GET", "/hello")
        upstream_code = hello.get("server", {}).get("code", "upstream")
        PROGRESS.phase = "pushing"
        push(link, db.session.get(SyncRun, run_id), upstream_code)
        PROGRESS.phase = "sending files"
        send_files(link, db.session.get(SyncRun, run_id))
        PROGRESS.phase = "pulling"
        pull(link, db.session.get(SyncRun, run_id), settings_id, upstream_code)
        report(link)
    except SyncError as exc:
        link.close()
        db.session.rollback()
        _finish(run_id, settings_id, link, str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the caller
        link.close()
        db.session.rollback()
        _finish(run_id, settings_id, link, f"{type(exc).__name__}: {exc}")
        raise
    link.close()
    return _finish(run_id, settings_id, link, "")


def _finish(run_id: int, settings_id: int, link: Link, error: str) -> "Summary":
    run = db.session.get(SyncRun, run_id)
    settings = db.session.get(Upstream, settings_id)
    run.finished_at, run.error = utcnow(), error[:2000]
    run.bytes_sent, run.bytes_received = link.sent, link.received
    run.requests = link.requests
    if error:
        settings.last_error, settings.failures = error[:300], settings.failures + 1
    else:
        settings.last_success_at, settings.last_error, settings.failures = utcnow(), "", 0
    db.session.commit()
    return Summary(**_figures(run), requests=run.requests, error=run.error)
