"""Checking an import file row by row with the web forms' own rules, keeping an
upload between preview and confirm, and writing all its rows in one transaction."""
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field

from flask import current_app
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.core import files, records
from app.core.extensions import db
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.security import scoped
from app.imports import export as list_export
from app.imports import workbook
from app.imports.columns import Column, Spec
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station
from app.targets import services as target_services

TOKEN = re.compile(r"[0-9a-f]{32}")
KEEP_SECONDS = 24 * 3600
TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有"}
FALSE = {"否", "n", "no", "false", "0", "无", ""}
SEPARATORS = re.compile(r"[、,，;；\n]+")


@dataclass
class Row:
    number: int  # the row in Excel
    cells: dict  # {field: text as shown}
    data: dict  # the form's data, as the service takes it (written only when no errors)
    errors: list = field(default_factory=list)  # [(column header, message)]
    unchanged: bool = False  # the same as a record already there (an exported row): skipped


@dataclass
class Result:
    rows: list[Row]

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def new(self) -> list[Row]:
        return [r for r in self.rows if not r.unchanged]

    @property
    def unchanged(self) -> list[Row]:
        return [r for r in self.rows if r.unchanged]

    @property
    def ok(self) -> bool:
        return not self.invalid


def _key(text: str) -> str:
    """A name as compared: no spaces or slashes, case folded."""
    return re.sub(r"[\s/／]", "", text or "").casefold()


def _villages() -> list[Place]:
    """The node's villages, by name, to find one by what a cell says."""
    return db.session.scalars(
        scoped(Place).where(Place.level == "village").order_by(Place.name, Place.id)).all()


class Lookups:
    """The node's clusters, stations and villages, and the labels of each vocabulary,
    looked up by what a person writes in a cell."""

    def __init__(self):
        self.clusters = {_key(c.name): c.id for c in db.session.scalars(scoped(Cluster))}
        self.stations = {_key(s.name): s.id for s in db.session.scalars(scoped(Station))}
        self.villages: dict[str, set[str]] = {}
        for village in _villages():
            township = village.parent.name if village.parent else ""
            for name in (village.name, township + village.name, village.full_name):
                self.villages.setdefault(_key(name), set()).add(village.id)
        self.village_choices = [(v.id, v.full_name) for v in _villages()]
        self.vocab: dict[int, dict[str, str]] = {}

    def vocabulary(self, vocab: dict) -> dict[str, str]:
        """{code or label in any language, folded: code}."""
        if id(vocab) not in self.vocab:
            known = {code.casefold(): code for code in vocab}
            for locale in current_app.config["LANGUAGES"]:
                with force_locale(locale):
                    known.update({_key(str(label)): code for code, label in vocab.items()})
            self.vocab[id(vocab)] = known
        return self.vocab[id(vocab)]

    def village(self, text: str):
        """(id, None) or (None, message) for a village written in a cell."""
        ids = self.villages.get(_key(text), set())
        if len(ids) == 1:
            return next(iter(ids)), None
        if ids:
            return None, _("Several villages are called %(name)s: write the township "
                           "before the village.", name=text)
        return None, _("There is no village %(name)s on this node; add it under Places "
                       "first.", name=text)


