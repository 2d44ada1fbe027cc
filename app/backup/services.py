"""Backups and restores of a node: the database, the uploads and the few instance files
a restored node needs, with a manifest that lets any copy be checked.

A backup is a folder ``kepai-<UTC time>`` in the backup root (``BACKUP_DIR``, by default
``instance/backups``)::

    manifest.json          what the folder holds: table row counts, file checksums
    database.sqlite3       a station's database (SQLite's online backup API), or
    database.pgdump        a league's (``pg_dump --format=custom``)
    files/ab/abcdef…       the uploads, by SHA-256, as in ``instance/files``
    instance/upstream_token, instance/config.py   when the node has them

It is made in ``.incoming-…`` beside, verified (the copy opened, ``integrity_check``, row
counts and checksums equal to the manifest's) and only then renamed, so a folder with
the final name is always a whole, verified backup. The last ``BACKUP_KEEP`` are kept.
``status.json`` in the root records the last attempt for the backups page.

The database is copied while the node keeps running: on SQLite the row counts and the
copy come from one read transaction (one snapshot, writers not blocked under WAL); on
PostgreSQL from one exported snapshot that ``pg_dump --snapshot`` reads too. Everything
is created owner-only (folders 0700, files 0600): a backup holds the names, phones and
ID numbers of the people served.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy.engine import make_url

FORMAT = "kepai-backup/1"
MANIFEST = "manifest.json"
STATUS = "status.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
INSTANCE_FILES = ("upstream_token", "config.py")  # copied when present; never the secret key
NAME = re.compile(r"^kepai-\d{8}T\d{6}Z(-\d+)?$")
CHUNK = 1024 * 1024
STALE_INCOMING = 24 * 3600  # seconds after which an unfinished backup folder is removed

_lock = threading.Lock()  # one backup at a time in this process


class BackupError(Exception):
    """A backup or restore that could not be done. ``kind`` says which step failed
    (the page words it in the user's language); the message is one line for the CLI."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# --- places ---------------------------------------------------------------------------

def default_root() -> str:
    return os.path.abspath(current_app.config.get("BACKUP_DIR")
                           or os.path.join(current_app.instance_path, "backups"))


def files_root() -> str:
    from app.core import files
    return files.root()


def dialect() -> str:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def sqlite_path() -> str:
    """The SQLite database file this node uses."""
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database or database == ":memory:":
        raise BackupError("config", "the database is in memory: nothing to back up")
    return os.path.abspath(database)


def _pg_command_env() -> tuple[str, dict]:
    """The libpq address of this node's PostgreSQL database (password left out) and an
    environment carrying the password, so that it never shows in a process list."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, env


# --- owner-only files -----------------------------------------------------------------

def _private_dir(path: str) -> None:
    """Make the folder, and any missing folder above it, owner-only (0700)."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.exists(parent):
        _private_dir(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    os.chmod(path, 0o700)


def _private_file(path: str):
    """A new file open for writing, readable by its owner only."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _write_json(path: str, data: dict) -> None:
    """Write JSON atomically (a temporary file renamed over the old one), owner-only."""
    folder = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _read_json(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_private(source: str, target: str) -> str:
    """Copy a file to a new owner-only file; returns the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, _private_file(target) as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """A manifest's UTC time as a naive UTC datetime (as templates format them)."""
    try:
        return datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


# --- the database: counts, copies, checks ---------------------------------------------

def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    """Every ordinary table (FTS shadow tables included; virtual tables, whose contents
    live in those, left out)."""
    return [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in _sqlite_tables(connection)}


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _sqlite_backup(source_path: str, target_path: str) -> tuple[dict[str, int], str | None]:
    """Copy the live database with SQLite's online backup API. The row counts are read
    in the same read transaction as the copy, so they describe exactly what was copied
    (every write committed before it began, none after). Under WAL the node's writers go
    on meanwhile. The copy is left as one self-contained file (rollback journal)."""
    if not os.path.exists(source_path):
        raise BackupError("database", f"no database file at {source_path}")
    source = sqlite3.connect(source_path, isolation_level=None, timeout=30)
    with _private_file(target_path):
        pass  # sqlite3 takes an empty file as a new database; this one is owner-only
    target = sqlite3.connect(target_path, isolation_level=None)
    try:
        source.execute("BEGIN")
        counts = _sqlite_counts(source)  # also starts the read transaction's snapshot
        revision = _sqlite_revision(source)
        source.backup(target)
        source.execute("COMMIT")
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        target.close()
    return counts, revision


def _sqlite_check(path: str) -> dict[str, int]:
    """Open a database file, run ``PRAGMA integrity_check`` (it only reads); its row counts."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise BackupError("verify", "integrity_check: " + "; ".join(result[:3]))
        return _sqlite_counts(connection)
    except sqlite3.DatabaseError as exc:
        raise BackupError("verify", f"the database copy cannot be read: {exc}") from exc
    finally:
        connection.close()


def _pg_connect():
    import psycopg
    address, env = _pg_command_env()
    return psycopg.connect(address, password=env.get("PGPASSWORD"), autocommit=True)


def _pg_counts(connection) -> dict[str, int]:
    from psycopg import sql
    names = [name for (name,) in connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")]
    return {name: connection.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(name))).fetchone()[0] for name in names}


def _pg_revision(connection) -> str | None:
    exists = connection.execute("SELECT to_regclass('alembic_version')").fetchone()[0]
    if not exists:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _run(command: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool; its failure becomes one line naming the tool's complaint."""
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError("tool", f"{command[0]} is not installed (PostgreSQL client tools)") from exc
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise BackupError("tool", f"{what} failed: {lines[0] if lines else result.returncode}")
    return result


def _pg_backup(target_path: str) -> tuple[dict[str, int], str | None]:
    """``pg_dump --format=custom`` of one exported snapshot, the row counts read in that
    same snapshot."""
    address, env = _pg_command_env()
    with _pg_connect() as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = _pg_counts(connection)
        revision = _pg_revision(connection)
        with _private_file(target_path):
            pass
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-owner",
              "--no-privileges", f"--file={target_path}", f"--dbname={address}"], env, "pg_dump")
        connection.execute("COMMIT")
    os.chmod(target_path, 0o600)
    return counts, revision


