"""The audit trail and the sync outbox: both written in the same flush as the record."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, restore
    version: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field: [old, new]
    actor: Mapped[str] = mapped_column(String(80))
    node: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxEntry(Base):
    """A local change waiting to be sent upstream; removed only once the upstream says it
    is applied (or a conflict recorded). Until then it is pending, held (the upstream
    waits for a record it references) or refused (a person sends it again or discards it)."""

    __tablename__ = "outbox_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(16))
    base_version: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    changed: Mapped[list] = mapped_column(JSON, default=list)  # the fields this change set
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # the whole record after it
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolves_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)  # refused upstream: a person fixes it
    held_at: Mapped[datetime | None] = mapped_column(DateTime)  # waits upstream for a record it references
    reject_reason: Mapped[str | None] = mapped_column(String(300))  # the upstream's words, as sent
    problem: Mapped[dict | None] = mapped_column(JSON)  # {"code", "field", "ref_type", "ref_id"}


class ChangeLogEntry(Base):
    """This node's change sequence: what a downstream node pulls, in order of ``seq``.
    ``source_node`` is the node whose push caused the change (not sent back to it)."""

    __tablename__ = "change_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    owner_node: Mapped[str] = mapped_column(String(16), index=True)
    source_node: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
