"""Visit rules and writes: who may see and change which visits, what a valid visit is,
the human number, and saving a visit with its photos in one commit."""
import uuid
from datetime import date, datetime

from flask_login import current_user
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.sql import visitors

from app.core import attachments, files, records
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.node import subtree
from app.core.security import can, node_scoped, read_condition, scoped, writable
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station, Visit, utcnow
from app.models.visit import visit_commissioners, visit_targets
from app.places.services import local_places
from app.visits import vocab

LIMITS = {"location": 200, "problem": 2000, "action": 2000, "result": 2000,
          "technologies": 500, "varieties": 500}
# Inner Mongolia lies within about 37°–54° N and 97°–127° E.
LATITUDE, LONGITUDE = (37.0, 54.0), (97.0, 127.0)
MAX_COUNT = 100_000


def is_commissioner(user=None) -> bool:
    user = user or current_user
    return user.role == "commissioner"


def visible(user=None, deleted: bool | None = False, scope_tested: bool = False):
    """A select of the visits the user may see: their node's subtree (never another
    node's), narrowed by their role's read scope (app/core/security.py: a commissioner's
    own visits). ``deleted``: False the live ones, True the soft-deleted ones, None both.
    ``scope_tested`` (SQLite): the scope written on ``id || ''``, so that SQLite tests it
    on each visit it meets walking the list's date index, instead of starting from the
    commissioner's visits and sorting them all (listing.filtered's ``in_date_order``)."""
    user = user or current_user
    stmt = select(Visit).where(subtree(Visit.owner_node, user.node_code))
    if deleted is not None:
        stmt = stmt.where(Visit.deleted_at.is_not(None) if deleted else Visit.deleted_at.is_(None))
    condition = read_condition(Visit, user)
    if condition is not None and scope_tested:
        condition = visitors.replacement_traverse(condition, {}, _id_unindexed)
    return stmt if condition is None else stmt.where(condition)


def _id_unindexed(element):
    """``visit.id || ''`` for the visit's own id column (replacement_traverse)."""
    if getattr(element, "__visit_name__", None) == "column" and element.key == "id" \
            and getattr(element, "table", None) is Visit.__table__:
        return Visit.id.concat("")
    return None


# The places a visit's page names, loaded with it (its people: ``people_of``).
WHOLE_VISIT = (joinedload(Visit.station), joinedload(Visit.village).joinedload(Place.parent),
               joinedload(Visit.cluster))


def get(visit_id: str, *, include_deleted: bool = False, user=None) -> Visit | None:
    """One visit the user may see, or None (another node's visit is None too)."""
    stmt = visible(user, deleted=None if include_deleted else False)
    return db.session.scalar(stmt.where(Visit.id == visit_id).options(*WHOLE_VISIT))


def people_of(visit: Visit) -> dict:
    """{"commissioners": [(id, name)], "targets": [(id, name)]} of a visit, by name: one
    query read at once (database.rows_at_once), where loading both relations took two."""
    found = {"commissioners": [], "targets": []}
    stmt = union_all(
        select(literal("commissioners"), Commissioner.id, Commissioner.name)
        .join(visit_commissioners, visit_commissioners.c.commissioner_id == Commissioner.id)
        .where(visit_commissioners.c.visit_id == visit.id),
        select(literal("targets"), ServiceTarget.id, ServiceTarget.name)
        .join(visit_targets, visit_targets.c.target_id == ServiceTarget.id)
        .where(visit_targets.c.visit_id == visit.id))
    for kind, person_id, name in sorted(rows_at_once(db.session, stmt), key=lambda row: row[2]):
        found[kind].append((person_id, name))
    return found


def may_edit(visit: Visit, user=None) -> bool:
    """Staff edit their own node's visits; a commissioner only their own; a node above
    only reviews them (app/core/authority.py)."""
    user = user or current_user
    if visit.deleted_at is not None or not writable(visit, user):
        return False
    if is_commissioner(user):
        return any(c.id == user.commissioner_id for c in visit.commissioners)
    return can("edit_records", user)