COPY_LINE = re.compile(r'^COPY (?:"?([^". ]+)"?\.)?"?([^" (]+)"? \(')


def _pg_archive_counts(path: str) -> dict[str, int]:
    """The rows per table in a custom-format archive, read back through ``pg_restore``
    (which checks and decompresses every block): the SQL it writes holds each table's
    rows one a line between ``COPY … FROM stdin;`` and ``\\.``."""
    env = dict(os.environ)
    try:
        process = subprocess.Popen(["pg_restore", "--data-only", "--file=-", path], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise BackupError("tool", "pg_restore is not installed (PostgreSQL client tools)") from exc
    counts, table = {}, None
    for raw in process.stdout:
        if table is None:
            if raw.startswith(b"COPY "):
                match = COPY_LINE.match(raw.decode("utf-8", "replace"))
                table = match.group(2) if match else "?"
                if match and match.group(1) not in (None, "public"):
                    table = f"{match.group(1)}.{table}"  # another schema: not counted
                counts[table] = 0
        elif raw == b"\\.\n":
            table = None
        else:
            counts[table] += 1
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
        raise BackupError("verify", "pg_restore cannot read the archive: "
                          + (error.splitlines()[0] if error else "?"))
    return {name: count for name, count in counts.items() if "." not in name}


def _compare_counts(expected: dict, found: dict, what: str) -> None:
    """Raise unless every table holds the rows the manifest says (a table absent from a
    PostgreSQL archive's data is an empty one)."""
    wrong = [f"{name} {found.get(name, 0)} not {count}" for name, count in sorted(expected.items())
             if found.get(name, 0) != count]
    wrong += [f"{name} not in the manifest" for name in sorted(set(found) - set(expected))
              if found[name]]
    if wrong:
        raise BackupError("verify", f"{what}: row counts differ from the manifest: "
                          + ", ".join(wrong[:5]))


# --- uploads and instance files -------------------------------------------------------

def _uploads(root: str) -> Iterator[tuple[str, str]]:
    """(SHA-256, path) of every stored upload under ``root`` (files/ab/abcdef…);
    unfinished ones (``.partial``, ``.incoming-…``) are not uploads yet."""
    from app.core.files import SHA
    if not os.path.isdir(root):
        return
    for prefix in sorted(os.listdir(root)):
        folder = os.path.join(root, prefix)
        if len(prefix) != 2 or not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if SHA.match(name) and name.startswith(prefix):
                yield name, os.path.join(folder, name)


def _place_upload(sha: str, source: str, target: str, earlier: list[str]) -> int:
    """Put one upload into a backup: a hard link to the same file in an earlier backup
    when there is one (files never change, so unchanged uploads cost no space), else a
    copy. Either way its checksum is read and must be its name. Returns its size."""
    _private_dir(os.path.dirname(target))
    for folder in earlier:
        previous = os.path.join(folder, "files", sha[:2], sha)
        if os.path.isfile(previous):
            try:
                os.link(previous, target)
            except OSError:
                continue  # another file system (USB stick) or no links on it: copy
            if sha256_of(target) == sha:
                return os.path.getsize(target)
            os.unlink(target)
    if _copy_private(source, target) != sha:
        os.unlink(target)
        raise BackupError("files", f"the upload {sha[:12]}… is damaged (its content does "
                          "not match its checksum)")
    return os.path.getsize(target)


# --- listing, status, keeping the last N ------------------------------------------------

def backups(root: str) -> list[dict]:
    """The finished backups in ``root``, newest first, each its manifest plus ``path``,
    ``name`` and ``created`` (a naive UTC datetime)."""
    found = []
    if not os.path.isdir(root):
        return found
    for name in sorted(os.listdir(root), reverse=True):
        path = os.path.join(root, name)
        manifest = _read_json(os.path.join(path, MANIFEST)) if NAME.match(name) else None
        if manifest and manifest.get("format") == FORMAT:
            found.append({**manifest, "path": path, "name": name,
                          "created": parse_time(manifest.get("created_at"))})
    return found


def latest(root: str | None = None) -> dict | None:
    found = backups(root or default_root())
    return found[0] if found else None


def status(root: str | None = None) -> dict | None:
    """The last attempt recorded in the root (``status.json``), with naive UTC datetimes."""
    data = _read_json(os.path.join(root or default_root(), STATUS))
    if data:
        data["started"] = parse_time(data.get("started_at"))
        data["finished"] = parse_time(data.get("finished_at"))
    return data


def prune(root: str, keep: int) -> list[str]:
    """Keep the newest ``keep`` backups in ``root``; remove older ones and unfinished
    folders left by a backup that was interrupted long ago. Returns what was removed.
    Only folders this program made are touched."""
    keep = max(1, int(keep))
    removed = []
    for entry in backups(root)[keep:]:
        _remove_tree(entry["path"])
        removed.append(entry["name"])
    for name in os.listdir(root) if os.path.isdir(root) else ():
        path = os.path.join(root, name)
        if name.startswith(".incoming-") and time.time() - os.path.getmtime(path) > STALE_INCOMING:
            _remove_tree(path)
    return removed


def _new_name(root: str, moment: datetime) -> str:
    base = "kepai-" + moment.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while os.path.exists(os.path.join(root, name)):
        n += 1
        name = f"{base}-{n}"
    return name


# --- making a backup ------------------------------------------------------------------

def make(root: str | None = None, trigger: str = "cli", copy: bool | None = None) -> dict:
    """Make, verify and keep one backup in ``root`` (default: the backup root), keep the
    last ``BACKUP_KEEP`` there, and copy it to ``BACKUP_COPY_TO`` when set (and
    ``copy`` is not False). Returns the new backup's manifest with ``path`` (and
    ``copy``, the copy's outcome). Records the attempt in the root's status file either
    way; raises BackupError when no verified backup was made."""
    root = os.path.abspath(root or default_root())
    if copy is None:
        copy = root == default_root()
    if not _lock.acquire(blocking=False):
        raise BackupError("busy", "a backup is already being made")
    started = _now()
    record = {"started_at": _iso(started), "trigger": trigger, "ok": False}
    try:
        try:
            _private_dir(root)
        except OSError as exc:
            raise BackupError("space", f"cannot make the backup folder {root}: {exc.strerror}") from exc
        try:
            manifest = _make(root, started)
        except BackupError as exc:
            record.update(kind=exc.kind, error=str(exc))
            raise
        except OSError as exc:
            record.update(kind="space", error=f"{exc.strerror or exc}: {exc.filename or ''}".strip(": "))
            raise BackupError("space", record["error"]) from exc
        except Exception as exc:  # noqa: BLE001 - any failure is reported, never a 500
            current_app.logger.exception("backup failed")
            record.update(kind="other", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
            raise BackupError("other", record["error"]) from exc
        record.update(ok=True, name=manifest["name"], size=manifest["size"],
                      seconds=manifest["seconds"])
        prune(root, current_app.config.get("BACKUP_KEEP", 14))
        destination = current_app.config.get("BACKUP_COPY_TO")
        if copy and destination:
            record["copy"] = manifest["copy"] = copy_to(manifest["path"], destination)
        return manifest
    finally:
        record["finished_at"] = _iso(_now())
        try:
            _write_json(os.path.join(root, STATUS), record)
        except OSError:
            pass  # the root itself is unwritable: the error was raised already
        _lock.release()


def _make(root: str, started: datetime) -> dict:
    clock = time.monotonic()
    name = _new_name(root, started)
    incoming = os.path.join(root, f".incoming-{name}")
    _private_dir(incoming)
    try:
        kind = dialect()
        if kind == "sqlite":
            database_file = SQLITE_FILE
            counts, revision = _sqlite_backup(sqlite_path(), os.path.join(incoming, SQLITE_FILE))
        elif kind == "postgresql":
            database_file = PG_FILE
            counts, revision = _pg_backup(os.path.join(incoming, PG_FILE))
        else:
            raise BackupError("config", f"backups of a {kind} database are not supported")
        earlier = [entry["path"] for entry in backups(root)[:1]]
        uploads = {}
        for sha, source in _uploads(files_root()):
            try:
                uploads[sha] = _place_upload(sha, source, os.path.join(incoming, "files", sha[:2], sha),
                                             earlier)
            except FileNotFoundError:
                continue  # removed while we copied: the database no longer needs it
        extras = {}
        for extra in INSTANCE_FILES:
            source = os.path.join(current_app.instance_path, extra)
            if os.path.isfile(source):
                _private_dir(os.path.join(incoming, "instance"))
                extras[extra] = _copy_private(source, os.path.join(incoming, "instance", extra))
        database_path = os.path.join(incoming, database_file)
        node = _node()
        manifest = {
            "format": FORMAT, "created_at": _iso(started),
            "program_version": _program_version(), "node": node,
            "database": {"dialect": kind, "file": database_file, "revision": revision,
                         "sha256": sha256_of(database_path),
                         "size": os.path.getsize(database_path)},
            "tables": counts, "files": uploads, "instance": extras,
        }
        _write_json(os.path.join(incoming, MANIFEST), manifest)
        verify(incoming)
        final = os.path.join(root, name)
        os.rename(incoming, final)
    except BaseException:
        _remove_tree(incoming)
        raise
    size = folder_size(final)
    return {**manifest, "path": final, "name": name, "size": size,
            "seconds": round(time.monotonic() - clock, 2)}


def _node() -> dict | None:
    from app.core.node import this_node
    try:
        node = this_node()
    except Exception:  # noqa: BLE001 - an uninitialised or unreachable node: say so in the manifest
        return None
    return {"role": node.role, "code": node.code, "name": node.name} if node else None


def _program_version() -> str:
    from app.core.version import __version__
    return __version__


def folder_size(path: str) -> int:
    total = 0
    for folder, _dirs, names in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, name)) for name in names)
    return total


