"""Content-addressed file storage: ``instance/files/ab/abcdef…`` holds the bytes whose
SHA-256 is ``abcdef…``. A file is written once, atomically, and never changed.

Files are found by their hash, never by the name they were sent with: that name is kept
only to show, reduced by ``safe_filename`` to a plain base name."""
import hashlib
import os
import re
import tempfile
import unicodedata

from flask import current_app

SHA = re.compile(r"^[0-9a-f]{64}$")
FILENAME_LIMIT = 120  # characters kept of a sent file name (the column holds 200)


def safe_filename(name: str | None, limit: int = FILENAME_LIMIT) -> str:
    """A sent file name reduced to what may be kept and shown: its last path component
    (``../../x.jpg`` and ``C:\\fakepath\\x.jpg`` are ``x.jpg``), without control or
    invisible formatting characters (a right-to-left override can disguise ``gpj.exe``),
    spaces collapsed, no leading dots, at most ``limit`` characters with the extension
    kept. Applying it twice changes nothing; "" when nothing is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = "".join(" " if unicodedata.category(c) == "Zs" or c in "\t\n\r\v\f" else c
                   for c in text if unicodedata.category(c)[0] != "C" or c in "\t\n\r\v\f")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = " ".join(text.split()).lstrip(". ").rstrip(" ")
    if len(text) > limit:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            text = stem[:limit - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            text = text[:limit].rstrip(" ")
    return text


def root() -> str:
    return os.path.join(current_app.instance_path, "files")


def path(sha256: str) -> str:
    if not SHA.match(sha256 or ""):
        raise ValueError("not a SHA-256 hex digest")
    return os.path.join(root(), sha256[:2], sha256)


def exists(sha256: str) -> bool:
    return SHA.match(sha256 or "") is not None and os.path.exists(path(sha256))


def _write_new(target: str, data: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, synced, renamed."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def store(data: bytes) -> str:
    """Keep the bytes; returns their SHA-256. Storing the same bytes again is a no-op."""
    sha256 = hashlib.sha256(data).hexdigest()
    target = path(sha256)
    if not os.path.exists(target):
        _write_new(target, data)
    return sha256


def derived_path(sha256: str, kind: str = "thumb") -> str:
    """Where this node keeps what it made itself from the stored file ``sha256`` (its
    thumbnail): ``files/derived/ab/abcdef….thumb``. Not content-addressed, never sent,
    not in backups (``app/backup`` takes only ``files/ab/…``): made again when missing."""
    path(sha256)  # validates the digest
    return os.path.join(root(), "derived", sha256[:2], f"{sha256}.{kind}")


def store_derived(sha256: str, data: bytes, kind: str = "thumb") -> str:
    """Keep what was made from ``sha256``; returns its path."""
    target = derived_path(sha256, kind)
    _write_new(target, data)
    return target


def read(sha256: str) -> bytes:
    with open(path(sha256), "rb") as f:
        return f.read()


def partial_path(sha256: str) -> str:
    path(sha256)  # validates the digest
    return os.path.join(root(), ".partial", sha256)


def received(sha256: str) -> int:
    """How many bytes of an incoming file have arrived so far."""
    try:
        return os.path.getsize(partial_path(sha256))
    except FileNotFoundError:
        return 0


def receive(sha256: str, offset: int, chunk: bytes, final: bool) -> str:
    """Append a chunk of an incoming file at ``offset``; on the final chunk check the
    whole file's SHA-256 and keep it. Returns "partial", "stored" or "mismatch"
    (the partial file is then dropped); raises ValueError for a wrong offset."""
    target = partial_path(sha256)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if offset != received(sha256):
        raise ValueError(received(sha256))
    with open(target, "ab") as f:
        f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    if not final:
        return "partial"
    with open(target, "rb") as f:
        data = f.read()
    os.unlink(target)
    if hashlib.sha256(data).hexdigest() != sha256:
        return "mismatch"
    store(data)
    return "stored"


def size_text(size: int) -> str:
    """A byte count as a person reads it: ``33554432`` → ``32 MB``, ``2048`` → ``2 KB``."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"
