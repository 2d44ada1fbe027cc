"""Field visits (服务记录): who served whom, where, when, how, and what came of it.

A visit has a human number for paper, ``<station code>-<year>-<sequence>`` (for example
``150121-01-2026-00042``), unique per node. Its full-text search index (FTS5 on SQLite,
pg_trgm on PostgreSQL) lives outside the models: see app/visits/search.py.
"""
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Synced

visit_commissioners = Table(
    "visit_commissioner", Base.metadata,
    Column("visit_id", ForeignKey("visit.id"), primary_key=True),
    Column("commissioner_id", ForeignKey("commissioner.id"), primary_key=True),
    # A commissioner's visits read from the index alone (their read scope, their page).
    Index("ix_visit_commissioner_by_commissioner", "commissioner_id", "visit_id"),
)

visit_targets = Table(
    "visit_target", Base.metadata,
    Column("visit_id", ForeignKey("visit.id"), primary_key=True),
    Column("target_id", ForeignKey("service_target.id"), primary_key=True, index=True),
)


class Visit(Synced, Base):
    """One field visit (服务记录) by one or more commissioners."""

    __tablename__ = "visit"
    __audit_skip__ = Synced.__audit_skip__ + ("year", "sequence")  # the number says both
    __authored_above__ = {"review_state": "league", "review_comment": "league",
                          "reviewed_at": "league"}
    __table_args__ = (
        UniqueConstraint("owner_node", "number", name="uq_visit_owner_node_number"),
        # the list: one node's live visits by date (counts and keyset pages from the index)
        Index("ix_visit_list_by_date", "owner_node", "deleted_at", "visited_on", "id"),
        Index("ix_visit_list_by_update", "owner_node", "deleted_at", "updated_at", "id"),
        Index("ix_visit_created_by_created_at", "created_by", "created_at"),  # "last village"
    )

    number: Mapped[str] = mapped_column(String(32))  # 150121-01-2026-00042
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    # "HH:MM" text: times of day travel and audit as plain text
    start_time: Mapped[str] = mapped_column(String(5), default="")
    end_time: Mapped[str] = mapped_column(String(5), default="")
    hours: Mapped[float | None] = mapped_column(Float)
    station_id: Mapped[str | None] = mapped_column(ForeignKey("station.id"), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"), index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    stage: Mapped[str] = mapped_column(String(8), default="")  # pre / during / post
    service_types: Mapped[str] = mapped_column(String(200), default="")  # codes, space-separated
    mode: Mapped[str] = mapped_column(String(10), default="onsite")  # onsite / online / hotline
    problem: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    technologies: Mapped[str] = mapped_column(String(500), default="")
    technology_count: Mapped[int] = mapped_column(Integer, default=0)
    varieties: Mapped[str] = mapped_column(String(500), default="")
    variety_count: Mapped[int] = mapped_column(Integer, default=0)
    people_reached: Mapped[int] = mapped_column(Integer, default=0)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    # Review (审核) is set on the league server; a station shows it read-only.
    review_state: Mapped[str] = mapped_column(String(12), default="", index=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)

    station = relationship("Station")
    village = relationship("Place")
    cluster = relationship("Cluster")
    commissioners = relationship("Commissioner", secondary=visit_commissioners)
    targets = relationship("ServiceTarget", secondary=visit_targets)

    @property
    def service_type_list(self) -> list[str]:
        return self.service_types.split() if self.service_types else []

    def __str__(self) -> str:
        return self.number