def verify(path: str) -> dict:
    """Check a backup folder against its manifest: the database copy opens, passes its
    integrity check (SQLite) or reads back whole (PostgreSQL archive), holds the rows
    the manifest counts; every upload and instance file is there with its checksum.
    Returns the manifest; raises BackupError naming the first thing that is wrong."""
    manifest = _read_json(os.path.join(path, MANIFEST))
    if not manifest or manifest.get("format") != FORMAT:
        raise BackupError("verify", f"{path} is not a Kepai backup (no readable {MANIFEST})")
    database = manifest.get("database") or {}
    database_path = os.path.join(path, str(database.get("file", "")))
    if database.get("file") not in (SQLITE_FILE, PG_FILE) or not os.path.isfile(database_path):
        raise BackupError("verify", "the backup has no database file")
    if sha256_of(database_path) != database.get("sha256"):
        raise BackupError("verify", "the database file's checksum differs from the manifest")
    if database["file"] == SQLITE_FILE:
        found = _sqlite_check(database_path)
    else:
        found = _pg_archive_counts(database_path)
    _compare_counts(manifest.get("tables") or {}, found, "the backup")
    for sha, size in (manifest.get("files") or {}).items():
        upload = os.path.join(path, "files", sha[:2], sha)
        if not os.path.isfile(upload) or os.path.getsize(upload) != size or sha256_of(upload) != sha:
            raise BackupError("verify", f"the upload {sha[:12]}… is missing or damaged")
    for name, sha in (manifest.get("instance") or {}).items():
        extra = os.path.join(path, "instance", name)
        if name not in INSTANCE_FILES or not os.path.isfile(extra) or sha256_of(extra) != sha:
            raise BackupError("verify", f"instance/{name} is missing or damaged")
    return manifest


