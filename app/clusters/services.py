"""Industry clusters: seeded with the region's eleven, then edited by league and region
admins (the list comes down to stations by sync)."""
from sqlalchemy import select

from app import records
from app.extensions import db
from app.models import Cluster
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


def save(cluster: Cluster | None, data: dict, owner_node: str) -> Cluster:
    if cluster is None:
        return records.create(Cluster(), data, owner_node=owner_node)
    return records.update(cluster, data)
