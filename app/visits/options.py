"""What the visit pages offer to choose from: the node's commissioners and service
targets, as (id, label) pairs, with their specialty or village; the stations, clusters
and villages are the shared lists of app/web/options.py.

The lists are the same for everyone on a node and change rarely, while the forms and the
list's filters show them on every view: they are read once and remembered until the data
changes (app/core/cache.py), as OptionLists whose ``<option>`` tags are rendered once too.
"""
from app.core import cache
from app.core.database import rows_at_once
from app.core.extensions import db
from app.core.security import node_scoped, reading_scope, scoped
from app.models import Commissioner, Place, ServiceTarget
from app.web.options import OptionList, clusters, stations, villages  # noqa: F401 (shared lists)


def _remembered(name: str, read) -> OptionList:
    return cache.remembered((f"visit-options-{name}", *reading_scope()), read)


def _by_label(stmt, label=lambda row: row[1]) -> OptionList:
    """(id, label) of the rows of ``stmt``, read at once (database.rows_at_once: a
    county's 900 targets row by row waited for the interpreter lock 900 times), by label."""
    return OptionList(sorted(((row[0], label(row)) for row in rows_at_once(db.session, stmt)),
                             key=lambda pair: pair[1]))


def commissioners() -> OptionList:
    """Commissioners by name; the label adds the specialty, which tells namesakes apart."""
    return _remembered("commissioners", lambda: OptionList(_people("commissioners")))


def targets() -> OptionList:
    """Service targets by name; the label adds their village."""
    return _remembered("targets", lambda: OptionList(_people("targets")))


def people(kind: str, ids=None) -> list[tuple[str, str]]:
    """(id, label) of the commissioners or of the targets in scope; only ``ids`` when given
    (read afresh: a picker's chosen few)."""
    if ids is None:
        return commissioners() if kind == "commissioners" else targets()
    return _people(kind, ids)


def _people(kind: str, ids=None) -> list[tuple[str, str]]:
    if kind == "commissioners":
        # The co-commissioner picker names every commissioner of the node, to a commissioner
        # too (a visit made together); their records stay out of reach (app/core/security.py).
        model = Commissioner
        stmt = node_scoped(Commissioner).with_only_columns(
            Commissioner.id, Commissioner.name, Commissioner.specialty)
    else:
        model = ServiceTarget
        stmt = scoped(ServiceTarget).with_only_columns(
            ServiceTarget.id, ServiceTarget.name, Place.name) \
            .join(Place, Place.id == ServiceTarget.village_id, isouter=True)
    if ids is not None:
        stmt = stmt.where(model.id.in_(ids))
    return _by_label(stmt, lambda row: f"{row[1]} · {row[2]}" if row[2] else row[1])
