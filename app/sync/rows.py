"""Records as table rows, for sync's many-at-once work.

A pulled page or a served page holds hundreds of records; loading each as an ORM object
(and its collections) costs more than the statements. ``wire_states`` reads a type's
records in their wire form (what ``history.record_fields`` gives for an object) with one
query (its collections' ids with it), and ``Adoption`` writes changes adopted from
upstream that touch only a record's plain columns with one UPDATE per table and column
set (executemany; ``field_versions`` merged in SQL, never decoded), their audit entries
and change-log rows by ``history.write_adopted``. A change that sets a foreign key or a
collection still goes through the ORM (its audit names the related records).
``tests/test_sync_rows.py`` holds both to the ORM's answers. ``paused_gc`` keeps the
collector out of a page's many short-lived dicts (docs/benchmarks.md).
"""
import functools
import gc
import json
import operator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from itertools import compress
from operator import ne

from sqlalchemy import JSON, String, any_, bindparam, case, cast, func, inspect, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from app.core.extensions import db
from app.core.history import column_changes, plain, write_adopted
from app.sync import registry

STAMPS = ("created_at", "updated_at", "created_by", "updated_by", "origin_node")


def among(column, ids):
    """``column IN ids`` for a long list of ids (strings), as one parameter: an array on
    PostgreSQL, a JSON array on SQLite (``IN (SELECT value FROM json_each(?))``, the
    column's index still the way in). A list of 500 ids is not compiled into 500
    parameters at each execution, once per type of a union."""
    ids = list(ids)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(String), unique=True))
    if dialect == "sqlite" and all(isinstance(i, str) for i in ids):
        each = func.json_each(bindparam(None, json.dumps(ids), type_=String, unique=True))
        return column.in_(select(each.table_valued("value").c.value))
    return column.in_(ids)


@functools.cache
def columns_of(model) -> dict[str, str]:
    """{attribute key: table column name} of the model's columns."""
    return {attr.key: attr.columns[0].name for attr in inspect(model).column_attrs}


@functools.cache
def links_of(model) -> dict[str, tuple]:
    """{collection key: (secondary table's column for this side, for the other side)}."""
    found = {}
    for rel in inspect(model).relationships:
        if rel.secondary is None:
            continue
        (_, this_side), = rel.synchronize_pairs
        (_, other_side), = rel.secondary_synchronize_pairs
        found[rel.key] = (this_side, other_side)
    return found


@functools.cache
def structural(model) -> frozenset:
    """The sync fields an adopted change cannot write as a plain column: foreign keys
    (the audit names the record they point at) and collections."""
    keys = set(registry.collections(model))
    for rel in inspect(model).relationships:
        if rel.direction.name == "MANYTOONE":
            keys.update(c.key for c in rel.local_columns)
    return frozenset(keys)


def _iso(value):
    return None if value is None else value.isoformat()


def _text(value):
    return None if value is None else str(value)


@functools.cache
def wire_form(model) -> tuple:
    """(key, how to make its wire value or None) for each sync field and stamp that is
    a column: what ``history.plain`` makes of the column's type, None where it leaves
    the value as it is."""
    fields = [k for k in registry.fields_of(model) if k not in registry.collections(model)]
    form = []
    for key in fields + list(STAMPS):
        try:
            python_type = inspect(model).columns[key].type.python_type
        except NotImplementedError:
            python_type = None
        if python_type in (str, int, bool, float):
            form.append((key, None))
        elif python_type in (datetime, date, time):
            form.append((key, _iso))
        elif python_type is Decimal:
            form.append((key, _text))
        else:
            form.append((key, plain))
    return tuple(form)


@functools.cache
def _read_form(model) -> tuple:
    """What ``wire_states`` reads and how: the columns (attribute keys) in the order
    selected, the wire form's first; the wire form's keys; and (key, convert) for those
    of them to convert."""
    form = wire_form(model)
    wire = [key for key, _ in form]
    keys = wire + [k for k in columns_of(model) if k not in wire and k != "field_versions"]
    return tuple(keys), tuple(wire), tuple((key, convert) for key, convert in form if convert)


@functools.cache
def _taking(model) -> tuple:
    """What ``Adoption.take`` needs of a type, found once: its sync fields, a function
    giving the tuple of a wire form's values of them, and the fields it cannot write."""
    keys = tuple(registry.fields_of(model))
    values_of = (lambda fields: (fields[keys[0]],)) if len(keys) == 1 else operator.itemgetter(*keys)
    return keys, values_of, structural(model)


