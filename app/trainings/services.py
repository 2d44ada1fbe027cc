"""Training rules and writes: hours, dates, places, head counts and the roster, and how
they must agree. Views call these; they never write."""
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from app.core import records
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import scoped
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station, Training, TrainingAttendee
from app.trainings import figures
from app.trainings.vocab import CATEGORIES

MAX_HOURS = 24
_Township = aliased(Place, name="choice_township")  # made once: an alias copies every column


# Sessions


def errors(data: dict, training: Training | None = None) -> dict:
    """{field: message} for a session the rules refuse."""
    errors = {}
    hours = data.get("hours")
    if hours is not None and not 0 < hours <= MAX_HOURS:
        errors["hours"] = _l("Hours must be more than 0 and at most 24.")
    held_on = data.get("held_on")
    if data.get("status") == "held" and held_on and held_on > date.today():
        errors["held_on"] = _l("A session in the future cannot have been held yet: "
                               "mark it as planned.")
    if data.get("mode") in ("offline", "mixed") and not data.get("village_id") \
            and not (data.get("place_text") or "").strip():
        errors["place_text"] = _l("Choose the village or write where the session takes place.")
    return errors


def _related(model, ids) -> list:
    if not ids:
        return []
    return db.session.scalars(scoped(model).where(model.id.in_(ids))).all()


def _one(model, record_id, **where):
    if not record_id:
        return None
    stmt = scoped(model).where(model.id == record_id)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def save(training: Training | None, data: dict) -> Training:
    """Create or update a session from form data (ids for village, station, cluster,
    trainers) and commit. A new session belongs to its organising station's node."""
    data = dict(data)
    data["trainers"] = _related(Commissioner, data.pop("trainer_ids", []))
    village = _one(Place, data.pop("village_id", None), level="village")
    station = _one(Station, data.pop("station_id", None))
    cluster = _one(Cluster, data.pop("cluster_id", None))
    data.update(village=village, station=station, cluster=cluster)
    if training is None:
        return records.create(Training(head_counts={}), data,
                              owner_node=station.owner_node if station else None)
    return records.update(training, data)


ORDER = (Training.held_on.desc(), Training.id)  # the list's order, newest first


def filtered(args: dict):
    """The list's select for the filters in ``args`` (the query string), sessions with
    their relations loaded, in the list's order (for exports)."""
    return conditions(args).options(
        selectinload(Training.trainers), selectinload(Training.village).selectinload(Place.parent),
        selectinload(Training.cluster), selectinload(Training.station)).order_by(*ORDER)


def conditions(args: dict):
    """The select of the sessions matching the filters in ``args``, unordered."""
    stmt = scoped(Training, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching_all(q, Training.title, Training.content))
    if args.get("date_from"):
        stmt = stmt.where(Training.held_on >= date.fromisoformat(args["date_from"]))
    if args.get("date_to"):
        stmt = stmt.where(Training.held_on <= date.fromisoformat(args["date_to"]))
    for key in ("mode", "status", "station_id", "cluster_id"):
        if args.get(key):
            stmt = stmt.where(getattr(Training, key) == args[key])
    if args.get("trainer"):
        stmt = stmt.where(Training.trainers.any(Commissioner.id == args["trainer"]))
    if args.get("tot") == "1":
        stmt = stmt.where(Training.trainer_of_trainers.is_(True))
    category = args.get("category")
    if category in CATEGORIES:
        # EXISTS, not IN a list: a page stops asking once it is full (bench/training_category.py)
        on_roster = select(TrainingAttendee.id).where(
            TrainingAttendee.training_id == Training.id, TrainingAttendee.category == category,
            TrainingAttendee.deleted_at.is_(None)).exists()
        stmt = stmt.where(or_(on_roster, Training.head_counts[category].as_integer() > 0))
    return stmt


def parse_args(raw: dict) -> dict:
    """The list filters worth keeping from a query string (bad dates dropped)."""
    keys = ("q", "date_from", "date_to", "trainer", "cluster_id", "mode", "status",
            "category", "station_id", "tot", "show")
    args = {k: v for k, v in raw.items() if k in keys and v}
    for key in ("date_from", "date_to"):
        if key in args:
            try:
                date.fromisoformat(args[key])
            except ValueError:
                args.pop(key)
    return args


# Head counts


