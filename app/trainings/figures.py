"""A session's figures (attendance by category, women, ethnic minorities, 脱贫户), from
its roster when it has one, else from its head counts; and whether the two disagree."""
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select

from app.core.database import AtOnce
from app.core.extensions import db
from app.models import Training, TrainingAttendee
from app.trainings.vocab import CATEGORIES, is_minority

EXTRA = ("women_count", "minority_count", "poverty_count")


@dataclass
class Figures:
    source: str = ""  # "roster", "counts" or "" (nothing recorded)
    by_category: dict = field(default_factory=dict)  # {category: people}, no zeros
    women: int | None = None  # None: not known (head counts without that total)
    minorities: int | None = None
    poverty: int | None = None

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


def _roster(rows) -> Figures:
    """Figures from (category, sex, ethnicity, 脱贫户, people) tuples."""
    figures = Figures(source="roster", women=0, minorities=0, poverty=0)
    by_category = defaultdict(int)
    for category, sex, ethnicity, poor, people in rows:
        by_category[category] += people
        figures.women += people if sex == "female" else 0
        figures.minorities += people if is_minority(ethnicity) else 0
        figures.poverty += people if poor else 0
    figures.by_category = {c: by_category[c] for c in CATEGORIES if by_category.get(c)}
    figures.by_category.update({c: n for c, n in by_category.items() if c not in CATEGORIES})
    return figures if figures.by_category else Figures()


def from_roster(attendees) -> Figures:
    return _roster((a.category, a.sex, a.ethnicity, a.poverty_alleviated, 1) for a in attendees)


def from_counts(training: Training) -> Figures:
    counts = {c: int(n) for c, n in (training.head_counts or {}).items() if n}
    if not counts and all(getattr(training, key) is None for key in EXTRA):
        return Figures()
    return Figures(source="counts", by_category={c: counts[c] for c in CATEGORIES if c in counts},
                   women=training.women_count, minorities=training.minority_count,
                   poverty=training.poverty_count)


def has_counts(training: Training) -> bool:
    return from_counts(training).source == "counts"


def disagreements(roster: Figures, training: Training) -> list[tuple[str, int, int]]:
    """[(what, head count, roster)] where a roster and head counts both exist and differ."""
    counts = from_counts(training)
    if roster.source != "roster" or counts.source != "counts":
        return []
    found = []
    for category in dict.fromkeys(list(counts.by_category) + list(roster.by_category)):
        said, listed = counts.by_category.get(category, 0), roster.by_category.get(category, 0)
        if said != listed:
            found.append((category, said, listed))
    for key, listed in (("women_count", roster.women), ("minority_count", roster.minorities),
                        ("poverty_count", roster.poverty)):
        said = getattr(training, key)
        if said is not None and said != listed:
            found.append((key, said, listed))
    return found


# Built once (see database.AtOnce): the roster's figures of many sessions, grouped.
_GROUPS = AtOnce(select(
    TrainingAttendee.training_id, TrainingAttendee.category, TrainingAttendee.sex,
    TrainingAttendee.ethnicity, TrainingAttendee.poverty_alleviated, func.count()).where(
    TrainingAttendee.training_id.in_(bindparam("ids", expanding=True)),
    TrainingAttendee.deleted_at.is_(None)
).group_by(TrainingAttendee.training_id, TrainingAttendee.category, TrainingAttendee.sex,
           TrainingAttendee.ethnicity, TrainingAttendee.poverty_alleviated))


def for_sessions(trainings) -> dict[str, Figures]:
    """{session id: figures} for many sessions in one grouped query (500 at a time)."""
    ids = [t.id for t in trainings]
    rows = defaultdict(list)
    for chunk in range(0, len(ids), 500):
        for training_id, *rest in _GROUPS.rows(db.session, ids=ids[chunk:chunk + 500]):
            rows[training_id].append(tuple(rest))  # hundreds of groups
    result = {}
    for training in trainings:
        roster = _roster(rows.get(training.id, ()))
        result[training.id] = roster if roster.source else from_counts(training)
    return result
