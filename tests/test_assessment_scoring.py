"""Scoring by rule, exactly: caps, thresholds (inclusive), deductions floored at 0,
fixed points, entered scores, bonus on top, grade bands at their edges."""
from decimal import Decimal

import pytest

from app.assessments import scoring
from app.assessments.services import SHIPPED_COMMISSIONER_SCHEME

PER_UNIT = {"key": "k", "rule": "per_unit", "points": "0.6", "max": "45", "source": "computed",
            "figure": "f"}
THRESHOLD = {"key": "k", "rule": "threshold", "threshold": "50", "deduction": "0.5", "max": "20",
             "source": "computed", "figure": "f"}
FIXED = {"key": "k", "rule": "fixed", "threshold": "2", "points": "5", "max": "5",
         "source": "computed", "figure": "f"}
DIRECT = {"key": "k", "rule": "direct", "max": "10", "source": "entered"}


@pytest.mark.parametrize("indicator, figure, expected", [
    (PER_UNIT, 0, "0"), (PER_UNIT, 1, "0.6"), (PER_UNIT, 74, "44.4"), (PER_UNIT, 75, "45"),
    (PER_UNIT, 76, "45"), (PER_UNIT, 1000, "45"),                        # capped at the maximum
    (THRESHOLD, 50, "20"), (THRESHOLD, 51, "20"),                        # the threshold is full marks
    (THRESHOLD, 49, "19.5"), (THRESHOLD, 10, "0"), (THRESHOLD, 0, "0"),   # never under 0
    (THRESHOLD, 11, "0.5"),
    (FIXED, 1, "0"), (FIXED, 2, "5"), (FIXED, 9, "5"),
    (DIRECT, Decimal("7.25"), "7.25"), (DIRECT, 12, "10"),
    (PER_UNIT, None, "0"),
])
def test_each_rule(indicator, figure, expected):
    value = None if figure is None else Decimal(figure)
    assert scoring.plain(scoring.points(indicator, value)) == expected


def test_rounding_is_half_up_to_hundredths():
    third = {**PER_UNIT, "points": "0.125", "max": "100"}
    assert scoring.points(third, Decimal(1)) == Decimal("0.13")
    assert scoring.points(third, Decimal(3)) == Decimal("0.38")


def test_total_adds_bonus_on_top_and_grades_by_band():
    indicators = [{**PER_UNIT, "key": "a", "max": "90", "points": "1"},
                  {**DIRECT, "key": "b", "max": "10"},
                  {**DIRECT, "key": "c", "max": "5", "bonus": True}]
    result = scoring.score(indicators, {"f": 85}, {"b": "4.99", "c": "3"})
    assert result == {"figures": {"a": "85", "b": "4.99", "c": "3"},
                      "scores": {"a": "85", "b": "4.99", "c": "3"},
                      "base": "89.99", "bonus": "3", "total": "92.99"}
    bands = [["excellent", 9000], ["good", 8000], ["pass", 6000]]
    assert scoring.grade(bands, Decimal("90")) == "excellent"
    assert scoring.grade(bands, Decimal("89.99")) == "good"
    assert scoring.grade(bands, Decimal("80")) == "good"
    assert scoring.grade(bands, Decimal("60")) == "pass"
    assert scoring.grade(bands, Decimal("59.99")) == "fail"


def test_the_shipped_scheme_is_well_formed_and_out_of_100():
    scheme = SHIPPED_COMMISSIONER_SCHEME
    items = scheme["indicators"]["items"]
    assert scoring.scheme_problems(items, [[k, v] for k, v in scheme["bands"].items()]) == []
    ordinary = sum(Decimal(i["max"]) for i in items if not i.get("bonus"))
    assert ordinary == 100


def test_scheme_problems_are_named():
    problems = scoring.scheme_problems([{"key": "a", "rule": "magic", "max": "1"},
                                        {"key": "a", "rule": "per_unit", "max": "-1",
                                         "source": "computed"}], [["excellent", "90"]])
    assert any("unknown rule" in p for p in problems)
    assert any("used twice" in p for p in problems)
    assert any("max must be" in p for p in problems)
    assert any("bands" in p for p in problems)


COUNT = {"key": "press", "rule": "per_unit", "points": "1", "max": "5", "source": "entered",
         "unit": "篇"}


@pytest.mark.parametrize("typed, value", [
    ("12", "12"), ("12.5", "12.5"), (" 95% ", "95"), ("９５％", "95"), ("１２．５", "12.5"),
    ("1,234", "1234"), ("1，234", "1234"), ("12,345.5", "12345.5"), ("１２，３４５", "12345"),
    ("1,000,000", "1000000"), ("", None),
])
def test_an_entered_figure_reads_a_comma_as_thousands_only(app, typed, value):
    from app.assessments.services import parse_entered
    with app.test_request_context():
        assert parse_entered(COUNT, typed) == (value, None)


@pytest.mark.parametrize("typed", ["1,5", "1，5", "12,50", "1,2345", ",123", "1,234,5", "1,,234",
                                   "12，5", "1,234,56"])
def test_a_comma_that_is_not_a_thousands_separator_is_refused(app, typed):
    from app.assessments.services import parse_entered
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        value, problem = parse_entered(COUNT, typed)
        assert value is None
        assert "逗号" in str(problem) and "千位" in str(problem), str(problem)
