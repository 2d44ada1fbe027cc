"""Station and site rules and writes: which counties and villages a node may choose,
what keeps a station from being deleted, and the node-scoped lists."""
from dataclasses import dataclass
from types import SimpleNamespace

from flask_login import current_user
from sqlalchemy import bindparam, func, select, true
from sqlalchemy.orm import joinedload

from app.core import records
from app.core.database import NamesAtOnce, rows_at_once
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import scoped, shown_phone
from app.models import Cluster, Commissioner, Place, Site, Station
from app.models.reference import station_clusters
from app.places.services import county_of_node


def county_options(user=None) -> list[Place]:
    """The counties the user's node may put a station in: a station node its own
    county; a league the counties under it; the region every county."""
    user = user or current_user
    if "-" in user.node_code:
        county = county_of_node(user.node_code)
        return [county] if county is not None else []
    return db.session.scalars(
        scoped(Place, user).where(Place.level == "county", Place.code.startswith(user.node_code))
        .order_by(Place.code)).all()


def _clusters(ids) -> list[Cluster]:
    if not ids:
        return []
    return db.session.scalars(scoped(Cluster).where(Cluster.id.in_(ids))).all()


def save_station(station: Station | None, data: dict) -> Station:
    """Create (owned by the user's node) or update a station from form data."""
    data = dict(data)
    data["clusters"] = _clusters(data.pop("cluster_ids", []))
    if station is None:
        return records.create(Station(), data)
    return records.update(station, data)


def live_sites(station: Station) -> list[Site]:
    """The station's live sites with their villages (and townships) and clusters."""
    return db.session.scalars(
        scoped(Site).where(Site.station_id == station.id).order_by(Site.name, Site.id)
        .options(joinedload(Site.village).joinedload(Place.parent), joinedload(Site.cluster))).all()


def deleted_sites(station: Station) -> list[Site]:
    return db.session.scalars(
        scoped(Site, deleted=True).where(Site.station_id == station.id).order_by(Site.name)).all()


@dataclass
class CommissionerLine:
    id: str
    name: str
    status: str
    specialty: str


def commissioners_of(station: Station) -> list[CommissionerLine]:
    """The station's commissioners as its page lists them (by name), read as plain columns
    at once: a county station has a hundred, and as ORM records they cost more than the
    rest of the page."""
    stmt = scoped(Commissioner).with_only_columns(
        Commissioner.id, Commissioner.name, Commissioner.status, Commissioner.specialty) \
        .where(Commissioner.station_id == station.id)
    return sorted((CommissionerLine(*row) for row in rows_at_once(db.session, stmt)),
                  key=lambda line: (line.name, line.id))


_CLUSTER_NAMES = NamesAtOnce(
    select(station_clusters.c.station_id, Cluster.name, Cluster.sort_order)
    .join(Cluster, Cluster.id == station_clusters.c.cluster_id)
    .where(station_clusters.c.station_id.in_(bindparam("ids", expanding=True))))


def cluster_names(station_ids) -> dict[str, list[str]]:
    """{station id: the names of its industry clusters, in the clusters' order} for the
    stations a page shows, read at once (loading each station's clusters took a query
    and a row of the database apiece)."""
    return _CLUSTER_NAMES.by_id(db.session, station_ids)


def delete_blockers(station: Station) -> list[str]:
    """Why the station cannot be deleted now (live sites or commissioners; empty when
    it can). Counts every live record that points at it, whoever owns it."""
    sites = db.session.scalar(select(func.count()).select_from(Site).where(
        Site.station_id == station.id, Site.deleted_at.is_(None)))
    people = db.session.scalar(select(func.count()).select_from(Commissioner).where(
        Commissioner.station_id == station.id, Commissioner.deleted_at.is_(None)))
    if sites or people:
        return [str(_l("%(name)s still has %(sites)s site(s) and %(people)s commissioner(s). "
                       "Delete the sites and move or delete the commissioners first.",
                       name=station.name, sites=sites, people=people))]
    return []


def filtered(args: dict):
    """The station list's select for the filters in ``args`` (the query string)."""
    stmt = scoped(Station, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, Station.name, Station.host_org))
    if args.get("kind"):
        stmt = stmt.where(Station.kind == args["kind"])
    if args.get("county"):
        stmt = stmt.where(Station.county_id == args["county"])
    if args.get("cluster"):
        stmt = stmt.where(Station.clusters.any(Cluster.id == args["cluster"]))
    return stmt.order_by(Station.name, Station.id)


def save_site(site: Site | None, data: dict, station: Station | None = None) -> Site:
    """Create a site under ``station`` (owned as the station is) or update one."""
    data = dict(data)
    for key, model, extra in (("village_id", Place, Place.level == "village"),
                              ("cluster_id", Cluster, true())):
        if data.get(key):  # only records this node may see (the form checks this too)
            data[key] = db.session.scalar(
                scoped(model).where(model.id == data[key], extra).with_only_columns(model.id))
    if site is None:
        data["station_id"] = station.id
        return records.create(Site(), data, owner_node=station.owner_node)
    return records.update(site, data)


def restore_site(site: Site) -> str | None:
    """Restore a deleted site, unless its station is deleted; returns why not."""
    if site.station.deleted_at is not None:
        return str(_l("Restore the station %(name)s first.", name=site.station.name))
    records.restore(site)
    return None


def masked_history(entries, phone_fields=("contact_phone",)) -> list:
    """Audit entries for display, with phone numbers masked as the user's role requires
    (copies: the stored entries are not touched)."""
    shown = []
    for entry in entries:
        changes = {}
        for name, values in (entry.changes or {}).items():
            if name in phone_fields:
                values = [shown_phone(v) if isinstance(v, str) else v for v in values]
            changes[name] = values
        shown.append(SimpleNamespace(action=entry.action, at=entry.at, actor=entry.actor,
                                     version=entry.version, changes=changes))
    return shown
