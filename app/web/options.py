"""Drop-down options rendered in Python, once.

A list's filter drop-downs can hold hundreds of commissioners and villages; building
their ``<option>`` tags in a template loop on every view costs more than the list's
queries. ``OptionList`` renders the tags once (it is kept in app/core/cache.py together with
the pairs), and ``option_tags`` marks the chosen one per view. A fixed vocabulary (a
dict of code: translated label) is rendered once per language.

The lists every form and filter offers live here, once: ``clusters``, ``stations``,
``commissioners``, ``villages``, ``townships`` and ``service_targets`` of what the user
reads, remembered until the data changes. A form's select shows them through
``app/web/forms.py``'s ``OptionsSelectField`` (the tags as rendered here, not an option at
a time). A field's choices are ``[("", "—")] + options.villages()``; a filter
takes the OptionList as it is. An area's own lists (a picker's labels, the counties a
node may choose) stay in the area.
"""
from collections.abc import Mapping

from flask_babel import get_locale
from markupsafe import Markup, escape
from sqlalchemy.orm import aliased

from app.core import cache
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.security import reading_scope, scoped
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station

_VOCABULARIES: dict = {}  # (id of a vocabulary dict, locale): OptionList


class OptionList(list):
    """(value, text) pairs for a select, with their ``<option>`` tags rendered once."""

    def __init__(self, pairs=()):
        super().__init__((str(value), str(text)) for value, text in pairs)
        self.tags = "".join(_tag(value, text) for value, text in self)

    def __radd__(self, other) -> "OptionList":
        """``[("", "—")] + options.villages()``: still an OptionList, only the few pairs in
        front rendered anew."""
        joined = OptionList(other)
        joined.extend(self)
        joined.tags += self.tags
        return joined

    def without(self, values) -> "OptionList":
        """These options but those whose value is in ``values`` (itself when none is)."""
        values = set(values or ())
        dropped = [(value, text) for value, text in self if value in values]
        if not dropped:
            return self
        kept = OptionList()  # the rest's tags cut from ours, not rendered again (900 targets)
        kept.extend(pair for pair in self if pair[0] not in values)
        tags = self.tags
        for value, text in dropped:
            tags = tags.replace(_tag(value, text), "")
        kept.tags = tags
        return kept


def _tag(value: str, text: str) -> str:
    return f'<option value="{escape(value)}">{escape(text)}</option>'


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
    (value, text) pairs), the one whose value is ``selected`` marked so (each of them,
    when ``selected`` is a list, tuple or set)."""
    if isinstance(options, Mapping):
        options = vocabulary_options(options)
    elif not isinstance(options, OptionList):
        options = OptionList(options)
    tags = options.tags
    for value in selected if isinstance(selected, (list, tuple, set)) else (selected,):
        if value or value == 0:
            chosen = f'<option value="{escape(str(value))}">'
            tags = tags.replace(chosen, chosen[:-1] + " selected>", 1)
    return Markup(tags)


# --- The lists every form and filter offers ------------------------------------------

_TOWNSHIP = aliased(Place, name="option_township")  # made once: building one costs


def remembered(name: str, read) -> OptionList:
    """``read()``'s OptionList, remembered for what the user reads until the data changes."""
    return cache.remembered((f"options-{name}", *reading_scope()), read)


def _pairs(stmt, label=lambda row: row[1], by_label: bool = False) -> OptionList:
    """(id, label) of the rows of ``stmt``, read at once (database.rows_at_once), in the
    select's order or by label."""
    pairs = [(row[0], label(row)) for row in rows_at_once(db.session, stmt)]
    return OptionList(sorted(pairs, key=lambda pair: pair[1]) if by_label else pairs)


def clusters() -> OptionList:
    """The industry clusters in their shipped order (not by name)."""
    return remembered("clusters", lambda: _pairs(scoped(Cluster).with_only_columns(
        Cluster.id, Cluster.name).order_by(Cluster.sort_order, Cluster.name)))


def stations() -> OptionList:
    return remembered("stations", lambda: _pairs(scoped(Station).with_only_columns(
        Station.id, Station.name).order_by(Station.name, Station.id)))


def commissioners() -> OptionList:
    return remembered("commissioners", lambda: _pairs(scoped(Commissioner).with_only_columns(
        Commissioner.id, Commissioner.name).order_by(Commissioner.name, Commissioner.id)))


def villages() -> OptionList:
    """(id, "township village") of the villages, by that name (as people say it)."""
    return remembered("villages", lambda: _pairs(
        scoped(Place).with_only_columns(Place.id, Place.name, _TOWNSHIP.name)
        .join(_TOWNSHIP, _TOWNSHIP.id == Place.parent_id, isouter=True)
        .where(Place.level == "village"),
        label=lambda row: f"{row[2]} {row[1]}" if row[2] else row[1], by_label=True))


def service_targets() -> OptionList:
    """(id, name) of the service targets, by name (a counterpart, a roster's link)."""
    return remembered("service-targets", lambda: _pairs(scoped(ServiceTarget).with_only_columns(
        ServiceTarget.id, ServiceTarget.name).order_by(ServiceTarget.name, ServiceTarget.id)))


def townships() -> OptionList:
    return remembered("townships", lambda: _pairs(scoped(Place).with_only_columns(
        Place.id, Place.name).where(Place.level == "township").order_by(Place.name, Place.id)))
