"""Commissioner rules and writes: the life cycle 认定 → 选派 → 退出 lives here."""
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased, selectinload

from app.core import records
from app.core.database import AtOnce, NamesAtOnce
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import node_scoped, scoped
from app.models import Cluster, Commissioner, Place, Station
from app.models.people import commissioner_clusters, commissioner_villages
from app.models.reference import full_place_name

TRANSITIONS = {
    "recognised": {"recognised", "dispatched", "exited"},
    "dispatched": {"dispatched", "exited"},
    "exited": {"exited"},
}


def errors(data: dict, commissioner: Commissioner | None = None) -> dict:
    """{field: message} for what the rules do not allow: the life cycle (a change from
    the commissioner's current status), its dates, and the kind of local talent."""
    current_status = commissioner.status if commissioner is not None else None
    errors = {}
    status = data.get("status")
    if current_status and status not in TRANSITIONS.get(current_status, {status}):
        errors["status"] = _l("An exited commissioner cannot be recognised or dispatched again; "
                              "record them anew.") if current_status == "exited" else \
            _l("A dispatched commissioner can only stay dispatched or exit.")
    recognised, dispatched, exited = (data.get("recognised_on"), data.get("dispatched_on"),
                                      data.get("exited_on"))
    if status == "dispatched" and not dispatched:
        errors["dispatched_on"] = _l("Enter the date of dispatch.")
    if status == "exited":
        if not exited:
            errors["exited_on"] = _l("Enter the date of exit.")
        if not (data.get("exit_reason") or "").strip():
            errors["exit_reason"] = _l("Enter the reason for the exit.")
    if recognised and dispatched and dispatched < recognised:
        errors["dispatched_on"] = _l("Dispatch cannot come before recognition.")
    start = dispatched or recognised
    if exited and start and exited < start:
        errors["exited_on"] = _l("The exit cannot come before recognition or dispatch.")
    if exited and status != "exited":
        errors["exited_on"] = _l("Only an exited commissioner has an exit date.")
    if data.get("sending_org_type") == "local_talent" and not data.get("local_talent_kind"):
        errors["local_talent_kind"] = _l("Choose which kind of local talent.")
    return errors


def _related(model, ids) -> list:
    if not ids:
        return []
    return db.session.scalars(scoped(model).where(model.id.in_(ids))).all()


def save(commissioner: Commissioner | None, data: dict) -> Commissioner:
    """Create or update a commissioner from form data (ids for station, clusters, villages)."""
    data = dict(data)
    data["clusters"] = _related(Cluster, data.pop("cluster_ids", []))
    data["villages"] = _related(Place, data.pop("village_ids", []))
    station_id = data.get("station_id") or None
    station = db.session.scalar(scoped(Station).where(Station.id == station_id)) if station_id else None
    data["station_id"] = station.id if station else None
    if data.get("sending_org_type") != "local_talent":
        data["local_talent_kind"] = ""
    if commissioner is None:
        owner = station.owner_node if station else None
        return records.create(Commissioner(), data, owner_node=owner)
    return records.update(commissioner, data)


def search(q: str, limit: int = 20) -> list[Commissioner]:
    """Commissioners whose name, specialty or sending organisation contains ``q``, for the
    pickers (name and specialty): every commissioner of the node, as the visit form's
    co-commissioner picker offers them to a commissioner too (app/visits/options.py)."""
    stmt = node_scoped(Commissioner).order_by(Commissioner.name).limit(limit)
    if q:
        stmt = stmt.where(records.matching(q, Commissioner.name, Commissioner.specialty,
                                           Commissioner.sending_org))
    return db.session.scalars(stmt).all()


def filtered(args: dict):
    """The commissioners matching ``args`` in the list's order, with their clusters (for
    the export, which writes every page)."""
    return conditions(args).options(selectinload(Commissioner.clusters)).order_by(
        Commissioner.name, Commissioner.id)


def conditions(args: dict):
    """The list's select for the filters in ``args`` (the query string), unordered."""
    stmt = scoped(Commissioner, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, Commissioner.name, Commissioner.specialty,
                                           Commissioner.sending_org, Commissioner.phone))
    for key in ("kind", "level", "status", "sending_org_type", "station_id"):
        if args.get(key):
            stmt = stmt.where(getattr(Commissioner, key) == args[key])
    if args.get("cluster"):
        stmt = stmt.where(Commissioner.clusters.any(Cluster.id == args["cluster"]))
    if args.get("flag") == "three_areas":
        stmt = stmt.where(Commissioner.three_areas_talent.is_(True))
    elif args.get("flag") == "hotline":
        stmt = stmt.where(Commissioner.hotline_expert.is_(True))
    return stmt


# Built once: the names of the clusters of a list page's commissioners.
_CLUSTER_NAMES = NamesAtOnce(
    select(commissioner_clusters.c.commissioner_id, Cluster.name, Cluster.sort_order)
    .join(Cluster, Cluster.id == commissioner_clusters.c.cluster_id)
    .where(commissioner_clusters.c.commissioner_id.in_(bindparam("ids", expanding=True))))


def cluster_names(ids: list) -> dict[str, list[str]]:
    """{commissioner id: the names of their clusters, in the clusters' order} for a list
    page: one statement of three columns, not the clusters as records."""
    return _CLUSTER_NAMES.by_id(db.session, ids)



# Built once (database.AtOnce): the names a commissioner's page shows of their clusters
# and villages, each numbered in its relationship's order. Loading the villages as ORM
# places, then each village's township for its full name, took four queries and a
# millisecond.
_Township = aliased(Place, name="served_township")
_CLUSTERS = AtOnce(select(Cluster.name, func.row_number().over(order_by=Cluster.sort_order))
                   .join(commissioner_clusters, commissioner_clusters.c.cluster_id == Cluster.id)
                   .where(commissioner_clusters.c.commissioner_id == bindparam("commissioner_id")))
_VILLAGES = AtOnce(select(Place.name, Place.level, _Township.name,
                          func.row_number().over(order_by=Place.name))
                   .join(commissioner_villages, commissioner_villages.c.place_id == Place.id)
                   .outerjoin(_Township, _Township.id == Place.parent_id)
                   .where(commissioner_villages.c.commissioner_id == bindparam("commissioner_id")))


def served(commissioner_id: str) -> dict:
    """{"clusters": names, "villages": full names} of the commissioner's clusters and the
    villages they serve (a village with its township), in the order their lists keep."""
    clusters = [name for name, _n in sorted(_CLUSTERS.rows(db.session, commissioner_id=commissioner_id),
                                            key=lambda row: row[1])]
    villages = [full_place_name(name, level, township) for name, level, township, _n in sorted(
        _VILLAGES.rows(db.session, commissioner_id=commissioner_id), key=lambda row: row[3])]
    return {"clusters": clusters, "villages": villages}
