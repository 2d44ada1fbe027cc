"""Reference data: places, industry clusters, stations and their sites, industry
service teams. All of it is synced and scoped by ``owner_node``."""
from datetime import date

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Synced

station_clusters = Table(
    "station_cluster", Base.metadata,
    Column("station_id", ForeignKey("station.id"), primary_key=True),
    Column("cluster_id", ForeignKey("cluster.id"), primary_key=True),
)

team_members = Table(
    "team_member", Base.metadata,
    Column("team_id", ForeignKey("service_team.id"), primary_key=True),
    Column("commissioner_id", ForeignKey("commissioner.id"), primary_key=True),
)


def full_place_name(name: str, level: str, parent_name: str | None) -> str:
    """A place's name as people say it, from its columns and its parent's name: a village
    with its township (塔布赛乡 三两村), anything else by its own name. ``Place.full_name``
    and the lists that read places as plain columns both say it this way."""
    return f"{parent_name} {name}" if parent_name is not None and level == "village" else name


class Place(Synced, Base):
    """A place in the GB/T 2260 tree (region, league, county: shipped as data, the same
    UUID on every node) or below it (township, village: added per station)."""

    __tablename__ = "place"

    code: Mapped[str | None] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"), index=True)

    parent = relationship("Place", remote_side="Place.id")

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """A village with its township (塔布赛乡 三两村), as people say it."""
        return full_place_name(self.name, self.level, self.parent.name if self.parent else None)


class Cluster(Synced, Base):
    """One of the region's agri-pastoral industry clusters (产业集群)."""

    __tablename__ = "cluster"

    name: Mapped[str] = mapped_column(String(40))
    major: Mapped[bool] = mapped_column(Boolean, default=False)  # 千亿级
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.name


class Station(Synced, Base):
    """A commissioner workstation (专家工作站 or 基层工作站)."""

    __tablename__ = "station"
    __pii__ = {"contact_phone": "phone"}

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    host_org: Mapped[str] = mapped_column(String(100), default="")
    host_org_type: Mapped[str] = mapped_column(String(16), default="")
    county_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(40), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    established_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    county = relationship("Place")
    clusters = relationship("Cluster", secondary=station_clusters, order_by="Cluster.sort_order")
    sites = relationship("Site", back_populates="station", order_by="Site.name")

    def __str__(self) -> str:
        return self.name


class Site(Synced, Base):
    """A site under a station: trial station, industry base or service point."""

    __tablename__ = "site"

    station_id: Mapped[str] = mapped_column(ForeignKey("station.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    village_id: Mapped[str | None] = mapped_column(ForeignKey("place.id"))
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("cluster.id"))
    notes: Mapped[str] = mapped_column(Text, default="")

    station = relationship("Station", back_populates="sites")
    village = relationship("Place")
    cluster = relationship("Cluster")

    def __str__(self) -> str:
        return self.name


class ServiceTeam(Synced, Base):
    """An industry service team (产业服务团): commissioners around one cluster."""

    __tablename__ = "service_team"

    name: Mapped[str] = mapped_column(String(100))
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("cluster.id"))
    leader_id: Mapped[str | None] = mapped_column(ForeignKey("commissioner.id"))
    notes: Mapped[str] = mapped_column(Text, default="")

    cluster = relationship("Cluster")
    leader = relationship("Commissioner", foreign_keys=[leader_id])
    members = relationship("Commissioner", secondary=team_members, order_by="Commissioner.name")

    def __str__(self) -> str:
        return self.name
