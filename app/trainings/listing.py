"""The training list: a page of sessions read as plain columns, its count and its filter
drop-downs remembered until the data changes (app/core/cache.py); and a session's roster
as its page shows it, read the same way.

A page of ORM sessions with their village (and township), cluster, station and trainers
cost several times what the page's queries do; a line of the list needs a few columns.
"""
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from app.core import records
from app.core.database import AtOnce
from app.core.extensions import db
from app.models import Cluster, Commissioner, Place, ServiceTarget, Training, TrainingAttendee
from app.models.reference import full_place_name
from app.models.training import training_trainers
from app.trainings import services

# Made once (an alias built per request copies every column of the table).
_Village = aliased(Place, name="list_village")
_Township = aliased(Place, name="list_township")


@dataclass
class TrainingRow:
    """What a line of the list shows of a session (and what its figures need when it
    has head counts rather than a roster)."""
    id: str
    title: str
    held_on: date
    hours: float
    mode: str
    status: str
    trainer_of_trainers: bool
    place_text: str
    outside_trainers: str
    head_counts: dict
    women_count: int | None
    minority_count: int | None
    poverty_count: int | None
    village: str | None  # the village's full name (township and village)
    cluster: str | None
    trainers: list  # names, in name order


def paginate(args: dict, page: int, per_page: int | None = None) -> records.Page:
    """One page of the sessions matching ``args``, newest first, as list lines (the
    count remembered: paging and htmx redrawing ask the same question)."""
    found = records.paginate_ids(services.conditions(args), services.ORDER, page,
                                 ("training-count", tuple(sorted(args.items()))), per_page)
    found.items = rows(found.items)
    return found


# Built once (see database.AtOnce): the list's lines and their trainers, for a page's ids.
_LINES = AtOnce(select(
    Training.id, Training.title, Training.held_on, Training.hours, Training.mode,
    Training.status, Training.trainer_of_trainers, Training.place_text,
    Training.outside_trainers, Training.head_counts, Training.women_count,
    Training.minority_count, Training.poverty_count,
    _Village.name, _Village.level, _Township.name, Cluster.name,
).select_from(Training).outerjoin(_Village, _Village.id == Training.village_id)
    .outerjoin(_Township, _Township.id == _Village.parent_id)
    .outerjoin(Cluster, Cluster.id == Training.cluster_id)
    .where(Training.id.in_(bindparam("ids", expanding=True))))
_TRAINERS = AtOnce(select(training_trainers.c.training_id, Commissioner.name, Commissioner.id)
                   .join(Commissioner, Commissioner.id == training_trainers.c.commissioner_id)
                   .where(training_trainers.c.training_id.in_(bindparam("ids", expanding=True))))


def rows(ids: list) -> list[TrainingRow]:
    """The sessions ``ids`` as list lines, in that order: one query for the sessions
    with their village, township and cluster, one for their trainers' names, each read
    at once (database.AtOnce)."""
    if not ids:
        return []
    by_id = {}
    for *columns, village, level, township, cluster in _LINES.rows(db.session, ids=list(ids)):
        if village is not None:
            village = full_place_name(village, level, township)
        row = TrainingRow(*columns, village=village, cluster=cluster, trainers=[])
        row.held_on = date.fromisoformat(row.held_on)
        row.trainer_of_trainers = bool(row.trainer_of_trainers)
        if isinstance(row.head_counts, str):  # SQLite hands JSON columns over as text
            row.head_counts = json.loads(row.head_counts)
        by_id[row.id] = row
    for training_id, name, _ in sorted(_TRAINERS.rows(db.session, ids=list(by_id)),
                                       key=lambda row: row[1]):
        by_id[training_id].trainers.append(name)
    return [by_id[i] for i in ids if i in by_id]


@dataclass
class Trainer:
    """A trainer of a session, as its page names and links them."""
    id: str
    name: str


def trainers(training_id: str) -> list[Trainer]:
    """The session's trainers by name, read at once (database.AtOnce)."""
    found = sorted(_TRAINERS.rows(db.session, ids=[training_id]), key=lambda row: (row[1], row[2]))
    return [Trainer(commissioner_id, name) for _, name, commissioner_id in found]


@dataclass
class RosterLine:
    """What the session's page shows of one person on its roster (and what its figures
    need: category, sex, ethnicity, 脱贫户)."""
    id: str
    name: str
    sex: str | None
    ethnicity: str | None
    phone: str | None
    category: str
    poverty_alleviated: bool
    target_id: str | None
    target_name: str | None
    village_name: str | None  # the village's full name (township and village), or as written


_a = TrainingAttendee
_ROSTER = AtOnce(select(
    _a.id, _a.name, _a.sex, _a.ethnicity, _a.phone, _a.category, _a.poverty_alleviated,
    _a.target_id, ServiceTarget.name, _Village.name, _Village.level, _Township.name,
    _a.village_text, _a.created_at)
    .select_from(_a).outerjoin(ServiceTarget, ServiceTarget.id == _a.target_id)
    .outerjoin(_Village, _Village.id == _a.village_id)
    .outerjoin(_Township, _Township.id == _Village.parent_id)
    .where(_a.training_id == bindparam("training_id"), _a.deleted_at.is_(None)))


def roster(training_id: str) -> list[RosterLine]:
    """The session's live roster in the order people were added, as lines: one query
    with their villages, townships and service targets, read at once (48 ORM attendees
    with their villages and targets took longer than the rest of the page), by a
    statement built once (database.AtOnce)."""
    rows = sorted(_ROSTER.rows(db.session, training_id=training_id),
                  key=lambda row: (row[-1] or "", row[1], row[0]))
    lines = []
    for *columns, village, level, township, village_text, _created in rows:
        if village is not None and township is not None and level == "village":
            village = f"{township} {village}"
        line = RosterLine(*columns, village_name=village if village is not None else village_text)
        line.poverty_alleviated = bool(line.poverty_alleviated)
        lines.append(line)
    return lines
