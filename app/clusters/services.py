"""Industry clusters: seeded with the region's eleven, then edited by league and region
admins (the list comes down to stations by sync)."""
from flask_login import current_user
from sqlalchemy import func, select

from app.core import records
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.security import scoped
from app.models import Cluster, Commissioner, ServiceTeam, Site, Station
from app.models.shipped import REGION_CODE, shipped_id

SHIPPED_CLUSTERS = [  # (name, 千亿级)
    ("奶业", True), ("玉米", True), ("肉羊", False), ("肉牛", False), ("羊绒", False),
    ("马铃薯", False), ("小麦", False), ("杂粮杂豆", False), ("向日葵", False),
    ("蔬菜", False), ("饲草", False),
]


def load_shipped_clusters() -> int:
    """Add any of the eleven shipped clusters that this node does not have yet."""
    have = set(db.session.scalars(select(Cluster.id)))
    added = 0
    for order, (name, major) in enumerate(SHIPPED_CLUSTERS, start=1):
        cluster_id = shipped_id("cluster", name)
        if cluster_id not in have:
            db.session.add(Cluster(id=cluster_id, name=name, major=major, sort_order=order * 10,
                                   owner_node=REGION_CODE, origin_node=REGION_CODE))
            added += 1
    db.session.flush()
    return added


def save(cluster: Cluster | None, data: dict) -> Cluster:
    """Create a cluster owned by the user's node, or update one (checked by ``errors``)."""
    if cluster is None:
        return records.create(Cluster(), data, owner_node=current_user.node_code)
    return records.update(cluster, data)


def errors(data: dict, cluster: Cluster | None = None) -> dict:
    """{field: message}: the name must be unique among the live clusters this node sees."""
    stmt = scoped(Cluster).where(Cluster.name == data.get("name"))
    if cluster is not None:
        stmt = stmt.where(Cluster.id != cluster.id)
    if db.session.scalar(stmt.limit(1)) is not None:
        return {"name": _l("There is already a cluster with this name.")}
    return {}


def filtered(args: dict):
    """The list's select: search by name or description, 千亿级 only, or the deleted."""
    stmt = scoped(Cluster, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, Cluster.name, Cluster.description))
    if args.get("major") == "1":
        stmt = stmt.where(Cluster.major.is_(True))
    return stmt.order_by(Cluster.sort_order, Cluster.name, Cluster.id)


def delete_blockers(cluster: Cluster) -> list[str]:
    """Why the cluster cannot be deleted: live commissioners, stations, sites or service
    teams still name it (on any node)."""
    uses = (
        (select(Commissioner.id).where(Commissioner.clusters.any(Cluster.id == cluster.id),
                                       Commissioner.deleted_at.is_(None)),
         _l("%(count)s commissioners work in it.")),
        (select(Station.id).where(Station.clusters.any(Cluster.id == cluster.id),
                                  Station.deleted_at.is_(None)),
         _l("%(count)s stations serve it.")),
        (select(Site.id).where(Site.cluster_id == cluster.id, Site.deleted_at.is_(None)),
         _l("%(count)s sites belong to it.")),
        (select(ServiceTeam.id).where(ServiceTeam.cluster_id == cluster.id,
                                      ServiceTeam.deleted_at.is_(None)),
         _l("%(count)s service teams are built around it.")),
    )
    reasons = []
    for stmt, message in uses:
        count = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        if count:
            reasons.append(str(message) % {"count": count})
    return reasons


def restore(cluster: Cluster) -> str | None:
    """Restore a deleted cluster, unless a live one now has its name; returns why not."""
    if errors({"name": cluster.name}, cluster):
        return _("There is already a cluster named %(name)s.", name=cluster.name)
    records.restore(cluster)
    return None
