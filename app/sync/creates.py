"""New records of a pushed batch, written as rows.

A county's first push is mostly creates; making each an ORM object (its attributes'
events, the unit of work, the flush-time history) cost more than the statements that
store it. ``NewRows`` builds each new record's row from the operation (the values
decoded, the column defaults the ORM would apply, the server's stamps), its
many-to-many link rows, its audit entry (``history.new_record_changes``, with the
referenced records' names) and its wire form, and writes them with a statement per
table (``history.write_created`` adds the audit, change-log and outbox rows).
``tests/test_sync_creates.py`` holds it to what the ORM makes of the same batch.
"""
import functools

from sqlalchemy import inspect
from sqlalchemy.orm.attributes import set_committed_value

from app.core.extensions import db
from app.core.history import new_record_changes, write_created
from app.sync import registry
from app.sync.rows import columns_of, links_of, wire_form


@functools.cache
def as_rows(model) -> bool:
    """Whether the type's new records may be written as rows: not when its model checks
    values on assignment (``@validates``), which only the ORM runs."""
    return not inspect(model).validators


@functools.cache
def _defaults(model) -> tuple:
    """(attribute key, default) of the columns with a Python-side default, the
    callables among them as ``ColumnDefault`` keeps them (called with no context)."""
    found = []
    for key, column in columns_of(model).items():
        default = model.__table__.c[column].default
        if default is not None and key not in ("id", "version", "field_versions"):
            found.append((key, default.arg if default.is_scalar else functools.partial(default.arg, None)))
    return tuple(found)


class NewRows:
    """The new records a batch makes, kept as rows until ``write``."""

    def __init__(self, lookup):
        self.lookup = lookup  # (model, id) -> a record at hand, for names in the audit
        self.made: dict[str, tuple] = {}  # id -> (model, row, {collection: ids}, assigned)
        self.base: dict[str, int] = {}
        self.unwritten: list[str] = []
        self._named: dict[str, object] = {}
        self._fields: dict[str, dict] = {}

    def add(self, model, record_id: str, fields: dict, keys: list, stamps: dict, version: int,
            base_version: int) -> None:
        """Make a record's row from the wire ``fields`` named by ``keys`` (collections
        among them as id lists), the server's ``stamps`` and ``version``."""
        collections = registry.collections(model)
        assigned, links = {}, {}
        for key in keys:
            if key in collections:
                links[key] = sorted(set(fields[key] or []))
            else:
                assigned[key] = registry.decode(model, key, fields[key])
        assigned.update(stamps)
        row = {key: default() if callable(default) else default
               for key, default in _defaults(model) if key not in assigned}
        row.update(assigned)
        row.update(id=record_id, version=version,
                   field_versions=dict.fromkeys(registry.fields_of(model), version))
        self.made[record_id] = (model, row, links, assigned)
        self.base[record_id] = base_version
        self.unwritten.append(record_id)

    def owner(self, record_id: str, model) -> str | None:
        found = self.made.get(record_id)
        return found[1].get("owner_node") if found and found[0] is model else None

    def fields(self, record_id: str) -> dict:
        """A new record's fields as ``history.record_fields`` gives them."""
        found = self._fields.get(record_id)
        if found is None:
            model, row, links, _ = self.made[record_id]
            found = {key: row.get(key) if convert is None else convert(row.get(key))
                     for key, convert in wire_form(model)}
            for key in registry.collections(model):
                found[key] = links.get(key, [])
            self._fields[record_id] = found
        return found

    def state(self, record_id: str) -> dict:
        model, row, _, _ = self.made[record_id]
        return {"type": model.__tablename__, "id": record_id, "version": row["version"],
                "fields": self.fields(record_id)}

    def named(self, record_id: str):
        """A new record as an unsaved object, for its name (``str``): its columns and
        the records its foreign keys point at."""
        if record_id in self._named:
            return self._named[record_id]
        model, row, _, _ = self.made[record_id]
        record = model(**{k: v for k, v in row.items() if k in columns_of(model)})
        for rel in inspect(model).relationships:
            if rel.direction.name == "MANYTOONE":
                (column,) = rel.local_columns
                target = row.get(column.key)
                if target is not None:
                    set_committed_value(record, rel.key, self.label_record(rel.mapper.class_, target))
        self._named[record_id] = record
        return record

    def label_record(self, model, record_id: str):
        found = self.made.get(record_id)
        if found is not None and found[0] is model:
            return self.named(record_id)
        return self.lookup(model, record_id) or db.session.get(model, record_id)

    def label(self, model, record_id: str) -> str:
        return str(self.label_record(model, record_id))

    def write(self) -> None:
        """The rows not written yet, parents first, then their link rows, then their
        audit, change-log and outbox rows, in the caller's transaction."""
        if not self.unwritten:
            return
        made = [(record_id, *self.made[record_id]) for record_id in self.unwritten]
        self.unwritten = []
        connection = db.session.connection()
        order = {model: i for i, model in enumerate(registry.types().values())}
        by_model: dict = {}
        for _, model, row, _, _ in made:
            by_model.setdefault(model, []).append(row)
        for model in sorted(by_model, key=order.get):
            columns = columns_of(model)
            connection.execute(model.__table__.insert(),
                               [{columns[k]: v for k, v in row.items()} for row in by_model[model]])
        link_rows: dict = {}
        for _, model, row, links, _ in made:
            for key, ids in links.items():
                this_side, other_side = links_of(model)[key]
                link_rows.setdefault(this_side.table, []).extend(
                    {this_side.name: row["id"], other_side.name: other} for other in ids)
        for table, rows in link_rows.items():
            if rows:
                connection.execute(table.insert(), rows)
        write_created(db.session(), [
            {"record_type": model.__tablename__, "record_id": record_id, "version": row["version"],
             "base_version": self.base[record_id], "owner_node": row.get("owner_node"),
             "changes": new_record_changes(model, {**assigned, **links}, self.label),
             "fields": self.fields(record_id)}
            for record_id, model, row, links, assigned in made])
