"""Scoring a sheet by its scheme: exact decimal arithmetic, no request, no database.

An indicator (a dict in the scheme's ``indicators``) has a ``key``, a ``name``, a
``unit``, a ``source`` (``computed`` from the records, by ``figure``; or ``entered``),
a ``rule`` and its numbers (decimal strings), a ``max`` and a ``bonus`` flag:

- ``per_unit``: ``points`` per unit of the figure, capped at ``max``;
- ``threshold``: ``max`` at ``threshold`` or above; below it ``deduction`` per unit
  short, never under 0;
- ``fixed``: ``points`` (at most ``max``) when the figure reaches ``threshold``, else 0;
- ``direct``: the entered figure is the score, at most ``max``.

Scores are rounded half up to hundredths of a point. The total is the sum of the
ordinary indicators' scores plus the bonus items'. Bands are ``[[grade, lowest total in
hundredths], ...]``, best first; a total under every band is ``fail``.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDREDTH = Decimal("0.01")
RULE_NUMBERS = {"per_unit": ("points",), "threshold": ("threshold", "deduction"),
                "fixed": ("threshold", "points"), "direct": ()}


def dec(value) -> Decimal | None:
    """A decimal from a scheme's or sheet's text (None for empty or unreadable)."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def plain(number: Decimal | None) -> str | None:
    """A decimal as stored text: ``12.50`` → ``"12.5"``, ``30.00`` → ``"30"``."""
    if number is None:
        return None
    text = format(number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def centi(number: Decimal) -> int:
    """Whole hundredths of a point."""
    return int((number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_centi(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / 100


def points(indicator: dict, figure: Decimal | None) -> Decimal:
    """The score of one indicator for a figure (None: nothing known, 0 points)."""
    maximum = dec(indicator.get("max")) or Decimal(0)
    rule = indicator.get("rule")
    if figure is None:
        return Decimal(0)
    if rule == "per_unit":
        score = figure * (dec(indicator.get("points")) or 0)
    elif rule == "threshold":
        short = max(Decimal(0), (dec(indicator.get("threshold")) or 0) - figure)
        score = maximum - short * (dec(indicator.get("deduction")) or 0)
    elif rule == "fixed":
        met = figure >= (dec(indicator.get("threshold")) or 0)
        score = (dec(indicator.get("points")) or 0) if met else Decimal(0)
    elif rule == "direct":
        score = figure
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return min(max(score, Decimal(0)), maximum).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def figure_of(indicator: dict, computed: dict, entered: dict) -> Decimal | None:
    """The figure an indicator scores: computed from the records or entered."""
    if indicator.get("source") == "computed":
        return dec(computed.get(indicator.get("figure")))
    return dec(entered.get(indicator["key"]))


def score(indicators: list, computed: dict, entered: dict) -> dict:
    """{"figures": {key: text}, "scores": {key: text}, "base", "bonus", "total"} (texts)."""
    figures, scores = {}, {}
    base = bonus = Decimal(0)
    for indicator in indicators:
        figure = figure_of(indicator, computed, entered)
        got = points(indicator, figure)
        figures[indicator["key"]] = plain(figure)
        scores[indicator["key"]] = plain(got)
        if indicator.get("bonus"):
            bonus += got
        else:
            base += got
    return {"figures": figures, "scores": scores, "base": plain(base), "bonus": plain(bonus),
            "total": plain(base + bonus)}


def grade(bands: list, total: Decimal) -> str:
    """The grade whose band the total reaches (best first), else ``fail``."""
    hundredths = centi(total)
    for name, lowest in sorted(bands, key=lambda band: -int(band[1])):
        if hundredths >= int(lowest):
            return name
    return "fail"


def scheme_problems(indicators, bands) -> list[str]:
    """What is wrong with a scheme's shape (English, for logs and the upstream's form)."""
    problems = []
    if not isinstance(indicators, list) or not indicators:
        return ["a scheme needs at least one indicator"]
    keys = set()
    for indicator in indicators:
        if not isinstance(indicator, dict) or not indicator.get("key"):
            problems.append("an indicator needs a key")
            continue
        key = indicator["key"]
        if key in keys:
            problems.append(f"{key}: the key is used twice")
        keys.add(key)
        rule = indicator.get("rule")
        if rule not in RULE_NUMBERS:
            problems.append(f"{key}: unknown rule {rule!r}")
            continue
        for number in ("max",) + RULE_NUMBERS[rule]:
            value = dec(indicator.get(number))
            if value is None or value < 0:
                problems.append(f"{key}: {number} must be a number of 0 or more")
        if indicator.get("source") not in ("computed", "entered"):
            problems.append(f"{key}: the source is computed or entered")
        if rule == "direct" and indicator.get("source") != "entered":
            problems.append(f"{key}: an entered score needs the source entered")
    if not isinstance(bands, list) or not all(
            isinstance(b, list) and len(b) == 2 and isinstance(b[1], int) for b in bands):
        problems.append("bands are [grade, lowest total in hundredths] pairs")
    return problems
