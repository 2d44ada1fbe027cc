"""What every template can use: translations, the roles' checks, PII masking, option
tags, vocabulary labels, audit values as people read them, and this node."""
from flask import current_app, g, session
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _

from app.core import choices, security
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
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(
        can=security.can, shown_phone=security.shown_phone,
        shown_id_number=security.shown_id_number, choices=choices, wants_fragment=wants_fragment,
        writable=security.writable, option_tags=option_tags, audit_cell=audit_cell,
        history_label=history.label, history_shown=history.shown, field_html=field_html)
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["options"] = lambda items, value="id", text="name": [
        (getattr(item, value), getattr(item, text)) for item in items]

    @app.context_processor
    def node_context():
        return {"node": this_node(), "locale": select_locale()}


def label(code, vocabulary) -> str:
    """A vocabulary's label for ``code`` (the code itself when it has none), translated
    once per request and code: a list of 25 rows asks for the same few labels 25 times,
    and each lazy label went through Flask-Babel's lookup again."""
    memo = g.get("kepai_labels")
    if memo is None:
        memo = g.kepai_labels = {}
    key = (id(vocabulary), code)
    text = memo.get(key)
    if text is None:
        text = memo[key] = str(vocabulary.get(code, code or ""))
    return text


def _translations():
    """The translations for templates, looked up once per request and locale (Flask-Babel
    looks them up anew for each of the fifty-odd strings of a page)."""
    locale = get_locale()
    memo = g.get("kepai_translations")
    if memo is None or memo[0] is not locale:
        memo = g.kepai_translations = (locale, get_translations())
    return memo[1]


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
