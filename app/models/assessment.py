"""Plan targets (目标) and the yearly assessment (年度考核): schemes and sheets.

Targets and schemes are authored above the station: a league or region owns them (a
CHECK keeps a station from owning one, so a station's push of one is refused by the
database) and every content field is declared the league's in ``__authored_above__``,
so a station user's form write is a 403 at the flush. They come down to the stations
by sync.

A sheet is the station's: its figures, entered indicators, self-score, proposed grade
and submission are station-authored; the review (final grade, comment, returned or
graded, which submission was reviewed) is the league's (a station's sheet is graded by
the region, which the pages require), and a station's post-subsidy is the region's. Scores are whole hundredths of
a point (``*_c`` columns and the snapshot's strings are exact, never floats).
"""
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Synced

NOT_STATION = "owner_node NOT LIKE '%-%'"


def _league(*fields: str) -> dict[str, str]:
    return {field: "league" for field in fields}


class PlanTarget(Synced, Base):
    """One target of the action plan (目标): an indicator, the node whose records count
    (``scope``), the value to reach and the deadline."""

    __tablename__ = "plan_target"
    __authored_above__ = _league("indicator", "scope", "wording", "value", "starts_on",
                                 "deadline", "sort_order", "notes")
    __table_args__ = (CheckConstraint(NOT_STATION, name="not_station"),)

    indicator: Mapped[str] = mapped_column(String(24))
    scope: Mapped[str] = mapped_column(String(16))
    wording: Mapped[str] = mapped_column(String(300), default="")
    value: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.wording or self.indicator


class AssessmentScheme(Synced, Base):
    """How sheets of one subject (commissioner or station) are scored from a year on:
    indicators with their rules, and grade bands. ``edition`` goes up with every change,
    and a submitted sheet keeps the edition (and a copy) it was scored with."""

    __tablename__ = "assessment_scheme"
    __authored_above__ = _league("name", "subject", "edition", "first_year", "indicators",
                                 "bands", "notes")
    __table_args__ = (CheckConstraint(NOT_STATION, name="not_station"),)

    name: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(12), default="commissioner")
    edition: Mapped[int] = mapped_column(Integer, default=1)
    first_year: Mapped[int] = mapped_column(Integer, default=2021)
    # JSON objects, not lists (a list value travels as a record collection's ids):
    indicators: Mapped[dict] = mapped_column(JSON, default=dict)  # {"items": [indicator, ...]}
    bands: Mapped[dict] = mapped_column(JSON, default=dict)  # {grade: lowest total (hundredths)}
    notes: Mapped[str] = mapped_column(Text, default="")

    @property
    def indicator_list(self) -> list[dict]:
        return list((self.indicators or {}).get("items") or [])

    @property
    def band_list(self) -> list[list]:
        """[[grade, lowest total in hundredths]], best first."""
        return sorted(([k, v] for k, v in (self.bands or {}).items()), key=lambda b: -b[1])

    def __str__(self) -> str:
        return self.name


class AssessmentSheet(Synced, Base):
    """One yearly assessment sheet (考核表) of a commissioner (or a station)."""

    __tablename__ = "assessment_sheet"
    __authored_above__ = {**_league("review_state", "reviewed_submission", "final_grade",
                                    "reviewer_score_c", "review_comment", "reviewed_at"),
                          "subsidy_fen": "region", "subsidy_recorded_at": "region"}
    __table_args__ = (
        UniqueConstraint("commissioner_id", "year", name="uq_assessment_sheet_commissioner_year"),
        UniqueConstraint("station_id", "year", name="uq_assessment_sheet_station_year"),
    )

    subject: Mapped[str] = mapped_column(String(12), default="commissioner")
    year: Mapped[int] = mapped_column(Integer, index=True)
    commissioner_id: Mapped[str | None] = mapped_column(ForeignKey("commissioner.id"))
    station_id: Mapped[str | None] = mapped_column(ForeignKey("station.id"))
    scheme_id: Mapped[str | None] = mapped_column(ForeignKey("assessment_scheme.id"), index=True)
    scheme_edition: Mapped[int] = mapped_column(Integer, default=0)
    entered: Mapped[dict] = mapped_column(JSON, default=dict)  # {indicator key: figure as text}
    self_score_c: Mapped[int | None] = mapped_column(Integer)
    proposed_grade: Mapped[str] = mapped_column(String(12), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    typical_case: Mapped[str] = mapped_column(Text, default="")
    commissioner_comment: Mapped[str] = mapped_column(Text, default="")
    submission: Mapped[int] = mapped_column(Integer, default=0)  # how many times submitted
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)  # what was submitted, frozen
    # The league's review of submission number ``reviewed_submission``.
    review_state: Mapped[str] = mapped_column(String(12), default="")  # returned / graded
    reviewed_submission: Mapped[int] = mapped_column(Integer, default=0)
    final_grade: Mapped[str] = mapped_column(String(12), default="")
    reviewer_score_c: Mapped[int | None] = mapped_column(Integer)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A station's sheet: the region's post-subsidy (后补助) for an excellent grassroots
    # station, in fen, no less than the floor its scheme names.
    subsidy_fen: Mapped[int | None] = mapped_column(BigInteger)
    subsidy_recorded_at: Mapped[datetime | None] = mapped_column(DateTime)

    commissioner = relationship("Commissioner")
    station = relationship("Station")
    scheme = relationship("AssessmentScheme")

    @property
    def status(self) -> str:
        """draft, submitted (awaiting review), returned or graded: the league's review
        counts for the submission it names, so a resubmission awaits review again."""
        if not self.submission:
            return "draft"
        if self.reviewed_submission == self.submission and self.review_state in ("returned", "graded"):
            return self.review_state
        return "submitted"

    @property
    def editable(self) -> bool:
        """May the station still change its part (before submission, or once returned)?"""
        return self.status in ("draft", "returned")

    @property
    def subject_name(self) -> str:
        who = self.commissioner if self.subject == "commissioner" else self.station
        return who.name if who else ""

    def __str__(self) -> str:
        return f"{self.year} {self.subject_name}".strip()
