"""What sync keeps: downstream nodes enrolled here (``Peer``), where this node sends
its changes (``Upstream``), the operations applied from downstream (exactly once, by
``(node, op_id)``), conflicts waiting for a person, and the history of sync runs."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Peer(Base):
    """A downstream node enrolled on this (upstream) node, with its hashed token."""

    __tablename__ = "peer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_hint: Mapped[str] = mapped_column(String(8), default="")  # first characters, to tell tokens apart
    enrolled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    reported_pending: Mapped[int | None] = mapped_column(Integer)  # as the node last said
    reported_held: Mapped[int | None] = mapped_column(Integer)
    reported_refused: Mapped[int | None] = mapped_column(Integer)
    reported_version: Mapped[str] = mapped_column(String(40), default="")


class Upstream(Base):
    """Where this node syncs to (one row), and how far it has got."""

    __tablename__ = "upstream"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    # The token itself is not in the database: it is in the owner-only file
    # instance/upstream_token (app/sync/client.py), so a copy of the database alone cannot sync.
    pull_checkpoint: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)


class AppliedOperation(Base):
    """An operation a downstream node pushed and this node applied (or refused), with
    its result: a repeat gets the same answer, and is never applied twice."""

    __tablename__ = "applied_operation"

    node_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SyncConflict(Base):
    """Both sides changed the same fields of a record: both values are kept here until
    a person chooses. ``fields`` is {field: {"here": value, "there": value}}."""

    __tablename__ = "sync_conflict"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    fields: Mapped[dict] = mapped_column(JSON)
    deleted_there: Mapped[bool] = mapped_column(Boolean, default=False)
    other_node: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(80))


class SyncRun(Base):
    """One sync run's figures, for the sync page's history."""

    __tablename__ = "sync_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    trigger: Mapped[str] = mapped_column(String(16))  # manual, auto, cli
    sent: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    files_sent: Mapped[int] = mapped_column(Integer, default=0)
    bytes_sent: Mapped[int] = mapped_column(Integer, default=0)
    bytes_received: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class SentFile(Base):
    """A file the upstream is known to hold, so it is not offered again."""

    __tablename__ = "sent_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
