"""The declarative base and the mixins every record shares.

``Audited`` records get an audit entry for every write; ``Synced`` records are also
versioned, soft-deleted and entered in the sync outbox (see app/core/history.py, which fills
these columns in one place for every flush).
"""
import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, as a naive UTC datetime (how every timestamp is stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Audited:
    """A record whose every write leaves an audit entry. ``__audit_hidden__`` names
    fields whose values the audit must not keep (it records only that they changed)."""

    __audit_hidden__: tuple[str, ...] = ()
    __audit_skip__: tuple[str, ...] = ()
    __pii__: dict[str, str] = {}  # field: "phone" or "id_number", masked by role when shown


class Synced(Audited):
    """A record that travels upstream: UUID made where it is created, an integer version
    bumped on every change, who and when, the node it came from and the node it belongs
    to (``owner_node``, what queries are scoped by), and a soft delete."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    updated_by: Mapped[str | None] = mapped_column(String(80))
    origin_node: Mapped[str] = mapped_column(String(16), default="")
    owner_node: Mapped[str] = mapped_column(String(16), index=True, default="")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    field_versions: Mapped[dict] = mapped_column(JSON, default=dict)  # field: version last changed

    __audit_skip__ = ("version", "created_at", "updated_at", "created_by", "updated_by",
                      "origin_node", "field_versions")
    # Who authors each field (see app/sync/authority.py): every field is the owning
    # station's unless named here with the node level that authors it ("league",
    # "region"). The stamps (created_by, updated_by, origin_node) are the server's.
    __authored_above__: dict[str, str] = {}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
