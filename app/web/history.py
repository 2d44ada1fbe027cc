"""The history (audit trail) as people read it: each changed field by its form label,
bookkeeping left out. The audit entries keep the model's keys (``trainers``,
``head_counts``, ``village``); an area's detail page passes its label map (its form's
labels, ``app.web.forms.field_labels``, plus what the form does not show), and the
keys are matched to it here: a relationship by its foreign key's field (``village`` →
``village_id``), a collection by its ids field (``trainers`` → ``trainer_ids``)."""
from sqlalchemy import inspect

# Kept by every record and of no interest to a reader of its history: the version and
# time are on the entry's own line; the owning node never changes by a form.
HIDDEN = frozenset({"id", "owner_node", "origin_node", "version", "created_at", "updated_at",
                    "created_by", "updated_by", "field_versions", "deleted_at"})


def label(labels: dict, key: str) -> str | None:
    """The label of an audited key, or None when the map has none."""
    singular = key[:-1] if key.endswith("s") else key
    for name in (key, f"{key}_id", f"{key}_ids", f"{singular}_ids", f"{singular}_id"):
        if labels.get(name):
            return str(labels[name])
    return None


def shown(key: str) -> bool:
    """Whether a history line shows this key at all."""
    return key not in HIDDEN


def audited_keys(model) -> set[str]:
    """The keys a history entry of ``model`` may hold: its columns (foreign keys through
    their relationship) and its many-to-one and many-to-many relationships, less what
    the audit skips and what the history hides."""
    mapper = inspect(model)
    skip = set(model.__audit_skip__) | HIDDEN
    fk_columns = set()
    keys = set()
    for rel in mapper.relationships:
        if rel.direction.name == "MANYTOONE":
            fk_columns.update(c.key for c in rel.local_columns)
        if rel.secondary is not None or rel.direction.name == "MANYTOONE":
            keys.add(rel.key)
    keys.update(attr.key for attr in mapper.column_attrs if attr.key not in fk_columns)
    return keys - skip
