"""Service target rules and writes: which fields fit which kind of target."""
from app.core import records
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import scoped
from app.models import Place, ServiceTarget

HOUSEHOLD = "household"


def errors(data: dict, target: ServiceTarget | None = None) -> dict:
    """{field: message} for fields that do not fit the kind of target: an ID number,
    the 脱贫户 / 监测户 flags and a household size only for a household, a unified
    social credit code only for an organisation."""
    errors = {}
    if data.get("kind") == HOUSEHOLD:
        if data.get("credit_code"):
            errors["credit_code"] = _l("A household has no unified social credit code.")
    else:
        if data.get("id_number"):
            errors["id_number"] = _l("Only a household has an ID number here; "
                                     "give the contact's phone instead.")
        for key in ("poverty_alleviated", "monitored"):
            if data.get(key):
                errors[key] = _l("Only a household can carry this flag.")
        if data.get("household_size"):
            errors["household_size"] = _l("Only a household has a household size.")
    return errors


def village_or_none(village_id: str | None) -> Place | None:
    """The node's village with this id, or None."""
    if not village_id:
        return None
    return db.session.scalar(scoped(Place).where(Place.id == village_id, Place.level == "village"))


def build(target: ServiceTarget | None, data: dict) -> ServiceTarget:
    """Apply form data to a target (a new one when ``target`` is None) without committing:
    the caller commits (one record from the form, or a whole import at once)."""
    data = dict(data)
    village = village_or_none(data.pop("village_id", None))
    data["village"] = village
    if data.get("kind") == HOUSEHOLD:
        data["credit_code"] = ""
    else:  # what only a household has (an ID number kept from before included)
        data.update(id_number="", poverty_alleviated=False, monitored=False, household_size=None)
    if target is None:
        target = ServiceTarget()
        records.apply(target, data)
        target.owner_node = village.owner_node if village else _own_node()
        db.session.add(target)
        return target
    records.apply(target, data)
    return target


def _own_node() -> str:
    from flask_login import current_user
    return current_user.node_code


def save(target: ServiceTarget | None, data: dict) -> ServiceTarget:
    """Create or update a target and commit (record, audit and outbox together)."""
    target = build(target, data)
    db.session.commit()
    return target


def search(q: str, limit: int = 20) -> list[ServiceTarget]:
    """Targets whose name, contact or phone contains ``q`` (for pickers)."""
    stmt = scoped(ServiceTarget).order_by(ServiceTarget.name, ServiceTarget.id).limit(limit)
    if q:
        stmt = stmt.where(records.matching(q, ServiceTarget.name, ServiceTarget.contact_name,
                                           ServiceTarget.phone))
    return db.session.scalars(stmt).all()


def filtered(args: dict):
    """The targets matching ``args`` in the list's order (for the export)."""
    return conditions(args).order_by(ServiceTarget.name, ServiceTarget.id)


def conditions(args: dict):
    """The list's select for the filters in ``args`` (the query string), unordered."""
    stmt = scoped(ServiceTarget, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, ServiceTarget.name, ServiceTarget.contact_name,
                                           ServiceTarget.phone))
    if args.get("kind"):
        stmt = stmt.where(ServiceTarget.kind == args["kind"])
    if args.get("village_id"):
        stmt = stmt.where(ServiceTarget.village_id == args["village_id"])
    if args.get("township_id"):
        stmt = stmt.where(ServiceTarget.village.has(Place.parent_id == args["township_id"]))
    if args.get("flag") == "poverty_alleviated":
        stmt = stmt.where(ServiceTarget.poverty_alleviated.is_(True))
    elif args.get("flag") == "monitored":
        stmt = stmt.where(ServiceTarget.monitored.is_(True))
    return stmt