@contextmanager
def paused_gc():
    """No cyclic garbage collection inside the block (and as it was after it). Reading
    or writing a page makes tens of thousands of short-lived dicts and lists, none of
    them in a cycle; each pass of the collector over a process's long-lived objects
    (the ORM's, the application's) costs more than the page's own work."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _linked_ids(this_side, other_side, record_id, postgresql: bool):
    """A column: the ids a record's collection holds, read with the record (a correlated
    subquery, which the link table's key answers): an array on PostgreSQL (NULL for
    none), a JSON array on SQLite."""
    gather = func.array_agg(other_side) if postgresql else func.json_group_array(other_side)
    return select(gather).where(this_side == record_id).scalar_subquery()


def wire_states(model, ids) -> dict[str, dict]:
    """{id: {"version", "row", "fields"}} of the type's records among ``ids``, read with
    one query (their collections' ids with them): ``row`` the table row by attribute key
    (but ``field_versions``, which ``Adoption`` merges in SQL), ``fields`` as
    ``record_fields`` gives them."""
    ids = list(ids)
    if not ids:
        return {}
    table, columns = model.__table__, columns_of(model)
    keys, wire, converted = _read_form(model)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    links = [(key, _linked_ids(this_side, other_side, table.c.id, postgresql))
             for key, (this_side, other_side) in links_of(model).items()]
    states, width = {}, len(keys)
    for found in db.session.execute(select(*[table.c[columns[k]] for k in keys], *[c for _, c in links])
                                    .where(among(table.c.id, ids))).all():
        row = dict(zip(keys, found[:width], strict=True))
        fields = dict(zip(wire, found, strict=False))  # the wire form's columns come first
        for key, convert in converted:
            fields[key] = convert(fields[key])
        for at, (key, _) in enumerate(links, start=width):
            others = found[at]
            fields[key] = sorted(others or ()) if postgresql else sorted(json.loads(others))
        states[row["id"]] = {"version": row["version"], "row": row, "fields": fields}
    return states


class Adoption:
    """Adopted changes to existing records, gathered and then written at once."""

    def __init__(self):
        self.updates: dict[tuple, list] = {}
        self.audited: list[dict] = []
        self.patches: dict[tuple, str] = {}

    def _versions(self, differs: list, version: int) -> str:
        """The JSON of {field: version} for the fields a change sets (one string for
        the many changes of a page that set the same fields at the same version)."""
        key = (tuple(differs), version)
        found = self.patches.get(key)
        if found is None:
            found = self.patches[key] = json.dumps(dict.fromkeys(differs, version))
        return found

    def take(self, model, current: dict, change: dict) -> bool | None:
        """Note what adopting ``change`` writes to a record that stands as ``current``
        (from ``wire_states``). True: it changes the record; False: nothing to do; None:
        the change sets a foreign key or a collection, for the ORM to adopt. The rules
        are ``client.adopt``'s: only fields that differ, the upstream's stamps unless they
        are only its stamp for this node's own push."""
        fields, version = change["fields"], change["version"]
        sync_keys, values_of, unwritable = _taking(model)
        try:
            theirs = values_of(fields)
        except KeyError:  # an upstream that does not send every field: it has no value
            theirs = tuple(fields.get(k) for k in sync_keys)
        differs = list(compress(sync_keys, map(ne, values_of(current["fields"]), theirs)))
        if not differs and current["version"] == version:
            return False
        if unwritable.intersection(differs):
            return None
        keys = differs + [k for k in ("updated_at", "updated_by")
                          if differs and not str(fields.get("updated_by", "")).startswith("sync:")]
        row = current["row"]
        values = {k: registry.decode(model, k, fields[k]) for k in keys if k in fields}
        audited = column_changes(model, row, values)
        values["version"] = version
        if differs:  # merged into the record's own by the UPDATE (``_merged_versions``)
            values["field_versions"] = self._versions(differs, version)
        self.updates.setdefault((model, tuple(values)), []).append({**values, "_id": row["id"]})
        if audited:
            self.audited.append({"record_type": model.__tablename__, "record_id": row["id"],
                                 "version": version, "changes": audited,
                                 "owner_node": values.get("owner_node", row["owner_node"])})
        return True

    def write(self) -> None:
        """The gathered UPDATEs (one executemany per table and column set), then the
        audit entries and change-log rows, in the caller's transaction."""
        connection = db.session.connection()
        for (model, keys), params in self.updates.items():
            table, columns = model.__table__, columns_of(model)
            values = {columns[k]: bindparam(k, type_=table.c[columns[k]].type) for k in keys}
            if "field_versions" in keys:
                column = table.c[columns["field_versions"]]
                values[column.name] = _merged_versions(column, bindparam("field_versions", type_=String))
            connection.execute(table.update().where(table.c.id == bindparam("_id")).values(values), params)
        write_adopted(db.session(), self.audited)
        self.updates, self.audited, self.patches = {}, [], {}


def _merged_versions(column, patch):
    """SQL for the record's ``field_versions`` with ``patch`` ({field: version}) merged
    in, as ``{**field_versions, **patch}`` would (a record without any takes the patch):
    the station never decodes a record's versions to adopt a change."""
    if db.session.get_bind().dialect.name == "postgresql":
        current = cast(column, JSONB)
        current = case((func.jsonb_typeof(current) == "object", current), else_=cast(literal("{}"), JSONB))
        return cast(current.op("||")(cast(patch, JSONB)), JSON)
    return func.json_patch(func.coalesce(column, "{}"), patch)
