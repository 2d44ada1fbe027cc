"""The training list: a page of sessions read as plain columns, its count and its filter
drop-downs remembered until the data changes (app/cache.py).

A page of ORM sessions with their village (and township), cluster, station and trainers
cost several times what the page's queries do; a line of the list needs a few columns.
"""
import math
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app import cache, records
from app.extensions import db
from app.models import Cluster, Commissioner, Place, Training
from app.models.training import training_trainers
from app.options import OptionList
from app.security import scoped
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


@dataclass
class ListPage:
    """A numbered page of the list (what the pagination macro reads)."""
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _key(name: str, args: dict) -> tuple:
    """A remembered answer's key: the user's node, the ``?node=`` narrowing and the
    filters (a session's visibility depends on nothing else)."""
    return (name, current_user.node_code, records.node_filter(), tuple(sorted(args.items())))


def count(args: dict) -> int:
    """How many sessions match ``args`` (remembered: paging asks the same question)."""
    def compute():
        ids = records.narrowed_to_node(services.conditions(args)).with_only_columns(Training.id)
        return db.session.scalar(select(func.count()).select_from(ids.subquery()))
    return cache.remembered(_key("training-count", args), compute)


def paginate(args: dict, page: int, per_page: int | None = None) -> ListPage:
    """One page of the sessions matching ``args``, newest first; a page past the end
    shows the last. The page's ids are read first (a deep page skips index entries, not
    joined rows), then their lines."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    total = count(args)
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    stmt = records.narrowed_to_node(services.conditions(args))
    ids = db.session.scalars(stmt.with_only_columns(Training.id).order_by(*services.ORDER)
                             .limit(per_page).offset((page - 1) * per_page)).all()
    return ListPage(items=rows(ids), page=page, per_page=per_page, total=total)


def rows(ids: list) -> list[TrainingRow]:
    """The sessions ``ids`` as list lines, in that order: one query for the sessions
    with their village, township and cluster, one for their trainers' names."""
    if not ids:
        return []
    stmt = select(
        Training.id, Training.title, Training.held_on, Training.hours, Training.mode,
        Training.status, Training.trainer_of_trainers, Training.place_text,
        Training.outside_trainers, Training.head_counts, Training.women_count,
        Training.minority_count, Training.poverty_count,
        _Village.name, _Village.level, _Township.name, Cluster.name,
    ).select_from(Training).outerjoin(_Village, _Village.id == Training.village_id) \
        .outerjoin(_Township, _Township.id == _Village.parent_id) \
        .outerjoin(Cluster, Cluster.id == Training.cluster_id).where(Training.id.in_(ids))
    by_id = {}
    for *columns, village, level, township, cluster in db.session.execute(stmt):
        if village is not None and township is not None and level == "village":
            village = f"{township} {village}"
        by_id[columns[0]] = TrainingRow(*columns, village=village, cluster=cluster, trainers=[])
    names = select(training_trainers.c.training_id, Commissioner.name) \
        .join(Commissioner, Commissioner.id == training_trainers.c.commissioner_id) \
        .where(training_trainers.c.training_id.in_(by_id)).order_by(Commissioner.name)
    for training_id, name in db.session.execute(names):
        by_id[training_id].trainers.append(name)
    return [by_id[i] for i in ids if i in by_id]


def filter_options() -> dict:
    """The list's drop-downs (trainers, clusters) as OptionLists, remembered per node
    until the data changes."""
    def compute():
        def pairs(model, *order):
            return OptionList(db.session.execute(scoped(model).with_only_columns(
                model.id, model.name).order_by(*order)))
        return {"commissioners": pairs(Commissioner, Commissioner.name, Commissioner.id),
                "clusters": pairs(Cluster, Cluster.sort_order)}
    return cache.remembered(("training-filters", current_user.node_code), compute)