def may_create(user=None) -> bool:
    user = user or current_user
    return can("edit_records", user) or (is_commissioner(user) and bool(user.commissioner_id))


def _in_scope(model, ids, user) -> list:
    if not ids:
        return []
    return db.session.scalars(scoped(model, user).where(model.id.in_(ids))).all()


def _village(village_id, user) -> Place | None:
    if not village_id:
        return None
    return db.session.scalar(local_places(user).where(Place.id == village_id,
                                                      Place.level == "village"))


def errors(data: dict, visit: Visit | None = None, user=None) -> dict:
    """{field: message} for everything that makes ``data`` an invalid visit. Related
    records must be ones the user's node may see; unknown ids are errors too."""
    user = user or current_user
    errors = {}
    day = data.get("visited_on")
    if not day:
        errors["visited_on"] = _l("Enter the date of the visit.")
    elif day > date.today():
        errors["visited_on"] = _l("The date cannot be in the future.")
    start, end = data.get("start_time"), data.get("end_time")
    if start and end and end <= start:
        errors["end_time"] = _l("The end must come after the start.")
    hours = data.get("hours")
    if hours is not None and not 0 <= hours <= 24:
        errors["hours"] = _l("Hours must be between 0 and 24.")
    lat, lon = data.get("latitude"), data.get("longitude")
    if (lat is None) != (lon is None):
        errors["latitude" if lat is None else "longitude"] = \
            _l("Enter both latitude and longitude, or neither.")
    if lat is not None and not LATITUDE[0] <= lat <= LATITUDE[1]:
        errors["latitude"] = _l("The latitude must lie in Inner Mongolia (37 to 54 degrees north).")
    if lon is not None and not LONGITUDE[0] <= lon <= LONGITUDE[1]:
        errors["longitude"] = _l("The longitude must lie in Inner Mongolia (97 to 127 degrees east).")
    for name, limit in LIMITS.items():
        if len(data.get(name) or "") > limit:
            errors[name] = _l("At most %(n)s characters.", n=limit)
    for name in ("technology_count", "variety_count", "people_reached"):
        value = data.get(name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            errors[name] = _l("Enter a number from 0 to %(n)s.", n=MAX_COUNT)
    commissioner_ids = list(dict.fromkeys(data.get("commissioner_ids") or []))
    # A commissioner reads only their own record but may log a visit made with colleagues.
    found = db.session.scalars(node_scoped(Commissioner, user).where(
        Commissioner.id.in_(commissioner_ids))).all() if commissioner_ids else []
    if not commissioner_ids:
        errors["commissioner_ids"] = _l("Choose at least one commissioner.")
    elif len(found) != len(commissioner_ids):
        errors["commissioner_ids"] = _l("Choose commissioners of this station only.")
    elif is_commissioner(user) and user.commissioner_id not in commissioner_ids:
        errors["commissioner_ids"] = _l("You must be one of the visit's commissioners.")
    target_ids = list(dict.fromkeys(data.get("target_ids") or []))
    if len(_in_scope(ServiceTarget, target_ids, user)) != len(target_ids):
        errors["target_ids"] = _l("Choose service targets of this station only.")
    if data.get("village_id") and _village(data["village_id"], user) is None:
        errors["village_id"] = _l("Choose a village of this station.")
    if data.get("station_id") and not _in_scope(Station, [data["station_id"]], user):
        errors["station_id"] = _l("Choose a station of this node.")
    if data.get("cluster_id") and not _in_scope(Cluster, [data["cluster_id"]], user):
        errors["cluster_id"] = _l("Choose an industry cluster from the list.")
    if data.get("stage") and data["stage"] not in vocab.STAGES:
        errors["stage"] = _l("Choose a production stage from the list.")
    if data.get("mode") not in vocab.MODES:
        errors["mode"] = _l("Choose how the service was given.")
    if any(code not in vocab.SERVICE_TYPES for code in data.get("service_types") or []):
        errors["service_types"] = _l("Choose service types from the list.")
    follow_on = data.get("follow_up_on")
    if follow_on and day and follow_on < day:
        errors["follow_up_on"] = _l("The follow-up cannot come before the visit.")
    if follow_on and not data.get("follow_up"):
        errors["follow_up"] = _l("Tick this if a follow-up is wanted, or clear its date.")
    return errors


rule_errors = errors  # its earlier name, which tests/test_visits.py still imports


def next_number(owner_node: str, year: int) -> tuple[int, str]:
    """The next sequence of ``owner_node`` in ``year`` and its human number, taken in the
    current transaction (records.allocate: writers at once never get the same one)."""
    def number(sequence: int) -> str:
        return f"{owner_node}-{year}-{sequence:05d}"

    def taken(sequence: int) -> bool:
        return db.session.scalar(select(Visit.id).where(
            Visit.owner_node == owner_node, Visit.number == number(sequence))) is not None

    def largest() -> int | None:
        return db.session.scalar(select(func.max(Visit.sequence)).where(
            Visit.owner_node == owner_node, Visit.year == year))

    sequence = records.allocate("visit", owner_node, year, taken, largest)
    return sequence, number(sequence)


def _values(data: dict, user) -> dict:
    """Form data as model attributes (ids resolved to records in scope)."""
    values = {k: v for k, v in data.items()
              if k not in ("commissioner_ids", "target_ids", "service_types")}
    values["commissioners"] = _in_scope(Commissioner, list(dict.fromkeys(data["commissioner_ids"])), user)
    values["targets"] = _in_scope(ServiceTarget, list(dict.fromkeys(data.get("target_ids") or [])), user)
    values["service_types"] = " ".join(c for c in vocab.SERVICE_TYPES if c in (data.get("service_types") or []))
    for name in ("village_id", "station_id", "cluster_id"):
        values[name] = values.get(name) or None
    if not values["station_id"] and values["commissioners"]:
        values["station_id"] = values["commissioners"][0].station_id
    for name in ("technology_count", "variety_count", "people_reached"):
        values[name] = values.get(name) or 0
    if values.get("hours") is None and data.get("start_time") and data.get("end_time"):
        start, end = data["start_time"], data["end_time"]
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        values["hours"] = round(minutes / 60, 1)
    for name in ("start_time", "end_time"):
        values[name] = values[name].strftime("%H:%M") if values.get(name) else ""
    if not values.get("follow_up"):
        values["follow_up_on"] = None
    return values


def photo_errors(photos) -> dict:
    """Check every upload before anything is written: {"photos": message} or {}. Each
    photo is decoded here once (within bounds); saving reuses what was made."""
    for upload in photos:
        try:
            attachments.prepare(upload, "photo")
        except attachments.AttachmentError as error:
            name = files.safe_filename(upload.filename)
            return {"photos": f"{name}: {error}" if name else str(error)}
    return {}


def already_saved(visit_id: str | None, user=None) -> Visit | None:
    """The live visit the user may see that a new-visit form with this ``visit_id`` has
    saved already (the same form sent twice), or None."""
    if not _is_uuid(visit_id):
        return None
    return get(visit_id, user=user)


def _is_uuid(value) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def save(visit: Visit | None, data: dict, photos=(), user=None, visit_id: str | None = None) -> Visit:
    """Create or update a visit and attach ``photos`` (werkzeug uploads), in one commit.
    The caller has checked ``errors`` and ``photo_errors``. A new visit gets the next
    number of its node and year (``next_number``: no two writers get the same), and the
    id its form proposed when that is a UUID no record has had (the same form sent twice
    at once: the second finds the first's visit)."""
    user = user or current_user
    if visit is None and _is_uuid(visit_id) and db.session.get(Visit, visit_id) is None:
        proposed = visit_id
    else:
        proposed = None
    values = _values(data, user)
    if visit is not None:
        records.apply(visit, values)
        _attach(visit, photos)
        db.session.commit()
        return visit
    for attempt in range(3):
        visit = Visit(id=proposed) if proposed else Visit()
        visit.owner_node = user.node_code
        visit.year = values["visited_on"].year
        visit.sequence, visit.number = next_number(visit.owner_node, visit.year)
        records.apply(visit, values)
        db.session.add(visit)
        _attach(visit, photos)
        try:
            db.session.commit()
            return visit
        except IntegrityError:
            db.session.rollback()
            twin = db.session.get(Visit, proposed) if proposed else None
            if twin is not None:  # the same form, sent twice at once: saved by the other
                return twin
            if attempt == 2:
                raise
            values = _values(data, user)
    raise AssertionError("unreachable")


def _attach(visit: Visit, photos) -> None:
    for upload in photos:
        attachments.add(visit, upload, kind="photo")


LAST_VILLAGE_LOOK = 50  # the user's newest visits looked at first for their last village


def last_village_id(user=None) -> str | None:
    """The village of the user's most recent visit (a default that saves typing).

    The user's newest visits come from the index (created_by, created_at) first, and
    only they are tested for what the user may see: a commissioner's read scope (their
    own visits, ``id IN (...)``) made SQLite read and sort every one of them instead
    (1,245 visits of the county's busiest: 10 ms a new-visit form). The whole question is
    asked only when none of the newest is visible and there may be older ones."""
    user = user or current_user
    newest = db.session.scalars(
        select(Visit.id).where(Visit.created_by == user.username, Visit.village_id.is_not(None))
        .order_by(Visit.created_at.desc()).limit(LAST_VILLAGE_LOOK)).all()
    stmt = visible(user).with_only_columns(Visit.village_id) \
        .where(Visit.created_by == user.username, Visit.village_id.is_not(None)) \
        .order_by(Visit.created_at.desc()).limit(1)
    found = db.session.scalar(stmt.where(Visit.id.in_(newest))) if newest else None
    if found is None and len(newest) == LAST_VILLAGE_LOOK:
        found = db.session.scalar(stmt)
    return found


def defaults(user=None) -> dict:
    """A new visit's starting values: today, the user's commissioner and station, the
    last village they used."""
    user = user or current_user
    values = {"visited_on": date.today(), "mode": "onsite",
              "village_id": last_village_id(user)}
    commissioner = user.commissioner if user.commissioner_id else None
    if commissioner is not None and commissioner.deleted_at is None:
        values["commissioner_ids"] = [commissioner.id]
        values["station_id"] = commissioner.station_id
    else:
        stations = db.session.scalars(scoped(Station, user).limit(2)).all()
        if len(stations) == 1:
            values["station_id"] = stations[0].id
    return values


def exif_hint(photos) -> dict:
    """The capture time and position of the first photo that has them (for pre-filling
    the visit when the user agrees): keys visited_on, start_time, latitude, longitude.
    The photos are read as they will be stored (within bounds); one that is refused gives
    no hint here, and ``photo_errors`` says why."""
    for upload in photos:
        try:
            meta = attachments.prepare(upload, "photo")
        except attachments.AttachmentError:
            continue
        taken, lat, lon = meta["taken_at"], meta["latitude"], meta["longitude"]
        hint = {}
        if isinstance(taken, datetime):
            hint.update(visited_on=taken.date(), start_time=taken.time().replace(second=0,
                                                                                 microsecond=0))
        if lat is not None and lon is not None:
            hint.update(latitude=round(lat, 6), longitude=round(lon, 6))
        if hint:
            return hint
    return {}


def review(visit: Visit, state: str, comment: str) -> Visit:
    """Record the league's review; it travels down to the station with the next sync."""
    return records.update(visit, {"review_state": state, "review_comment": comment.strip(),
                                  "reviewed_at": utcnow()})