def count_errors(training: Training, counts: dict, extra: dict) -> dict:
    """{field: message} for head counts: none negative, totals within the head count,
    and in agreement with the roster when the session has one."""
    errors = {}
    for category, people in counts.items():
        if people is not None and people < 0:
            errors[f"count_{category}"] = _l("A head count cannot be negative.")
    for key, people in extra.items():
        if people is not None and people < 0:
            errors[key] = _l("A head count cannot be negative.")
    if errors:
        return errors
    total = sum(n for n in counts.values() if n)
    for key, people in extra.items():
        if people and people > total:
            errors[key] = _l("This is more than all the people counted above (%(total)s).",
                             total=total)
    if errors:
        return errors
    roster = figures.from_roster(attendees(training))
    if roster.source == "roster" and any(n is not None for n in [*counts.values(), *extra.values()]):
        probe = Training(head_counts={c: n for c, n in counts.items() if n}, **extra)
        for what, _said, listed in figures.disagreements(roster, probe):
            name = f"count_{what}" if what in CATEGORIES else what
            errors[name] = _l("The roster lists %(listed)s here: head counts and roster "
                              "must agree (or leave the counts empty).", listed=listed)
    return errors


def save_counts(training: Training, counts: dict, extra: dict) -> None:
    records.update(training, {"head_counts": {c: n for c, n in counts.items() if n},
                              **extra})


# The roster


def attendees(training: Training) -> list[TrainingAttendee]:
    return db.session.scalars(
        select(TrainingAttendee).where(TrainingAttendee.training_id == training.id,
                                       TrainingAttendee.deleted_at.is_(None))
        .options(selectinload(TrainingAttendee.village).selectinload(Place.parent),
                 selectinload(TrainingAttendee.target))
        .order_by(TrainingAttendee.created_at, TrainingAttendee.name, TrainingAttendee.id)).all()


def _same_person(a: dict, b) -> bool:
    """Two roster entries for one person: the same name, and the same phone (or, when
    either has none, the same village)."""
    get = (lambda k: getattr(b, k)) if not isinstance(b, dict) else b.get
    if (a.get("name") or "").strip() != (get("name") or "").strip():
        return False
    if a.get("phone") and get("phone"):
        return a["phone"] == get("phone")
    return (a.get("village_id") or a.get("village_text") or "") == \
        (get("village_id") or get("village_text") or "")


def roster_errors(training: Training, rows: list[dict], replacing=None, removing=None) -> list:
    """Messages for a roster change (rows added, ``replacing`` edited, ``removing``
    taken off): a person listed twice, or a roster that would disagree with the
    session's head counts."""
    current = [a for a in attendees(training) if a is not removing]
    kept = [a for a in current if a is not replacing]
    problems = []
    if rows and replacing is None and future_problem(training):
        problems.append(future_problem(training))
    for row in rows:
        if any(_same_person(row, a) for a in kept):
            problems.append(_l("%(name)s is already on the roster.", name=row.get("name")))
    if figures.has_counts(training):
        probe = [_Probe(a.category, a.sex, a.ethnicity, a.poverty_alleviated) for a in kept]
        probe += [_Probe(r["category"], r.get("sex", ""), r.get("ethnicity", ""),
                         bool(r.get("poverty_alleviated"))) for r in rows]
        differ = figures.disagreements(figures.from_roster(probe), training)
        if differ:
            problems.append(_l("The session has head counts, and the roster would then "
                               "disagree with them (%(what)s). Correct or clear the head "
                               "counts first: head counts and roster must agree.",
                               what=describe(differ)))
    return problems


class _Probe:
    def __init__(self, category, sex, ethnicity, poverty_alleviated):
        self.category, self.sex, self.ethnicity = category, sex, ethnicity
        self.poverty_alleviated = poverty_alleviated


def describe(differences) -> str:
    """Disagreements as text: 农牧民 30 ≠ 28, …"""
    from app.trainings.vocab import CATEGORIES as names
    extra = {"women_count": _l("Women"), "minority_count": _l("Ethnic minorities"),
             "poverty_count": _l("Lifted out of poverty")}
    return "; ".join(f"{names.get(what) or extra.get(what) or what}: {said} ≠ {listed}"
                     for what, said, listed in differences)


def _attendee_data(data: dict) -> dict:
    data = dict(data)
    village = _one(Place, data.pop("village_id", None), level="village")
    data["village"] = village
    if village:
        data["village_text"] = ""
    return data


def add_attendee(training: Training, data: dict) -> TrainingAttendee:
    attendee = TrainingAttendee(training_id=training.id)
    return records.create(attendee, _attendee_data(data), owner_node=training.owner_node)


