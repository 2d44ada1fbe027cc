"""The sync protocol's wire format: version, limits, gzip JSON bodies, and an
operation's digest (what "the same operation" means)."""
import gzip
import hashlib
import json

PROTOCOL = 2  # 2: held operations, refusals not stored, reason codes, authority
MAX_BODY = 8 * 1024 * 1024          # bytes on the wire (compressed)
MAX_INFLATED = 64 * 1024 * 1024     # bytes after decompression
MAX_OPS = 500                        # operations in one push
BATCH_OPS = 500                      # what the client sends per request (= MAX_OPS; docs/benchmarks.md)
BATCH_BYTES = 1024 * 1024            # ... and at most this much JSON before compression
PULL_LIMIT = 500                     # changes in one pulled page
FILE_CHUNK = 1024 * 1024             # most bytes of a file per upload request
FILE_CHUNK_START = 64 * 1024        # the first chunk of a file (then paced: sync/pacing.py)
FILE_CHUNK_MIN = 16 * 1024          # the smallest chunk, however slow the link
MAX_FILE_CHUNK = 4 * 1024 * 1024
OP_KEYS = {"op_id", "type", "id", "action", "base_version", "version", "changed", "fields"}
ACTIONS = {"create", "update", "delete", "restore", "resolve"}


class WireError(ValueError):
    """A request body that cannot be read: malformed, too large, or the wrong protocol."""


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def pack(obj) -> bytes:
    return gzip.compress(dumps(obj), compresslevel=6)


def unpack(body: bytes, encoding: str | None) -> dict:
    if len(body) > MAX_BODY:
        raise WireError(f"body over {MAX_BODY} bytes")
    if encoding == "gzip":
        try:
            with gzip.GzipFile(fileobj=__import__("io").BytesIO(body)) as f:
                body = f.read(MAX_INFLATED + 1)
        except (OSError, EOFError) as exc:
            raise WireError("body is not valid gzip") from exc
        if len(body) > MAX_INFLATED:
            raise WireError(f"body inflates to over {MAX_INFLATED} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError("body is not JSON") from exc
    if not isinstance(data, dict):
        raise WireError("body is not a JSON object")
    return data


def digest(op: dict) -> str:
    """SHA-256 of the operation's canonical JSON: equal for a true repeat only."""
    return hashlib.sha256(dumps(op)).hexdigest()


def malformed(op) -> str | None:
    """Why an operation cannot even be considered, or None."""
    if not isinstance(op, dict):
        return "operation is not an object"
    missing = OP_KEYS - op.keys()
    if missing:
        return "missing " + ", ".join(sorted(missing))
    if not isinstance(op["op_id"], str) or not 1 <= len(op["op_id"]) <= 36:
        return "bad op_id"
    if not isinstance(op["type"], str):
        return "bad record type"
    if not isinstance(op["id"], str) or len(op["id"]) != 36:
        return "bad record id"
    if op["action"] not in ACTIONS:
        return "unknown action"
    if not isinstance(op["base_version"], int) or not isinstance(op["version"], int) \
            or isinstance(op["base_version"], bool) or not 0 <= op["base_version"] < 2**31 - 1 \
            or op["base_version"] < 0 or op["version"] != op["base_version"] + 1:
        return "bad versions"
    if not isinstance(op["fields"], dict) or not isinstance(op["changed"], list) \
            or not all(isinstance(k, str) for k in op["changed"]):
        return "bad fields"
    if not isinstance(op.get("resolves", False), bool):
        return "bad resolves flag"
    return None
