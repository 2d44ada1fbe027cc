"""A pushed value checked against the model before anything is written: type, length,
range, date format and vocabulary. What the database would refuse mid-batch (a string
longer than its column, an integer beyond its range, a list where text belongs) is
refused here, for that one operation, with the field named.
"""
import functools
import math
import re
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, String, inspect

INT32 = 2**31 - 1
INT64 = 2**63 - 1
MAX_IDS = 5000          # ids in one many-to-many list
MAX_JSON = 64 * 1024    # characters of a JSON field


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(value) -> bool:
    """A canonical (lower-case, hyphenated) UUID string, as every synced id is."""
    return isinstance(value, str) and len(value) == 36 and _UUID.fullmatch(value) is not None


@functools.cache
def _vocabularies() -> dict[tuple[str, str], set[str]]:
    """{(record type, field): allowed codes} of the fields that hold a code."""
    from app.agreements import vocab as agreements
    from app.assessments import vocab as assessments
    from app.core import choices
    from app.goals import vocab as goals
    from app.trainings import vocab as trainings
    from app.visits import vocab as visits
    table = {
        ("visit", "stage"): visits.STAGES, ("visit", "mode"): visits.MODES,
        ("visit", "service_types"): visits.SERVICE_TYPES,
        ("visit", "review_state"): visits.REVIEW_STATES,
        ("commissioner", "kind"): choices.COMMISSIONER_KINDS,
        ("commissioner", "level"): choices.LEVELS,
        ("commissioner", "sending_org_type"): choices.SENDING_ORG_TYPES,
        ("commissioner", "local_talent_kind"): choices.LOCAL_TALENT_KINDS,
        ("commissioner", "status"): choices.COMMISSIONER_STATUSES,
        ("commissioner", "sex"): choices.SEXES,
        ("service_target", "kind"): choices.TARGET_KINDS,
        ("place", "level"): choices.PLACE_LEVELS,
        ("station", "kind"): choices.STATION_KINDS,
        ("station", "host_org_type"): choices.HOST_ORG_TYPES,
        ("site", "kind"): choices.SITE_KINDS,
        ("training", "mode"): trainings.MODES, ("training", "status"): trainings.STATUSES,
        ("training_attendee", "sex"): choices.SEXES,
        ("training_attendee", "category"): trainings.CATEGORIES,
        ("training", "head_counts"): trainings.CATEGORIES,
        ("agreement", "form"): agreements.FORMS, ("agreement", "status"): agreements.STATUSES,
        ("agreement", "profit_basis"): agreements.BASES,
        ("agreement", "risk_basis"): agreements.BASES,
        ("payout", "kind"): agreements.PAYOUT_KINDS,
        ("plan_target", "indicator"): goals.INDICATORS,
        ("assessment_scheme", "subject"): assessments.SUBJECTS,
        ("assessment_sheet", "subject"): assessments.SUBJECTS,
        ("assessment_sheet", "proposed_grade"): assessments.GRADES,
        ("assessment_sheet", "final_grade"): assessments.GRADES,
        ("assessment_sheet", "review_state"): {"returned": "", "graded": ""},
    }
    return {key: set(codes) | {""} for key, codes in table.items()}


SPACE_SEPARATED = {("visit", "service_types")}


def problem(model, key: str, value) -> str | None:
    """Why ``value`` cannot be the field's value, or None. Unknown keys are not this
    function's business (they are never written)."""
    return _check(model, key)(value)


@functools.cache
def _check(model, key: str):
    """The test of one field's values (worked out once per field: which kind of
    column it is)."""
    from app.sync.registry import collections
    if key in collections(model):
        def ids(value):
            if not isinstance(value, list) or len(value) > MAX_IDS:
                return "must be a list of record ids"
            return None if all(is_uuid(v) for v in value) else "holds something that is not a record id"
        return ids
    column = _column(model, key)
    if column is None:
        return lambda value: None
    kind, record_type = column.type, model.__tablename__
    if column.foreign_keys:
        test = lambda value: None if is_uuid(value) else "is not a record id"  # noqa: E731
    elif isinstance(kind, Boolean):
        test = lambda value: None if isinstance(value, bool) else "must be true or false"  # noqa: E731
    elif isinstance(kind, Integer):  # BigInteger is an Integer
        limit = INT64 if isinstance(kind, BigInteger) else INT32

        def test(value):
            if not isinstance(value, int) or isinstance(value, bool):
                return "must be a whole number"
            return None if -limit - 1 <= value <= limit else "is out of range"
    elif isinstance(kind, Float):
        def test(value):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return "must be a number"
            return None if math.isfinite(value) and abs(value) < 1e15 else "is out of range"
    elif isinstance(kind, DateTime):
        test = lambda value: None if _parses(value, datetime.fromisoformat) else "is not a date and time"  # noqa: E731
    elif isinstance(kind, Date):
        def test(value):
            return None if _parses(value, date.fromisoformat) and len(value) == 10 else "is not a date"
    elif isinstance(kind, JSON):
        expected = type(column.default.arg({}) if column.default and callable(column.default.arg)
                        else {})

        def test(value):
            if not isinstance(value, expected):
                return f"must be a JSON {'object' if expected is dict else 'list'}"
            if len(str(value)) > MAX_JSON:
                return "is too large"
            return _counts_problem(record_type, key, value)
    elif isinstance(kind, String):  # Text is a String without a length
        length = kind.length

        def test(value):
            if not isinstance(value, str):
                return "must be text"
            if "\x00" in value:
                return "holds a NUL character"
            if length and len(value) > length:
                return f"is longer than {length} characters"
            return _vocabulary_problem(record_type, key, value)
    else:
        return lambda value: None
    nullable = column.nullable

    def check(value):
        if value is None:
            return None if nullable else "may not be empty"
        return test(value)
    return check


@functools.cache
def _column(model, key: str):
    return inspect(model).columns.get(key)


def _counts_problem(record_type: str, key: str, value) -> str | None:
    """A field of counts by code (a session's head counts): known codes, whole numbers."""
    codes = _vocabularies().get((record_type, key))
    if codes is None:
        return None
    for code, count in value.items():
        if code not in codes:
            return f"has an unknown code {code!r}"
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                                  or not 0 <= count <= INT32):
            return f"holds {count!r} for {code!r}, not a count"
    return None


def _vocabulary_problem(record_type: str, key: str, value: str) -> str | None:
    allowed = _vocabularies().get((record_type, key))
    if allowed is None:
        return None
    codes = value.split() if (record_type, key) in SPACE_SEPARATED else [value]
    unknown = [c for c in codes if c not in allowed]
    return f"has an unknown code {unknown[0]!r}" if unknown else None


def _parses(value, parse) -> bool:
    if not isinstance(value, str) or len(value) > 40:
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True
