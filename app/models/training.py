"""Training sessions (培训) and who came: a roster of attendees, or head counts by
category where no roster exists (kept on the session as one JSON field, so that the
counts travel and version as one fact)."""
from datetime import date

from sqlalchemy import JSON, Boolean, Column, Date, Float, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Synced

training_trainers = Table(
    "training_trainer", Base.metadata,
    Column("training_id", ForeignKey("training.id"), primary_key=True),
    Column("commissioner_id", ForeignKey("commissioner.id"), primary_key=True),
)


class Training(Synced, Base):
    """A training session organised by a station: planned, held or cancelled."""

    __tablename__ = "training"
    # Covers a list's cut of a deep page (its order, then its scope and deletion): the
    # database steps over thousands of sessions reading this index only.
    __table_args__ = (Index("ix_training_page_cut", "held_on", "id", "owner_node", "deleted_at"),)

    title: Mapped[str] = mapped_column(String(200), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float, default=0)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"), index=True)
    place_text: Mapped[str] = mapped_column(String(200), default="")  # where, when not a village
    mode: Mapped[str] = mapped_column(String(10), default="offline")
    station_id: Mapped[str | None] = mapped_column(ForeignKey("station.id"), index=True)
    outside_trainers: Mapped[str] = mapped_column(String(300), default="")  # names, 、-separated
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    content: Mapped[str] = mapped_column(Text, default="")
    trainer_of_trainers: Mapped[bool] = mapped_column(Boolean, default=False)  # 一级带一级
    status: Mapped[str] = mapped_column(String(12), default="planned", index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Head counts where no roster exists: {category code: people}, and three totals.
    head_counts: Mapped[dict] = mapped_column(JSON, default=dict)
    women_count: Mapped[int | None] = mapped_column(Integer)
    minority_count: Mapped[int | None] = mapped_column(Integer)
    poverty_count: Mapped[int | None] = mapped_column(Integer)

    village = relationship("Place")
    station = relationship("Station")
    cluster = relationship("Cluster")
    trainers = relationship("Commissioner", secondary=training_trainers,
                            order_by="Commissioner.name")

    def __str__(self) -> str:
        return self.title


class TrainingAttendee(Synced, Base):
    """One person on a session's roster, linked to a service target once a person
    confirmed that it is the same person."""

    __tablename__ = "training_attendee"
    __table_args__ = (
        Index("ix_training_attendee_category", "category", "training_id", "deleted_at"),
        # Covers a page's roster figures (people per session by category, sex, ethnicity,
        # poverty): the lines are counted from this index, not read from the table.
        Index("ix_training_attendee_figures", "training_id", "deleted_at", "category", "sex", "ethnicity",
              "poverty_alleviated"),
    )
    __pii__ = {"phone": "phone"}

    training_id: Mapped[str] = mapped_column(ForeignKey("training.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    sex: Mapped[str] = mapped_column(String(8), default="")
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    village_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"))
    village_text: Mapped[str] = mapped_column(String(100), default="")  # a village not on this node
    phone: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(20), default="farmer")
    poverty_alleviated: Mapped[bool] = mapped_column(Boolean, default=False)  # 脱贫户
    target_id: Mapped[str | None] = mapped_column(ForeignKey("service_target.id"), index=True)

    training = relationship("Training")
    village = relationship("Place")
    target = relationship("ServiceTarget")

    @property
    def village_name(self) -> str:
        return self.village.full_name if self.village else self.village_text

    def __str__(self) -> str:
        return self.name
