"""The record types that travel: every ``Synced`` model, found by declaration.

Adding a type to sync is declaring a model with the ``Synced`` mixin; nothing here changes.
Types are ordered so that a record's parents are applied before it (the tables' foreign
keys decide), which matters when a batch creates both.
"""
import functools
from datetime import date, datetime

from sqlalchemy import Date, DateTime, inspect

from app.core import authority
from app.core.extensions import db
from app.core.history import sync_fields
from app.models import Base, Synced


@functools.cache
def types() -> dict[str, type]:
    """{table name: model} of every synced model, parents first: by the tables' foreign
    keys, and the types that reference a record of any type by (type, id) rather than a
    foreign key (attachments: ``authority.TYPED_REFERENCES``) after all the others, so
    that a day's photos arrive after their visits in the same push instead of being held."""
    order = {table.name: i for i, table in enumerate(Base.metadata.sorted_tables)}
    found = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers
             if issubclass(m.class_, Synced)}
    return dict(sorted(found.items(), key=lambda item: (item[0] in authority.TYPED_REFERENCES,
                                                        order[item[0]])))


def model(record_type: str):
    return types().get(record_type)


@functools.cache
def collections(model_class) -> dict[str, type]:
    """{field: related model} of the model's many-to-many collections."""
    return {r.key: r.mapper.class_ for r in inspect(model_class).relationships
            if r.secondary is not None}


@functools.cache
def _parsers(model_class) -> dict:
    """{column key: how a JSON string becomes its value} for the date and time columns."""
    parsers = {}
    for column_key, column in inspect(model_class).columns.items():
        if isinstance(column.type, DateTime):
            parsers[column_key] = datetime.fromisoformat
        elif isinstance(column.type, Date):
            parsers[column_key] = date.fromisoformat
    return parsers


def decode(model_class, key: str, value):
    """A field's value from the wire (JSON) as the model's column takes it."""
    parse = _parsers(model_class).get(key)
    if parse is None or not isinstance(value, str):
        return value
    return parse(value)


@functools.cache
def _fields(model_class) -> tuple[str, ...]:
    return tuple(sync_fields(inspect(model_class)))


def fields_of(model_class) -> list[str]:
    return list(_fields(model_class))


def assign(record, fields: dict, keys=None, related=None) -> None:
    """Set the given sync fields (all known ones in ``fields`` by default) on a record;
    collections are given as id lists. ``related(model, ids)`` gives a collection's
    records when they are at hand already (a query otherwise). A collection whose ids
    are those it holds is not touched."""
    model_class = type(record)
    linked = collections(model_class)
    known = set(fields_of(model_class)) | {"created_at", "updated_at", "created_by",
                                           "updated_by", "origin_node"}
    for key in (keys if keys is not None else fields):
        if key not in known or key not in fields:
            continue
        if key in linked:
            ids = sorted(set(fields[key] or []))
            target = linked[key]
            state = inspect(record)
            if state.persistent and sorted(o.id for o in getattr(record, key)) == ids:
                continue
            if not ids:
                found = []
            elif related is not None:
                found = related(target, ids)
            else:
                found = db.session.query(target).filter(target.id.in_(ids)).all()
            setattr(record, key, sorted(found, key=lambda o: o.id))
        else:
            setattr(record, key, decode(model_class, key, fields[key]))
