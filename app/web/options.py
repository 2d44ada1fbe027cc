"""Drop-down options rendered in Python, once.

A list's filter drop-downs can hold hundreds of commissioners and villages; building
their ``<option>`` tags in a template loop on every view costs more than the list's
queries. ``OptionList`` renders the tags once (it is kept in app/core/cache.py together with
the pairs), and ``option_tags`` marks the chosen one per view. A fixed vocabulary (a
dict of code: translated label) is rendered once per language.
"""
from collections.abc import Mapping

from flask_babel import get_locale
from markupsafe import Markup, escape

_VOCABULARIES: dict = {}  # (id of a vocabulary dict, locale): OptionList


class OptionList(list):
    """(value, text) pairs for a select, with their ``<option>`` tags rendered once."""

    def __init__(self, pairs=()):
        super().__init__((str(value), str(text)) for value, text in pairs)
        self.tags = "".join(f'<option value="{escape(value)}">{escape(text)}</option>'
                            for value, text in self)

    def without(self, values) -> "OptionList":
        """These options but those whose value is in ``values`` (itself when none is)."""
        values = set(values or ())
        if not values.intersection(value for value, _ in self):
            return self
        return OptionList((value, text) for value, text in self if value not in values)


def vocabulary_options(vocabulary: Mapping) -> OptionList:
    """A module-level vocabulary (code: lazily translated label) as options in the
    request's language, rendered once per language."""
    key = (id(vocabulary), str(get_locale()))
    options = _VOCABULARIES.get(key)
    if options is None:
        options = _VOCABULARIES[key] = OptionList(vocabulary.items())
    return options


def option_tags(options, selected=None) -> Markup:
    """The ``<option>`` tags of ``options`` (an OptionList, a vocabulary dict or any
    (value, text) pairs), the one whose value is ``selected`` marked so."""
    if isinstance(options, Mapping):
        options = vocabulary_options(options)
    elif not isinstance(options, OptionList):
        options = OptionList(options)
    tags = options.tags
    if selected:
        chosen = f'<option value="{escape(str(selected))}">'
        tags = tags.replace(chosen, chosen[:-1] + " selected>", 1)
    return Markup(tags)