def copy_to(backup_path: str, destination: str) -> dict:
    """Copy a finished backup into ``destination`` (a USB stick's folder), verify the
    copy, keep the last ``BACKUP_KEEP`` there. The folder must exist already: a stick
    that is not plugged in is reported, not replaced by a folder on the laptop's disk.
    Returns ``{"to", "ok", "error"}``; never raises."""
    destination = os.path.abspath(destination)
    outcome = {"to": destination, "ok": False, "error": None}
    if not os.path.isdir(destination):
        outcome["error"] = f"{destination} does not exist (is the USB stick plugged in?)"
        return outcome
    name = os.path.basename(backup_path)
    incoming = os.path.join(destination, f".incoming-{name}")
    try:
        earlier = [entry["path"] for entry in backups(destination)[:1]]
        _remove_tree(incoming)
        _private_dir(incoming)
        for folder, _dirs, names in os.walk(backup_path):
            relative = os.path.relpath(folder, backup_path)
            target_folder = os.path.normpath(os.path.join(incoming, relative))
            _private_dir(target_folder)
            for file_name in names:
                source, target = os.path.join(folder, file_name), os.path.join(target_folder, file_name)
                if relative.split(os.sep)[0] == "files":
                    _place_upload(file_name, source, target, earlier)
                else:
                    _copy_private(source, target)
        verify(incoming)
        os.rename(incoming, os.path.join(destination, name))
        prune(destination, current_app.config.get("BACKUP_KEEP", 14))
        outcome["ok"] = True
    except (BackupError, OSError) as exc:
        _remove_tree(incoming)
        outcome["error"] = str(exc)
    return outcome


