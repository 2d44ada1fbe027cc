"""What a report is asked for: the period (year, quarter, month or from–to, edges
inclusive), the scope (a node of the user's own subtree) and the breakdown. Bad input
raises ``ReportError`` with a message for the user; nothing here touches records."""
from dataclasses import dataclass
from datetime import date

from flask_login import current_user
from sqlalchemy import select

from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.node import CODE_PATTERNS, this_node
from app.models import Place

# A scope is a node of the tree (region, league, station) or a county between them.
COUNTY = 6


class ReportError(ValueError):
    """A report request that cannot be answered; ``str()`` is the user's message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Period:
    start: date
    end: date
    label: str

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label}


@dataclass
class Scope:
    code: str
    name: str

    @property
    def is_station(self) -> bool:
        return "-" in self.code

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name}


def _int(args, key: str, low: int, high: int) -> int | None:
    text = (args.get(key) or "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ReportError(_("The %(what)s is not valid: %(value)s.", what=_label(key),
                            value=text[:20]))
    return int(text)


def _label(key: str) -> str:
    return {"year": _("year"), "quarter": _("quarter"), "month": _("month"),
            "from": _("start date"), "to": _("end date")}[key]


def _date(args, key: str) -> date | None:
    text = (args.get(key) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(_("The %(what)s is not a date (YYYY-MM-DD): %(value)s.",
                            what=_label(key), value=text[:20])) from None


def period(args, today: date | None = None) -> Period:
    """The period of ``?from=&to=``, else of ``?year=`` (this year by default) with
    ``?quarter=`` or ``?month=``."""
    today = today or date.today()
    start, end = _date(args, "from"), _date(args, "to")
    if start or end:
        if not (start and end):
            raise ReportError(_("Give both the start and the end date."))
        if start > end:
            raise ReportError(_("The start date is after the end date."))
        return Period(start, end, f"{start.isoformat()} – {end.isoformat()}")
    year = _int(args, "year", 2000, 2100) or today.year
    quarter, month = _int(args, "quarter", 1, 4), _int(args, "month", 1, 12)
    if quarter and month:
        raise ReportError(_("Choose a quarter or a month, not both."))
    if quarter:
        first = 3 * quarter - 2
        return Period(date(year, first, 1), _month_end(year, first + 2),
                      _("%(year)s, quarter %(quarter)s", year=year, quarter=quarter))
    if month:
        return Period(date(year, month, 1), _month_end(year, month),
                      _("%(year)s-%(month)02d", year=year, month=month))
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def valid_scope_code(code: str) -> bool:
    return any(p.match(code) for p in CODE_PATTERNS.values()) or \
        (len(code) == COUNTY and code.isdigit())


def scope(args, user=None) -> Scope:
    """The node asked for with ``?node=``: the user's own (the default) or one below it.
    Any other node is a 404, as another node's record is (``ReportError`` status 404)."""
    user = user or current_user
    mine = user.node_code
    code = (args.get("node") or "").strip() or mine
    inside = code == mine or ("-" not in mine and code.startswith(mine))
    if not valid_scope_code(code) or not inside:
        raise ReportError(_("That node is not in your scope."), status=404)
    return Scope(code, node_name(code))


def node_name(code: str) -> str:
    """A node's name: this node's own, a place's (region, league, county), else the code."""
    node = this_node()
    if node is not None and node.code == code:
        return node.name
    name = db.session.scalar(select(Place.name).where(Place.code == code,
                                                       Place.deleted_at.is_(None)).limit(1))
    return name or code


def node_names(codes) -> dict:
    """{code: name} for many codes at once (places by code, this node by its identity)."""
    codes = [c for c in codes if c]
    names = dict(db.session.execute(select(Place.code, Place.name).where(
        Place.code.in_([c for c in codes if "-" not in c]), Place.deleted_at.is_(None))).all())
    node = this_node()
    if node is not None and node.code in codes:
        names[node.code] = node.name
    return {c: names.get(c, c) for c in codes}


def child_length(code: str) -> int | None:
    """How long the codes one level below ``code`` are taken (None for a station):
    region → league (4), league → county (6), county → station (whole code)."""
    if "-" in code:
        return None
    return {2: 4, 4: 6}.get(len(code), 0)
