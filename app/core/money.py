"""Exact money and percentages: amounts are integer fen (分), percentages integer basis
points (1/100 of a percent); never a float anywhere.

``parse_yuan`` reads what people type ("1000", "1,000.50", "1000.5元", "￥1,000.50",
full-width digits too) and refuses anything it could mis-read ("1,00.5", "1.005", "-3",
"abc", "1e3") with a ``MoneyError`` whose message says why, in the user's language.
``format_yuan`` shows fen as yuan with two decimals and thousands separators, and
``parse_yuan(format_yuan(x)) == x`` for every amount.
"""
import re
import unicodedata

from app.core.i18n import lazy_gettext as _l

MAX_FEN = 10**15  # ten trillion yuan: far above any agreement, far below BIGINT

_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?")


class MoneyError(ValueError):
    """Text that is not an amount (or a percentage); the message tells the user why."""


def _normalise(text: str) -> str:
    # NFKC turns full-width digits, comma, point and ￥ into their ASCII forms (¥ for ￥).
    return unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")


def _split(text: str, max_decimals: int, too_precise) -> tuple[int, int]:
    """(whole, fraction scaled to ``max_decimals`` digits) of a plain decimal number."""
    if text.startswith("-") or text.startswith("−"):
        raise MoneyError(_l("The amount cannot be negative."))
    if text.startswith("+"):
        text = text[1:]
    match = _NUMBER.fullmatch(text)
    if not match:
        if re.fullmatch(r"[\d,]+(\.\d*)?", text) and "," in text:
            raise MoneyError(_l("Thousands separators must group three digits, as in 1,000.50."))
        raise MoneyError(_l("Enter a number such as 1000 or 1,000.50."))
    frac = match.group("frac") or ""
    if len(frac) > max_decimals:
        raise MoneyError(too_precise)
    whole = int(match.group("int").replace(",", ""))
    return whole, int(frac.ljust(max_decimals, "0")) if max_decimals else 0


def parse_yuan(text: str) -> int:
    """Fen from an amount in yuan as typed; ``MoneyError`` if it cannot be read exactly."""
    value = _normalise(text)
    if not value:
        raise MoneyError(_l("Enter an amount."))
    value = value.lstrip("¥").removesuffix("元")
    whole, fen = _split(value, 2, _l("An amount has at most two decimal places (fen)."))
    total = whole * 100 + fen
    if total >= MAX_FEN:
        raise MoneyError(_l("The amount is too large."))
    return total


def format_yuan(fen: int | None, empty: str = "") -> str:
    """``123456`` → ``1,234.56``; negative amounts (differences) keep their sign."""
    if fen is None:
        return empty
    fen = int(fen)  # PostgreSQL sums arrive as Decimal; they are whole fen
    sign = "-" if fen < 0 else ""
    whole, rest = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{rest:02d}"


def parse_percent(text: str) -> int:
    """Basis points from a percentage 0–100 as typed ("60", "33.33", "12.5%")."""
    value = _normalise(text).removesuffix("%")
    if not value:
        raise MoneyError(_l("Enter a percentage."))
    whole, hundredths = _split(value, 2, _l("A percentage has at most two decimal places."))
    total = whole * 100 + hundredths
    if total > 10000:
        raise MoneyError(_l("A percentage is between 0 and 100."))
    return total


def format_percent(bp: int | None, empty: str = "") -> str:
    """``3333`` → ``33.33``, ``6000`` → ``60`` (no trailing zeros, no sign)."""
    if bp is None:
        return empty
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(whole)