def due(root: str | None = None) -> bool:
    """Is a scheduled backup due? When none was made in the last ``BACKUP_EVERY_HOURS``
    (24), and the last attempt, if it failed, was over an hour ago (no retry every
    minute while the disk is full)."""
    root = root or default_root()
    hours = float(current_app.config.get("BACKUP_EVERY_HOURS", 24))
    now = datetime.now(UTC).replace(tzinfo=None)
    newest = latest(root)
    if newest and newest["created"] and (now - newest["created"]).total_seconds() < hours * 3600:
        return False
    last = status(root)
    if last and not last.get("ok") and last.get("started") and \
            (now - last["started"]).total_seconds() < 3600:
        return False
    return True


# --- restoring ------------------------------------------------------------------------

def instance_empty() -> bool:
    """Does this node hold nothing yet? True when no table of the program holds a row
    (a database just made by ``flask db upgrade`` is empty) and no upload is stored.
    The secret key, settings and backups do not count."""
    from sqlalchemy import func, inspect, select

    from app.core.extensions import db
    if dialect() == "sqlite" and not os.path.exists(sqlite_path()):
        tables = []
    else:
        tables = set(inspect(db.engine).get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name in tables and db.session.scalar(select(func.count()).select_from(table)):
            db.session.rollback()
            return False
    db.session.rollback()
    return next(_uploads(files_root()), None) is None


def known_revision(revision: str | None) -> bool:
    """Is this database revision one of this program's migrations (so that ``flask db
    upgrade`` can bring a restored database up to date)?"""
    if revision is None:
        return True
    try:
        return _migrations().get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        return False


def head_revision() -> str | None:
    return _migrations().get_current_head()


def unpack(archive: str) -> tuple[str, str]:
    """Unpack a downloaded backup (.zip) into a private temporary folder inside the
    instance folder; returns that folder (for the caller to remove) and the backup
    folder in it."""
    if not zipfile.is_zipfile(archive):
        raise BackupError("verify", f"{archive} is not a zip file")
    work = tempfile.mkdtemp(prefix=".restore-", dir=current_app.instance_path)
    os.chmod(work, 0o700)
    try:
        return work, _unpack_into(archive, work)
    except BaseException:
        _remove_tree(work)
        raise


def _unpack_into(archive: str, work: str) -> str:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = info.filename.split("/")
            if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                raise BackupError("verify", f"{archive} holds an unsafe path: {info.filename}")
            target = os.path.join(work, *parts)
            if info.is_dir():
                _private_dir(target)
                continue
            _private_dir(os.path.dirname(target))
            with zf.open(info) as src, _private_file(target) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    inside = [name for name in os.listdir(work) if os.path.isfile(os.path.join(work, name, MANIFEST))]
    if os.path.isfile(os.path.join(work, MANIFEST)):
        return work
    if len(inside) != 1:
        raise BackupError("verify", f"{archive} holds no Kepai backup")
    return os.path.join(work, inside[0])


def restore(path: str, force: bool = False) -> dict:
    """Restore the backup in folder (or .zip) ``path`` into this node: refuse unless this
    instance is empty or ``force``; check the backup first; then put back the database,
    the uploads and the instance files, and check the result against the manifest.
    Returns the manifest (with ``upgrade_needed``); raises BackupError."""
    path = os.path.abspath(path)
    work = None
    if os.path.isfile(path):
        work, path = unpack(path)
    elif not os.path.isdir(path):
        raise BackupError("verify", f"{path} does not exist")
    try:
        manifest = verify(path)
        database = manifest["database"]
        kind = dialect()
        if database["dialect"] != kind:
            raise BackupError("verify", f"this is a {database['dialect']} backup; this node's "
                              f"database is {kind}")
        if not known_revision(database.get("revision")):
            raise BackupError("version", f"the backup was made by a newer version of the program "
                              f"(database revision {database['revision']}); install it first")
        if not force and not instance_empty():
            raise BackupError("not_empty", "this node already holds data; restore into an "
                              "empty instance, or add --force to overwrite it")
        from app.core.extensions import db
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            _sqlite_restore(os.path.join(path, SQLITE_FILE), sqlite_path())
            found = _sqlite_check(sqlite_path())
        else:
            _pg_restore(os.path.join(path, PG_FILE))
            with _pg_connect() as connection:
                found = _pg_counts(connection)
        _compare_counts(manifest.get("tables") or {}, found, "the restored database")
        for sha in manifest.get("files") or {}:
            target = os.path.join(files_root(), sha[:2], sha)
            if os.path.isfile(target) and sha256_of(target) == sha:
                continue
            _private_dir(os.path.dirname(target))
            temporary = target + ".restoring"
            if os.path.exists(temporary):
                os.unlink(temporary)
            if _copy_private(os.path.join(path, "files", sha[:2], sha), temporary) != sha:
                raise BackupError("verify", f"the upload {sha[:12]}… changed while restoring")
            os.replace(temporary, target)
        for name in manifest.get("instance") or {}:
            target = os.path.join(current_app.instance_path, name)
            if name == "config.py" and os.path.exists(target):
                continue  # this machine's own settings stay
            temporary = target + ".restoring"
            if os.path.exists(temporary):
                os.unlink(temporary)
            _copy_private(os.path.join(path, "instance", name), temporary)
            os.replace(temporary, target)
        db.engine.dispose()
        return {**manifest, "upgrade_needed": database.get("revision") not in (None, head_revision())}
    finally:
        if work:
            _remove_tree(work)


def _sqlite_restore(backup_file: str, target_path: str) -> None:
    """Write the backup into the node's database file with the backup API (which replaces
    the whole database, WAL included, under an exclusive lock), owner-only."""
    if not os.path.exists(target_path):
        os.makedirs(os.path.dirname(target_path), exist_ok=True)
        with _private_file(target_path):
            pass
    os.chmod(target_path, 0o600)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, isolation_level=None, timeout=30)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:
        raise BackupError("busy", f"cannot write the database ({exc}); stop the station "
                          "first") from exc
    finally:
        source.close()
        target.close()