def update_attendee(attendee: TrainingAttendee, data: dict) -> TrainingAttendee:
    return records.update(attendee, _attendee_data(data))


def remove_attendee(attendee: TrainingAttendee) -> None:
    records.soft_delete(attendee)


def attendee_of(training: Training, attendee_id: str) -> TrainingAttendee | None:
    return db.session.scalar(select(TrainingAttendee).where(
        TrainingAttendee.id == attendee_id, TrainingAttendee.training_id == training.id,
        TrainingAttendee.deleted_at.is_(None)))


# Linking an attendee to a service target (suggested, never silent)


def suggestions(attendee: TrainingAttendee, limit: int = 5) -> list[tuple[ServiceTarget, list]]:
    """Service targets that may be this attendee, with why: [(target, [reasons])], the
    likeliest first. Same name or same phone; a person confirms before anything links."""
    conditions = [ServiceTarget.name == attendee.name, ServiceTarget.contact_name == attendee.name]
    if attendee.phone:
        conditions.append(ServiceTarget.phone == attendee.phone)
    found = db.session.scalars(scoped(ServiceTarget).where(or_(*conditions))
                               .options(selectinload(ServiceTarget.village)).limit(50)).all()
    scored = []
    for target in found:
        reasons = []
        if attendee.name in (target.name, target.contact_name):
            reasons.append(_l("same name"))
        if attendee.village_id and attendee.village_id == target.village_id:
            reasons.append(_l("same village"))
        if attendee.phone and attendee.phone == target.phone:
            reasons.append(_l("same phone"))
        if target.id != attendee.target_id:
            scored.append((target, reasons))
    scored.sort(key=lambda pair: (-len(pair[1]), pair[0].name, pair[0].id))
    return scored[:limit]


def link(attendee: TrainingAttendee, target_id: str | None) -> bool:
    """Link the attendee to a target the user confirmed (None unlinks). False when the
    target is not one the user may see."""
    target = _one(ServiceTarget, target_id) if target_id else None
    if target_id and target is None:
        return False
    records.update(attendee, {"target": target})
    return True


# Choices for the forms and filters


# Importing a filled sign-in sheet


def future_problem(training: Training):
    """Why no roster can be filled yet: the session's date is still to come."""
    if training.held_on and training.held_on > date.today():
        return _l("This session is on %(day)s, still to come: its roster is filled after "
                  "it is held.", day=training.held_on.isoformat())
    return None


def check_sheet(training: Training, data: bytes):
    """Every row of a filled sheet checked (raises sheet.FileProblem for a file that
    cannot be read, or a session still to come): bad cells, repeated rows, and a roster
    that would disagree with the session's head counts. People already on the roster
    (same name and phone, or name and village) are marked unchanged, not refused."""
    from app.trainings import sheet
    future = future_problem(training)
    if future:
        raise sheet.FileProblem(str(future))
    found_on, rows = sheet.read_sheet(data)
    villages = {}
    for village_id, name, township in db.session.execute(
            scoped(Place).with_only_columns(Place.id, Place.name, _Township.name)
            .outerjoin(_Township, _Township.id == Place.parent_id).where(Place.level == "village")):
        for key in (name, (township or "") + name):
            villages.setdefault(key, set()).add(village_id)
    unique = {name: next(iter(ids)) for name, ids in villages.items() if len(ids) == 1}
    for row in rows:
        sheet.check_row(row, unique)
    sheet.duplicates(rows)
    existing = attendees(training)
    for row in rows:
        if row.data.get("name") and any(_same_person(row.data, a) for a in existing):
            row.unchanged = True
    result = sheet.Result(rows=rows, sheet=found_on)
    if result.new and figures.has_counts(training):
        problems = roster_errors(training, [r.data for r in result.new])
        result.problems = [str(p) for p in problems]
    return result


def write_sheet(training: Training, result, partial: bool = False) -> int:
    """Add the new rows of a checked sheet to the roster in one transaction; with
    ``partial`` (the user chose it) the invalid rows are left out, else there are none."""
    if not result.importable or (result.invalid and not partial):
        raise ValueError("a sheet with errors is never written unless the user chose so")
    try:
        with db.session.no_autoflush:
            for row in result.new:
                attendee = TrainingAttendee(training_id=training.id)
                records.apply(attendee, _attendee_data(row.data))
                attendee.owner_node = training.owner_node
                db.session.add(attendee)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(result.new)
