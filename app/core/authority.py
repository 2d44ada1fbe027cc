"""Who may write what: the one declaration of field and reference authority.

Every field of a synced record is authored by the station that owns the record, unless
the model names it in ``__authored_above__`` with the level that authors it (a visit's
review is the league's). The stamps (``created_by``, ``updated_by``, ``origin_node``)
are the receiving server's: it sets them from the token's node, never from the request.

A node may write the fields authored at its own level or below: a station writes its
records' station fields, a league also the league's (it relays its stations' records
with its own reviews to the region). A record may reference only records of the
writing node's subtree and reference data published above it (places, clusters).
"""
import functools

from sqlalchemy import inspect

from app.core.node import ancestors

LEVELS = {"station": 0, "league": 1, "region": 2}
STAMPS = ("created_by", "updated_by", "origin_node")


def level_of(code: str) -> str:
    """The level of a node by its code: ``150121-01`` station, ``1501`` league, ``15`` region."""
    if "-" in code:
        return "station"
    return "league" if len(code) == 4 else "region"


def within(code: str, node_code: str) -> bool:
    """Is ``code`` the node itself or one of its descendants?"""
    return code == node_code if "-" in node_code else code.startswith(node_code)


def may_reference(owner: str, node_code: str) -> bool:
    """May a record of ``node_code`` point at a record owned by ``owner``?"""
    return within(owner, node_code) or owner in ancestors(node_code)


def author_of(model, field: str) -> str:
    """The level that authors a field of a synced model."""
    return model.__authored_above__.get(field, "station")


def writable_by(model, field: str, node_code: str) -> bool:
    """May a node of this code write the field at all (by push, or by its users)?"""
    return LEVELS[author_of(model, field)] <= LEVELS[level_of(node_code)]


def not_writable_by(model, node_code: str) -> frozenset:
    """The fields of a synced model that a node of this code may not write at all."""
    return _not_writable(model, level_of(node_code))


@functools.cache
def _not_writable(model, level: str) -> frozenset:
    return frozenset(field for field, author in model.__authored_above__.items()
                     if LEVELS[author] > LEVELS[level])


def may_edit(model, field: str, owner: str, writer: str) -> bool:
    """May a user of node ``writer`` change this field of a record owned by ``owner``?
    Only records of its own subtree: on its own records the fields authored at its level
    or below; on a record of a node below it only the fields authored above that node's
    level (a league reviews a station's visit; it never rewrites the station's words)."""
    if not within(owner, writer) or not writable_by(model, field, writer):
        return False
    return owner == writer or LEVELS[author_of(model, field)] > LEVELS[level_of(owner)]


@functools.cache
def references(model) -> dict[str, type]:
    """{field: referenced model} of the model's references to other synced records:
    its foreign-key columns and its many-to-many collections (id lists)."""
    from app.models import Synced
    mapper = inspect(model)
    found = {}
    for rel in mapper.relationships:
        target = rel.mapper.class_
        if not issubclass(target, Synced) or rel.viewonly:
            continue
        if rel.secondary is not None:
            found[rel.key] = target
        elif rel.direction.name == "MANYTOONE":
            for column in rel.local_columns:
                found[column.key] = target
    return found


# References by (type, id) pair rather than a foreign key: {record type: (type field, id field)}.
TYPED_REFERENCES = {"attachment": ("record_type", "record_id")}