def _cell(column: Column, value, lookups: Lookups, form: MultiDict) -> str | None:
    """Put one cell into the form data as the web form would send it; a message when
    the cell cannot be understood."""
    text = workbook.text(value, column.kind)
    name = column.field
    if column.kind == "vocab":
        if not text:
            if column.default:
                form.add(name, column.default)
            return None
        code = lookups.vocabulary(column.vocab).get(_key(text))
        if code is None:
            return _("“%(value)s” is not one of: %(allowed)s.", value=text,
                     allowed="、".join(str(label) for label in column.vocab.values()))
        form.add(name, code)
    elif column.kind == "bool":
        if _key(text) in TRUE:
            form.add(name, "y")
        elif _key(text) not in FALSE:
            return _("Write 是 or 否.")
    elif column.kind in ("clusters", "villages"):
        for part in (p.strip() for p in SEPARATORS.split(text)):
            if not part:
                continue
            if column.kind == "clusters":
                found = lookups.clusters.get(_key(part))
                if found is None:
                    return _("There is no industry cluster %(name)s.", name=part)
            else:
                found, problem = lookups.village(part)
                if problem:
                    return problem
            form.add(name, found)
    elif column.kind == "village":
        if text:
            found, problem = lookups.village(text)
            if problem:
                return problem
            form.add(name, found)
    elif column.kind == "station":
        if text:
            found = lookups.stations.get(_key(text))
            if found is None:
                return _("There is no station %(name)s on this node.", name=text)
            form.add(name, found)
    else:
        form.add(name, text)
    return None


def _form(spec: Spec, formdata: MultiDict, lookups: Lookups):
    form = spec.form_class(formdata=formdata, meta={"csrf": False})
    if spec.kind == "commissioners":
        form.cluster_ids.choices = [(i, n) for n, i in lookups.clusters.items()]
        form.station_id.choices = [("", "—")] + [(i, n) for n, i in lookups.stations.items()]
        form.village_ids.choices = lookups.village_choices
    else:
        form.village_id.choices = [("", "—")] + lookups.village_choices
    return form


def check_row(spec: Spec, number: int, cells: dict, lookups: Lookups) -> Row:
    """One row through the web form and the service's rules, with every error kept."""
    formdata, problems = MultiDict(), {}
    for column in spec.columns:
        problem = _cell(column, cells.get(column.field), lookups, formdata)
        if problem:
            problems[column.field] = problem
    form = _form(spec, formdata, lookups)
    form.validate()
    errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    data = form.data_for_save()
    for name, message in spec.rules(data).items():
        errors.setdefault(name, []).append(str(message))
    for name, problem in problems.items():
        errors[name] = [problem]  # the form only saw a blank where the cell was not understood
    shown = {c.field: workbook.text(cells.get(c.field), c.kind) for c in spec.columns}
    row = Row(number=number, cells=shown, data=data)
    for column in spec.columns:
        row.errors += [(column.header, m) for m in errors.get(column.field, [])]
    return row


def _identity(spec: Spec, data_or_record) -> tuple:
    """What makes two rows (or a row and a record) the same commissioner or target:
    the name, and for a target also its village."""
    get = data_or_record.get if isinstance(data_or_record, dict) else \
        lambda key: getattr(data_or_record, key)
    if spec.kind == "commissioners":
        return (_key(get("name")),)
    return (_key(get("name")), get("village_id") or None)


def _existing(spec: Spec) -> dict[tuple, list]:
    model = Commissioner if spec.kind == "commissioners" else ServiceTarget
    found: dict[tuple, list] = {}
    for record in db.session.scalars(scoped(model)):
        found.setdefault(_identity(spec, record), []).append(record)
    return found


def _as_exported(spec: Spec, record) -> dict:
    """A record's cells as its export writes them, read back as an upload's cells are
    (so that an exported row left as it is compares equal)."""
    values = list_export.rows(spec, [record])[0]
    return {c.field: workbook.text(v, c.kind) for c, v in zip(spec.columns, values, strict=True)}


def _same(row: Row, spec: Spec, records) -> bool:
    return any(_as_exported(spec, r) == row.cells for r in records)


def check_file(spec: Spec, data: bytes) -> Result:
    """Every row of the file checked (raises workbook.FileProblem for a file that
    cannot be read), with repeated rows and already recorded names marked; a row equal
    to its record as exported (app/imports/export.py) is unchanged and skipped."""
    lookups = Lookups()
    rows = [check_row(spec, number, cells, lookups)
            for number, cells in workbook.read(data, spec)]
    seen: dict[tuple, int] = {}
    existing = _existing(spec)
    name_header = spec.column("name").header
    for row in rows:
        if not row.data.get("name"):
            continue
        identity = _identity(spec, row.data)
        if identity in seen:
            row.errors.append((name_header, _("This repeats row %(row)s of the file.",
                                              row=seen[identity])))
        else:
            seen[identity] = row.number
        if identity in existing and not row.errors and _same(row, spec, existing[identity]):
            row.unchanged = True
        elif identity in existing:
            row.errors.append((name_header, _(
                "%(name)s is already recorded. Leave this row out, or add a second record "
                "of that name through its form.", name=row.data["name"])))
    return Result(rows)


