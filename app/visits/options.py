"""What the visit pages offer to choose from: the node's villages, stations, clusters,
commissioners and service targets, as (id, label) pairs.

The lists are the same for everyone on a node and change rarely, while the forms and the
list's filters show them on every view: they are read once and remembered until the data
changes (app/cache.py), as OptionLists whose ``<option>`` tags are rendered once too.
"""
from flask_login import current_user
from sqlalchemy.orm import aliased

from app import cache
from app.extensions import db
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station
from app.options import OptionList
from app.places.services import local_places
from app.security import scoped

_TOWNSHIP = aliased(Place, name="township")


def _remembered(name: str, read) -> OptionList:
    return cache.remembered((f"visit-options-{name}", current_user.node_code), read)


def villages() -> OptionList:
    """The villages of the node's counties, as people name them: township and village."""
    def read():
        rows = db.session.execute(
            local_places().with_only_columns(Place.id, Place.name, _TOWNSHIP.name)
            .join(_TOWNSHIP, _TOWNSHIP.id == Place.parent_id, isouter=True)
            .where(Place.level == "village").order_by(_TOWNSHIP.name, Place.name))
        return OptionList((vid, f"{town} {name}" if town else name) for vid, name, town in rows)
    return _remembered("villages", read)


def stations() -> OptionList:
    return _remembered("stations", lambda: OptionList(db.session.execute(
        scoped(Station).with_only_columns(Station.id, Station.name).order_by(Station.name))))


def clusters() -> OptionList:
    return _remembered("clusters", lambda: OptionList(db.session.execute(
        scoped(Cluster).with_only_columns(Cluster.id, Cluster.name).order_by(Cluster.sort_order))))


def commissioners() -> OptionList:
    """Commissioners by name; the label adds the specialty, which tells namesakes apart."""
    return _remembered("commissioners", lambda: OptionList(_people("commissioners")))


def targets() -> OptionList:
    """Service targets by name; the label adds their village."""
    return _remembered("targets", lambda: OptionList(_people("targets")))


def people(kind: str, ids=None) -> list[tuple[str, str]]:
    """(id, label) of the commissioners or of the targets in scope; only ``ids`` when given
    (read afresh: a picker's chosen few)."""
    if ids is None:
        return commissioners() if kind == "commissioners" else targets()
    return _people(kind, ids)


def _people(kind: str, ids=None) -> list[tuple[str, str]]:
    if kind == "commissioners":
        model = Commissioner
        stmt = scoped(Commissioner).with_only_columns(
            Commissioner.id, Commissioner.name, Commissioner.specialty).order_by(Commissioner.name)
    else:
        model = ServiceTarget
        stmt = scoped(ServiceTarget).with_only_columns(
            ServiceTarget.id, ServiceTarget.name, Place.name) \
            .join(Place, Place.id == ServiceTarget.village_id, isouter=True) \
            .order_by(ServiceTarget.name)
    if ids is not None:
        stmt = stmt.where(model.id.in_(ids))
    return [(rid, f"{name} · {extra}" if extra else name) for rid, name, extra in db.session.execute(stmt)]
