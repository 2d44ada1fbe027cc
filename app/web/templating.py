"""What every template can use: translations, the roles' checks, PII masking, option
tags, vocabulary labels, audit values as people read them, and this node."""
import functools
from datetime import UTC, datetime

import pytz
from flask import current_app, session, templating
from flask_babel import format_datetime

from app.core import choices, security
from app.core.i18n import gettext as _
from app.core.i18n import translations
from app.core.node import this_node
from app.web import history
from app.web.forms import field_html
from app.web.htmx import wants_fragment
from app.web.options import option_tags


def select_locale():
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]


def configure(app):
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(
        can=security.can, shown_phone=security.shown_phone,
        shown_id_number=security.shown_id_number, choices=choices, wants_fragment=wants_fragment,
        writable=security.writable, option_tags=option_tags, audit_cell=audit_cell,
        history_label=history.label, history_shown=history.shown, field_html=field_html)
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["datetimeformat"] = local_datetime
    app.jinja_env.filters["options"] = lambda items, value="id", text="name": [
        (getattr(item, value), getattr(item, text)) for item in items]

    @app.context_processor
    def node_context():
        return {"node": this_node(), "locale": select_locale()}


def label(code, vocabulary) -> str:
    """A vocabulary's label for ``code`` (the code itself when it has none)."""
    return str(vocabulary.get(code, code or ""))


# Babel's date patterns the templates use, as strftime's: numbers only, the same in
# every language.
_STRFTIME = {"yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%M:%S", "yyyy-MM-dd HH:mm": "%Y-%m-%d %H:%M",
             "yyyy-MM-dd": "%Y-%m-%d", "MM-dd HH:mm:ss": "%m-%d %H:%M:%S", "MM-dd HH:mm": "%m-%d %H:%M"}


def local_datetime(value, format="medium", rebase=True) -> str:
    """Flask-Babel's ``datetimeformat`` filter (a UTC time in the station's time zone), by
    strftime for the numeric patterns: Babel's formatting cost about 100 µs a time, and a
    record's history shows one a line."""
    pattern = _STRFTIME.get(format)
    if pattern is None or not rebase or not isinstance(value, datetime):
        return format_datetime(value, format, rebase)
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return utc.astimezone(_zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])).strftime(pattern)


@functools.cache
def _zone(name: str):
    return pytz.timezone(name)


class Environment(templating.Environment):
    """Flask's template environment, with ``mapping.key`` on a plain dict looked up as
    the key it is. Jinja tries ``getattr`` first and a dict has no such attribute, so
    every ``labels.name`` raised and caught an AttributeError before the lookup (1.3 µs
    against 0.15 µs; a roster of fifty rows does it five hundred times). A key named
    like a dict's method (``items``, ``get``) still means the method, as in Jinja."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def audit_value(value, vocabulary=None) -> str:
    """A value from an audit entry as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return "、".join(audit_value(v, vocabulary) for v in value)
    if isinstance(value, dict):  # head counts: {"farmer": 10, "village_secretary": 2}
        parts = [f"{audit_value(k, vocabulary)} {audit_value(v)}" for k, v in value.items()
                 if v not in (None, "", 0)]
        return "、".join(parts) or "—"
    if vocabulary and value in vocabulary:
        return str(vocabulary[value])
    if vocabulary and isinstance(value, str) and all(code in vocabulary for code in value.split()):
        return "、".join(str(vocabulary[code]) for code in value.split())  # "guidance policy"
    return str(value)


def audit_cell(record, field: str, value, vocabulary=None) -> str:
    """An audit value for display, with phone and ID numbers masked as the role requires."""
    kind = type(record).__pii__.get(field)
    owner = getattr(record, "id", None) if type(record).__tablename__ == "commissioner" else None
    if kind == "phone" and isinstance(value, str):
        value = security.shown_phone(value, owner)
    elif kind == "id_number" and isinstance(value, str):
        value = security.shown_id_number(value, owner)
    return audit_value(value, vocabulary)
