"""The sync API an upstream node serves to its downstream nodes (protocol v1).

Every call but the OpenAPI document needs ``Authorization: Bearer <token>`` and
``X-Kepai-Protocol: 1``; bodies are JSON, gzip-compressed both ways. See
docs/sync-protocol.md.
"""
import os

from flask import Blueprint, Response, current_app, g, request

from app.core import attachments, files
from app.core.extensions import csrf, db
from app.core.node import this_node
from app.models import utcnow
from app.sync import peers, rows, server, wire

bp = Blueprint("sync_api", __name__, url_prefix="/api/sync/v1")
csrf.exempt(bp)


def answer(body: dict, status: int = 200) -> Response:
    data = wire.pack(body)
    response = Response(data, status=status, mimetype="application/json")
    response.headers["Content-Encoding"] = "gzip"
    response.headers["X-Kepai-Protocol"] = str(wire.PROTOCOL)
    return response


def refuse(status: int, reason: str) -> Response:
    return answer({"error": reason}, status)


@bp.before_request
def authenticate():
    if request.endpoint == "sync_api.openapi":
        return None
    try:
        protocol = int(request.headers.get("X-Kepai-Protocol", "0"))
    except ValueError:
        protocol = 0
    if protocol != wire.PROTOCOL:
        return refuse(426, f"this server speaks sync protocol {wire.PROTOCOL}; "
                           f"the request spoke {protocol or 'none'}: upgrade the program")
    node = this_node()
    if node is None:
        return refuse(503, "this server is not set up (flask node init)")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    peer, why = peers.authenticate(token.strip() if scheme.lower() == "bearer" else "")
    if peer is None:
        return refuse(401, why)
    g.peer = peer
    g.actor = f"sync:{peer.code}"
    return None


def _body() -> dict:
    if request.content_length and request.content_length > wire.MAX_BODY:
        raise wire.WireError(f"body over {wire.MAX_BODY} bytes")
    return wire.unpack(request.get_data(cache=False), request.headers.get("Content-Encoding"))


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and 0 <= value < 2**31 else None


def _seen(pending=None, version=None, error=""):
    peer = g.peer
    peer.last_seen_at = utcnow()
    if _count(pending) is not None:
        peer.reported_pending = pending
    if version:
        peer.reported_version = str(version)[:40]
    peer.last_error = error[:300]
    db.session.commit()


@bp.get("/hello")
def hello():
    node = this_node()
    _seen()
    return answer({"protocol": wire.PROTOCOL, "server": {"code": node.code, "role": node.role,
                                                         "name": node.name},
                   "you": {"code": g.peer.code, "name": g.peer.name}})


@bp.post("/push")
def push():
    try:
        body = _body()
    except wire.WireError as exc:
        return refuse(413 if "over" in str(exc) else 400, str(exc))
    ops = body.get("ops")
    if not isinstance(ops, list):
        return refuse(400, "ops must be a list")
    if len(ops) > wire.MAX_OPS:
        return refuse(413, f"at most {wire.MAX_OPS} operations per push")
    with rows.paused_gc():  # a batch is thousands of short-lived rows (app/sync/rows.py)
        results = server.apply_batch(g.peer.code, ops)
    rejected = sum(r["status"] == "rejected" for r in results)
    _seen(body.get("pending"), body.get("version"),
          f"{rejected} operations rejected" if rejected else "")
    return answer({"results": results})


@bp.post("/report")
def report():
    """The node's own count of what is still waiting there (pending, held, refused),
    sent at the end of each sync run."""
    try:
        body = _body()
    except wire.WireError as exc:
        return refuse(400, str(exc))
    counts = {key: _count(body.get(key)) for key in ("pending", "held", "refused")}
    if None in counts.values():
        return refuse(400, "pending, held and refused must be counts")
    g.peer.reported_held, g.peer.reported_refused = counts["held"], counts["refused"]
    _seen(counts["pending"], body.get("version"), g.peer.last_error if counts["refused"] else "")
    return answer({"ok": True})


@bp.get("/changes")
def changes():
    after = request.args.get("after", "0")
    limit = request.args.get("limit", str(wire.PULL_LIMIT))
    if not (after.isascii() and after.isdigit() and len(after) <= 18) \
            or not (limit.isascii() and limit.isdigit() and len(limit) <= 4) \
            or not 1 <= int(limit) <= wire.PULL_LIMIT:
        return refuse(400, f"after must be a number from 0 to 10^18 and limit 1–{wire.PULL_LIMIT}")
    with rows.paused_gc():  # a page is thousands of short-lived dicts (app/sync/rows.py)
        page = server.changes_since(g.peer.code, int(after), int(limit))
        _seen()
        return answer(page)


def _file_allowed(sha256: str) -> bool:
    """A node may send only files of attachments that belong to it or below it. A
    thumbnail (``thumb_sha256``) is taken too: stations before thumbnails were made by the
    receiver still send theirs, and it is kept and shown."""
    from sqlalchemy import select

    from app.core.node import subtree
    from app.models import Attachment
    return db.session.scalar(select(Attachment.id).where(
        (Attachment.sha256 == sha256) | (Attachment.thumb_sha256 == sha256),
        subtree(Attachment.owner_node, g.peer.code)).limit(1)) is not None


@bp.get("/files/<sha256>")
def file_status(sha256: str):
    """Whether this node holds the file, and how much of a partial upload arrived."""
    if not files.SHA.match(sha256):
        return refuse(400, "not a SHA-256 digest")
    return answer({"present": files.exists(sha256), "received": files.received(sha256)})


@bp.put("/files/<sha256>")
def file_upload(sha256: str):
    """One chunk of a file, at ``offset``; ``final=1`` on the last. Resumable: after a
    broken connection the sender asks how much arrived and goes on from there."""
    if not files.SHA.match(sha256):
        return refuse(400, "not a SHA-256 digest")
    if not _file_allowed(sha256):
        return refuse(403, "no attachment of the sending node has this file")
    if files.exists(sha256):
        return answer({"present": True, "received": 0})
    offset = request.args.get("offset", "")
    if not (offset.isascii() and offset.isdigit() and len(offset) <= 12):
        return refuse(400, "offset must be a number")
    if (request.content_length or 0) > wire.MAX_FILE_CHUNK:
        return refuse(413, f"at most {wire.MAX_FILE_CHUNK} bytes per chunk")
    chunk = request.get_data(cache=False)
    try:
        outcome = files.receive(sha256, int(offset), chunk, request.args.get("final") == "1")
    except ValueError as exc:
        return refuse(409, f"expected offset {exc.args[0]}")
    if outcome == "mismatch":
        return refuse(422, "the file's content does not match its SHA-256; send it again")
    if outcome == "stored":
        _make_thumbnail(sha256)
    return answer({"present": outcome == "stored", "received": files.received(sha256)})


def _make_thumbnail(sha256: str) -> None:
    """A photo whole and checked: its thumbnail is made here (thumbnails are not sent).
    A failure costs only the moment: the page showing the photo makes it then."""
    try:
        attachments.photo_received(sha256)
    except Exception:  # noqa: BLE001 - the file is kept whatever happens to its thumbnail
        current_app.logger.exception("thumbnail of %s not made", sha256[:12])
        db.session.rollback()


@bp.get("/openapi.json")
def openapi():
    path = os.path.join(current_app.root_path, "sync", "openapi.json")
    with open(path, encoding="utf-8") as f:
        return Response(f.read(), mimetype="application/json")

