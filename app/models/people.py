"""The people the station serves with and serves: commissioners and service targets."""
from datetime import date

from sqlalchemy import Boolean, Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Synced

commissioner_clusters = Table(
    "commissioner_cluster", Base.metadata,
    Column("commissioner_id", ForeignKey("commissioner.id"), primary_key=True),
    Column("cluster_id", ForeignKey("cluster.id"), primary_key=True),
)

commissioner_villages = Table(
    "commissioner_village", Base.metadata,
    Column("commissioner_id", ForeignKey("commissioner.id"), primary_key=True),
    Column("place_id", ForeignKey("place.id"), primary_key=True),
)


class Commissioner(Synced, Base):
    """A science-and-technology commissioner (科技特派员): a person, a team or a legal
    entity, with its life cycle 认定 → 选派 → 退出."""

    __tablename__ = "commissioner"
    __pii__ = {"phone": "phone", "id_number": "id_number"}

    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="individual")
    sex: Mapped[str] = mapped_column(String(8), default="")
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    level: Mapped[str] = mapped_column(String(10), default="county")
    sending_org: Mapped[str] = mapped_column(String(100), default="")
    sending_org_type: Mapped[str] = mapped_column(String(16), default="")
    local_talent_kind: Mapped[str] = mapped_column(String(16), default="")
    specialty: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(40), default="")  # professional title, 职称
    three_areas_talent: Mapped[bool] = mapped_column(Boolean, default=False)
    hotline_expert: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_number: Mapped[str] = mapped_column(String(18), default="")
    station_id: Mapped[str | None] = mapped_column(ForeignKey("station.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="recognised")
    recognised_on: Mapped[date | None] = mapped_column(Date)
    dispatched_on: Mapped[date | None] = mapped_column(Date)
    exited_on: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[str] = mapped_column(String(200), default="")
    members_note: Mapped[str] = mapped_column(Text, default="")  # a team's members, a legal entity's people
    notes: Mapped[str] = mapped_column(Text, default="")

    station = relationship("Station")
    clusters = relationship("Cluster", secondary=commissioner_clusters, order_by="Cluster.sort_order")
    villages = relationship("Place", secondary=commissioner_villages, order_by="Place.name")

    def __str__(self) -> str:
        return self.name


class ServiceTarget(Synced, Base):
    """Whom a commissioner serves (服务对象): a household, co-op, enterprise, family farm
    or village collective, in a village of the station's county."""

    __tablename__ = "service_target"
    __pii__ = {"phone": "phone", "id_number": "id_number"}

    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    village_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_number: Mapped[str] = mapped_column(String(18), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")  # 统一社会信用代码
    poverty_alleviated: Mapped[bool] = mapped_column(Boolean, default=False)  # 脱贫户
    monitored: Mapped[bool] = mapped_column(Boolean, default=False)  # 监测户
    household_size: Mapped[int | None] = mapped_column()
    notes: Mapped[str] = mapped_column(Text, default="")

    village = relationship("Place")

    def __str__(self) -> str:
        return self.name