def _pg_restore(archive: str) -> None:
    """``pg_restore`` into this node's database in one transaction; tables already
    there (``flask db upgrade`` made them, or ``--force``) are dropped first."""
    address, env = _pg_command_env()
    with _pg_connect() as connection:
        has_tables = bool(_pg_counts(connection))
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
               "--single-transaction", f"--dbname={address}"]
    if has_tables:
        command += ["--clean", "--if-exists"]
    _run(command + [archive], env, "pg_restore")


# --- the download ---------------------------------------------------------------------

class _Sink:
    """A write-only stream that hands what was written to a generator (zipfile writes a
    zip to a stream it cannot seek with data descriptors)."""

    def __init__(self):
        self.parts = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_stream(backup_path: str) -> Iterator[bytes]:
    """A backup folder as a zip, made while it is sent (nothing is held in memory or
    written to disk). The database and manifest are compressed; uploads (photos, PDFs,
    already compressed) are stored as they are."""
    name = os.path.basename(backup_path)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:
        for folder, dirs, names in os.walk(backup_path):
            dirs.sort()
            for file_name in sorted(names):
                full = os.path.join(folder, file_name)
                relative = os.path.relpath(full, backup_path).replace(os.sep, "/")
                info = zipfile.ZipInfo.from_file(full, arcname=f"{name}/{relative}")
                info.compress_type = zipfile.ZIP_STORED if relative.startswith("files/") \
                    else zipfile.ZIP_DEFLATED
                with open(full, "rb") as src, zf.open(info, "w") as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
                        if sink.parts:
                            yield sink.take()
                yield sink.take()
    yield sink.take()


def _migrations():
    """The program's migration scripts (to tell which schema a backup was made with)."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory(os.path.join(os.path.dirname(current_app.root_path), "migrations"))