def example(spec: Spec) -> dict:
    """The template's example row, with a village and a station of this node."""
    example = {}
    villages = _villages()
    if villages:
        example["village_id" if spec.kind == "targets" else "village_ids"] = villages[0].full_name
    station = db.session.scalar(scoped(Station).order_by(Station.name).limit(1))
    if station and spec.kind == "commissioners":
        example["station_id"] = station.name
    return example


# Keeping the upload between preview and confirm


def _folder() -> str:
    path = os.path.join(current_app.instance_path, "imports")
    os.makedirs(path, exist_ok=True)
    return path


def store(kind: str, data: bytes, filename: str) -> str:
    """Keep an upload for its confirm step; returns its token (hex). Old uploads go."""
    folder = _folder()
    _forget_old(folder)
    token = secrets.token_hex(16)
    with open(os.path.join(folder, f"{token}.xlsx"), "wb") as f:
        f.write(data)
    meta = {"kind": kind, "user_id": current_user.id, "filename": files.safe_filename(filename),
            "at": time.time()}
    with open(os.path.join(folder, f"{token}.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    return token


def load(kind: str, token: str) -> tuple[bytes, str] | None:
    """(file, its name) for a token of this user and kind, or None."""
    if not TOKEN.fullmatch(token or ""):
        return None
    folder = _folder()
    try:
        with open(os.path.join(folder, f"{token}.json"), encoding="utf-8") as f:
            meta = json.load(f)
        with open(os.path.join(folder, f"{token}.xlsx"), "rb") as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    if meta.get("kind") != kind or meta.get("user_id") != current_user.id:
        return None
    return data, meta.get("filename") or ""


def discard(token: str) -> None:
    if not TOKEN.fullmatch(token or ""):
        return
    for suffix in (".xlsx", ".json"):
        try:
            os.remove(os.path.join(_folder(), token + suffix))
        except OSError:
            pass


def _forget_old(folder: str) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if os.path.getmtime(path) < cutoff:
                os.remove(path)
        except OSError:
            pass


# Writing


def _build_commissioner(data: dict) -> Commissioner:
    """A new commissioner from form data, added but not committed. It mirrors
    ``app.commissioners.services.save`` (which commits per call)."""
    data = dict(data)
    data["clusters"] = _related(Cluster, data.pop("cluster_ids", []))
    data["villages"] = _related(Place, data.pop("village_ids", []))
    station_id = data.get("station_id") or None
    station = db.session.scalar(scoped(Station).where(Station.id == station_id)) \
        if station_id else None
    data["station_id"] = station.id if station else None
    if data.get("sending_org_type") != "local_talent":
        data["local_talent_kind"] = ""
    commissioner = Commissioner()
    records.apply(commissioner, data)
    commissioner.owner_node = station.owner_node if station else current_user.node_code
    db.session.add(commissioner)
    return commissioner


def _related(model, ids) -> list:
    if not ids:
        return []
    return db.session.scalars(scoped(model).where(model.id.in_(ids))).all()


def write(spec: Spec, result: Result) -> int:
    """Write every new row of a checked file in one transaction: all or nothing."""
    if not result.ok:
        raise ValueError("a file with invalid rows is never written")
    try:
        with db.session.no_autoflush:
            for row in result.new:
                if spec.kind == "commissioners":
                    _build_commissioner(row.data)
                else:
                    target_services.build(None, row.data)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(result.new)
