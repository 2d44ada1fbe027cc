"""Records as table rows, for sync's many-at-once work.

A pulled page or a served page holds hundreds of records; loading each as an ORM object
(and its collections) costs more than the statements. ``wire_states`` reads a type's
records in their wire form (what ``history.record_fields`` gives for an object) with a
query per table, and ``Adoption`` writes changes adopted from upstream that touch only a
record's plain columns with one UPDATE per table and column set (executemany), their
audit entries and change-log rows by ``history.write_adopted``. A change that sets a
foreign key or a collection still goes through the ORM (its audit names the related
records). ``tests/test_sync_rows.py`` holds both to the ORM's answers.
"""
import functools

from sqlalchemy import String, any_, bindparam, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.core.extensions import db
from app.core.history import column_changes, plain, write_adopted
from app.sync import registry

STAMPS = ("created_at", "updated_at", "created_by", "updated_by", "origin_node")


def among(column, ids):
    """``column IN ids`` for a long list: one array parameter on PostgreSQL (a list of
    500 ids is not compiled into 500 parameters, once per type of a union)."""
    ids = list(ids)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(String), unique=True))
    return column.in_(ids)


@functools.cache
def _columns(model) -> dict[str, str]:
    """{attribute key: table column name} of the model's columns."""
    return {attr.key: attr.columns[0].name for attr in inspect(model).column_attrs}


@functools.cache
def _links(model) -> dict[str, tuple]:
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


@functools.cache
def _wire_form(model) -> tuple:
    """(key, how to make its wire value or None) for each sync field and stamp that is
    a column: ``history.plain`` only for the types it changes."""
    fields = [k for k in registry.fields_of(model) if k not in registry.collections(model)]
    form = []
    for key in fields + list(STAMPS):
        try:
            python_type = inspect(model).columns[key].type.python_type
        except NotImplementedError:
            python_type = None
        form.append((key, None if python_type in (str, int, bool, float) else plain))
    return tuple(form)


def wire_states(model, ids, to_write: bool = False) -> dict[str, dict]:
    """{id: {"version", "row", "fields"}} of the type's records among ``ids``: ``row``
    the table row by attribute key, ``fields`` as ``record_fields`` gives them. The row
    holds ``field_versions`` only ``to_write`` (decoding it costs as much as the rest)."""
    ids = list(ids)
    if not ids:
        return {}
    table, columns = model.__table__, _columns(model)
    keys = [k for k in columns if to_write or k != "field_versions"]
    rows = {}
    for found in db.session.execute(select(*[table.c[columns[k]] for k in keys]).where(
            among(table.c.id, ids))).all():
        row = dict(zip(keys, found, strict=True))
        rows[row["id"]] = row
    linked = {}
    for key, (this_side, other_side) in _links(model).items():
        per = linked[key] = {record_id: [] for record_id in rows}
        for record_id, other in db.session.execute(
                select(this_side, other_side).where(among(this_side, rows))).all():
            per[record_id].append(other)
    form = _wire_form(model)
    states = {}
    for record_id, row in rows.items():
        fields = {key: row[key] if convert is None else convert(row[key]) for key, convert in form}
        for key, per in linked.items():
            fields[key] = sorted(per[record_id])
        states[record_id] = {"version": row["version"], "row": row, "fields": fields}
    return states


class Adoption:
    """Adopted changes to existing records, gathered and then written at once."""

    def __init__(self):
        self.updates: dict[tuple, list] = {}
        self.audited: list[dict] = []

    def take(self, model, current: dict, change: dict) -> bool | None:
        """Note what adopting ``change`` writes to a record that stands as ``current``
        (from ``wire_states``). True: it changes the record; False: nothing to do; None:
        the change sets a foreign key or a collection, for the ORM to adopt. The rules
        are ``client.adopt``'s: only fields that differ, the upstream's stamps unless they
        are only its stamp for this node's own push."""
        fields, version = change["fields"], change["version"]
        differs = [k for k in registry.fields_of(model) if current["fields"].get(k) != fields.get(k)]
        if not differs and current["version"] == version:
            return False
        if structural(model).intersection(differs):
            return None
        keys = differs + [k for k in ("updated_at", "updated_by")
                          if differs and not str(fields.get("updated_by", "")).startswith("sync:")]
        row = current["row"]
        values = {k: registry.decode(model, k, fields[k]) for k in keys if k in fields}
        audited = column_changes(model, row, values)
        values["version"] = version
        if differs:
            values["field_versions"] = {**(row["field_versions"] or {}), **{k: version for k in differs}}
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
            table, columns = model.__table__, _columns(model)
            statement = table.update().where(table.c.id == bindparam("_id")).values(
                {columns[k]: bindparam(k, type_=table.c[columns[k]].type) for k in keys})
            connection.execute(statement, params)
        write_adopted(db.session(), self.audited)
        self.updates, self.audited = {}, []

