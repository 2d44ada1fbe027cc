"""Places: the GB/T 2260 tree shipped as data (app/data/gbt2260_15.csv), and the
townships and villages each station adds under its county."""
import csv
import os

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.core import cache, records, security
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.models import Commissioner, Place, ServiceTarget, Site, Station
from app.models.shipped import REGION_CODE, shipped_id

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "gbt2260_15.csv")


def shipped_rows() -> list[dict]:
    with open(DATA, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def county_exists(code: str) -> bool:
    return any(r["code"] == code and r["level"] == "county" for r in shipped_rows())


def load_shipped_places() -> int:
    """Insert or refresh the region, leagues and counties; returns how many changed."""
    existing = {p.id: p for p in db.session.scalars(
        select(Place).where(Place.level.in_(("region", "league", "county"))))}
    changed = 0
    for row in shipped_rows():
        place_id = shipped_id("place", row["code"])
        parent_id = shipped_id("place", row["parent_code"]) if row["parent_code"] else None
        place = existing.get(place_id)
        if place is None:
            db.session.add(Place(id=place_id, code=row["code"], name=row["name"],
                                 level=row["level"], parent_id=parent_id,
                                 owner_node=REGION_CODE, origin_node=REGION_CODE))
            db.session.flush()
            changed += 1
        elif (place.name, place.parent_id) != (row["name"], parent_id):
            place.name, place.parent_id = row["name"], parent_id
            changed += 1
    return changed


def county_of_node(node_code: str) -> Place | None:
    """The county a station node sits in (from the first six digits of its code)."""
    if "-" not in node_code:
        return None
    return db.session.get(Place, shipped_id("place", node_code[:6]))


# --- Townships and villages: scope, rules and writes -------------------------------

SHIPPED_LEVELS = ("region", "league", "county")
# Aliases made once: building one copies every column of Place, which costs more than
# the query it serves.
_COUNTY, _TOWNSHIP = aliased(Place, name="scope_county"), aliased(Place, name="scope_township")
_LISTED_TOWNSHIP = aliased(Place, name="listed_township")
LOCAL_LEVELS = ("township", "village")
PARENT_LEVEL = {"township": "county", "village": "township"}
CODE_LENGTH = {"county": 6, "township": 9, "village": 12}


def _user(user=None):
    return user or current_user


def county_prefix(user=None) -> str:
    """The start of the county codes a user may work under: a station's own county
    (``150121-01`` → ``150121``), a league's (``1501``) or the region's (``15``)."""
    return _user(user).node_code.split("-")[0]


def in_scope_condition(user=None):
    """A condition on Place: a township or village under one of the user's counties."""
    prefix = county_prefix(user)
    county, township = _COUNTY, _TOWNSHIP
    counties = select(county.id).where(county.level == "county", county.code.startswith(prefix))
    townships = select(township.id).where(township.level == "township",
                                          township.parent_id.in_(counties))
    return or_(and_(Place.level == "township", Place.parent_id.in_(counties)),
               and_(Place.level == "village", Place.parent_id.in_(townships)))


def county_of_place(place: Place) -> Place | None:
    """The county a place sits in (itself for a county; None above county level)."""
    while place is not None and place.level not in ("county", "league", "region"):
        place = place.parent
    return place if place is not None and place.level == "county" else None


def in_scope(place: Place, user=None) -> bool:
    """May the user see this place? Shipped levels: everyone; townships and villages:
    only under the user's counties."""
    if place.level in SHIPPED_LEVELS:
        return True
    county = county_of_place(place)
    return bool(county and county.code and county.code.startswith(county_prefix(user)))


# A place with its parents up to the region (a village has four), in one statement: its
# page names them all, and each loaded when asked for took a query apiece.
_WITH_ANCESTORS = (joinedload(Place.parent).joinedload(Place.parent).joinedload(Place.parent)
                   .joinedload(Place.parent),)


def get_or_404(record_id: str, *, include_deleted: bool = False, user=None) -> Place:
    place = security.get_or_404(Place, record_id, include_deleted=include_deleted, user=user,
                                options=_WITH_ANCESTORS)
    if not in_scope(place, user):
        abort(404)
    return place


def local_places(user=None, deleted: bool = False):
    """A select of the townships and villages the user may see."""
    return security.scoped(Place, user, deleted=deleted).where(in_scope_condition(user))


def counties(user=None) -> list[Place]:
    """The live counties the user may add townships under, by code."""
    stmt = security.scoped(Place, user).where(
        Place.level == "county", Place.code.startswith(county_prefix(user)))
    return db.session.scalars(stmt.order_by(Place.code)).all()


def townships(user=None, county_id: str | None = None) -> list[Place]:
    """The live townships the user may add villages under (of one county if given)."""
    stmt = local_places(user).where(Place.level == "township")
    if county_id:
        stmt = stmt.where(Place.parent_id == county_id)
    return db.session.scalars(stmt.options(selectinload(Place.parent))
                              .order_by(Place.parent_id, Place.name)).all()


def parent_options(level: str, user=None) -> list[Place]:
    """The places a new ``level`` place may hang under, for this user."""
    return counties(user) if level == "township" else townships(user)


def label(place: Place, with_county: bool = True) -> str:
    """A township as "name · county", a village as "name · township" (for pickers)."""
    if place.level in LOCAL_LEVELS and place.parent is not None and with_county:
        return f"{place.name} · {place.parent.name}"
    return place.name


def errors(data: dict, place: Place | None = None, level: str | None = None, user=None) -> dict:
    """{field: message} for a township or village (``level``, for a new one) that may
    not be saved as ``data``."""
    level = place.level if place is not None else level
    errors = {}
    parent_id = data.get("parent_id")
    parent = db.session.scalar(security.scoped(Place, user).where(Place.id == parent_id)) \
        if parent_id else None
    if parent is None or parent.level != PARENT_LEVEL[level] or not _may_use_parent(parent, user):
        errors["parent_id"] = _l("Choose one of your own banners or counties.") \
            if level == "township" else _l("Choose one of your own townships.")
        parent = None
    code = data.get("code")
    if code:
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            errors["code"] = _l("A township's statistical code has 9 digits.") \
                if level == "township" else _l("A village's statistical code has 12 digits.")
        elif parent is not None and _code_prefix(parent) and not code.startswith(_code_prefix(parent)):
            errors["code"] = _l("The code must start with %(prefix)s, the code of the place "
                                "it belongs to.", prefix=_code_prefix(parent))
        elif _taken(Place.code == code, place):
            errors["code"] = _l("This code is already used by another place.")
    name = data.get("name")
    if parent is not None and name and _taken(and_(Place.parent_id == parent.id,
                                                   Place.name == name), place):
        errors["name"] = _l("%(parent)s already has a place with this name.", parent=parent.name)
    return errors


def _may_use_parent(parent: Place, user=None) -> bool:
    if parent.level == "county":
        return bool(parent.code and parent.code.startswith(county_prefix(user)))
    return in_scope(parent, user)


def _code_prefix(parent: Place) -> str:
    """The code a child's code starts with: the parent's, or its county's."""
    if parent.code:
        return parent.code
    county = county_of_place(parent)
    return county.code if county and county.code else ""


def _taken(condition, place: Place | None) -> bool:
    """Is there another live place matching ``condition``?"""
    stmt = select(Place.id).where(condition, Place.deleted_at.is_(None))
    if place is not None:
        stmt = stmt.where(Place.id != place.id)
    return db.session.scalar(stmt.limit(1)) is not None


def save(place: Place | None, level: str, data: dict) -> Place:
    """Create or update a township or village (the caller has checked ``errors``)."""
    if place is None:
        return records.create(Place(level=level), data)
    return records.update(place, data)


def delete_blockers(place: Place) -> list[str]:
    """Why the place cannot be deleted (empty when it can): live places under it, or
    commissioners, service targets, sites or stations that use it (on any node)."""
    reasons = []
    children = _count(select(Place.id).where(Place.parent_id == place.id, Place.deleted_at.is_(None)))
    if children:
        reasons.append(_("It still has %(count)s places under it; delete or move them first.",
                         count=children))
    uses = (
        (select(Commissioner.id).where(Commissioner.villages.any(Place.id == place.id),
                                       Commissioner.deleted_at.is_(None)),
         _l("%(count)s commissioners serve it.")),
        (select(ServiceTarget.id).where(ServiceTarget.village_id == place.id,
                                        ServiceTarget.deleted_at.is_(None)),
         _l("%(count)s service targets are in it.")),
        (select(Site.id).where(Site.village_id == place.id, Site.deleted_at.is_(None)),
         _l("%(count)s sites are in it.")),
        (select(Station.id).where(Station.county_id == place.id, Station.deleted_at.is_(None)),
         _l("%(count)s stations are in it.")),
    )
    for stmt, message in uses:
        count = _count(stmt)
        if count:
            reasons.append(str(message) % {"count": count})
    return reasons


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def restore(place: Place) -> str | None:
    """Restore a deleted place; returns why not when its parent is gone or a live place
    under the same parent now has its name or code."""
    parent = place.parent
    if parent is not None and parent.deleted_at is not None:
        return _("Restore %(parent)s first: this place belongs to it.", parent=parent.name)
    if _taken(and_(Place.parent_id == place.parent_id, Place.name == place.name), place):
        return _("%(parent)s already has a place named %(name)s.",
                 parent=parent.name if parent else "", name=place.name)
    if place.code and _taken(Place.code == place.code, place):
        return _("Another place now uses the code %(code)s.", code=place.code)
    records.restore(place)
    return None


def ancestors_of(place: Place) -> list[Place]:
    """The parent chain, from the region down to the place's parent."""
    chain = []
    parent = place.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))


