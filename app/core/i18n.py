"""Translation: the one place the app takes its strings' translations from.

``gettext`` (``_``), ``lazy_gettext`` (``_l``) and ``force_locale`` are Flask-Babel's,
with the catalogue looked up once per request instead of once per string. Flask-Babel
works out the locale and the catalogue anew for every string: 8.5 µs for ``gettext``,
13 µs for a lazy label shown, and a record's page shows a few hundred (form labels,
vocabulary labels, the template's own strings). Here the catalogue is kept on ``g``
(one per request) and a string costs a dictionary lookup. ``force_locale`` (an export
in Chinese whatever the page's language) puts its own catalogue in place and the
request's back when it ends; the app uses this one, never Flask-Babel's directly
(tests/test_layers.py).
"""
from contextlib import contextmanager

import flask_babel
from flask import g, has_app_context
from flask_babel.speaklater import LazyString

_KEPT = "kepai_translations"  # the attribute of g that holds the request's catalogue


def translations():
    """The catalogue of the request's language (Flask-Babel's, looked up once per
    request); outside an app context, Flask-Babel's answer (no translation)."""
    if not has_app_context():
        return flask_babel.get_translations()
    kept = g._get_current_object().__dict__  # one context lookup, then plain attributes
    found = kept.get(_KEPT)
    if found is None:
        found = kept[_KEPT] = flask_babel.get_translations()
    return found


def gettext(string: str, **variables) -> str:
    """``string`` translated, with ``%(name)s`` filled from ``variables`` (as Flask-Babel)."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """A string translated when shown (a form label, a vocabulary label made at import)."""
    return LazyString(gettext, string, **variables)


@contextmanager
def force_locale(locale: str):
    """Flask-Babel's ``force_locale``, with this module's catalogue switched too."""
    with flask_babel.force_locale(locale):
        if not has_app_context():
            yield
            return
        kept = g._get_current_object().__dict__
        before = kept.pop(_KEPT, None)
        try:
            yield
        finally:
            kept.pop(_KEPT, None)
            if before is not None:
                kept[_KEPT] = before