def children_of(place: Place, user=None) -> list[Place]:
    """The live places directly under ``place`` that the user may see."""
    if place.level in ("region", "league"):
        stmt = security.scoped(Place, user)
    else:
        stmt = local_places(user)
    return db.session.scalars(stmt.where(Place.parent_id == place.id)
                              .order_by(Place.code, Place.name)).all()


def may_add_under(place: Place, user=None) -> bool:
    """Can a township (under a county) or village (under a township) go here?"""
    return place.level in PARENT_LEVEL.values() and place.deleted_at is None \
        and _may_use_parent(place, user)


_ORDER_PARENT = aliased(Place, name="order_parent")  # made once: an alias copies every column


def conditions(args: dict, user=None) -> tuple:
    """The select of the places matching the filters in ``args``, unordered, and the
    list's order: by default the townships and villages under the user's counties, each
    village right after its township; ``level`` region/league/county lists the shipped
    rows instead, by code."""
    level = args.get("level")
    if level in SHIPPED_LEVELS:
        stmt = security.scoped(Place, user).where(Place.level == level)
        if args.get("show") == "deleted":
            stmt = stmt.where(false())
    else:
        stmt = local_places(user, deleted=args.get("show") == "deleted")
        if level in LOCAL_LEVELS:
            stmt = stmt.where(Place.level == level)
        township = _LISTED_TOWNSHIP
        if args.get("township"):
            stmt = stmt.where(Place.parent_id == args["township"])
        elif args.get("county"):
            stmt = stmt.where(or_(
                Place.parent_id == args["county"],
                Place.parent_id.in_(select(township.id).where(
                    township.parent_id == args["county"]))))
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, Place.name, Place.code))
    if level in SHIPPED_LEVELS:
        return stmt, (Place.code, Place.id)
    parent = _ORDER_PARENT
    group = case((Place.level == "township", Place.name), else_=parent.name)
    return (stmt.outerjoin(parent, Place.parent_id == parent.id),
            (group, Place.level, Place.name, Place.id))


def township_options(county_id: str, user=None) -> list[tuple[str, str]]:
    """(id, name) of the townships of ``county_id`` the user may add villages under, for
    the list's filter, remembered until the data changes (their ORM rows and counties
    took longer than the list's page)."""
    return cache.remembered(("place-townships", county_id, *security.reading_scope(user)),
                            lambda: [(t.id, t.name) for t in townships(user, county_id)])


def search(q: str, level: str = "village", user=None, limit: int = 20) -> list[Place]:
    """Places for a picker: live villages (or townships, or counties) in scope whose
    name or code contains ``q``."""
    if level == "county":
        stmt = security.scoped(Place, user).where(
            Place.level == "county", Place.code.startswith(county_prefix(user)))
    else:
        stmt = local_places(user).where(Place.level == (level if level in LOCAL_LEVELS
                                                        else "village"))
    if q:
        stmt = stmt.where(records.matching(q, Place.name, Place.code))
    return db.session.scalars(stmt.options(selectinload(Place.parent))
                              .order_by(Place.name, Place.id).limit(limit)).all()
