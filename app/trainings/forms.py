"""Training forms: the session, its head counts, one attendee, an attachment, a link."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from app.core import choices
from app.core.i18n import lazy_gettext as _l
from app.trainings.vocab import ATTACHMENT_KINDS, CATEGORIES, MODES, STATUSES
from app.web.forms import (
    OptionsSelectField,
    OptionsSelectMultipleField,
    TrimmedStringField,
    field_labels,
    phone_number,
)


class TrainingForm(FlaskForm):
    title = TrimmedStringField(_l("Training topic"), validators=[InputRequired(), Length(max=200)])
    held_on = DateField(_l("Date"), validators=[InputRequired()])
    hours = FloatField(_l("Training hours"), validators=[InputRequired()])
    mode = SelectField(_l("Mode"), choices=choices.options(MODES), default="offline")
    village_id = OptionsSelectField(_l("Gacha / village"), validators=[Optional()])
    place_text = TrimmedStringField(_l("Place (when not a village)"),
                                    validators=[Optional(), Length(max=200)])
    station_id = OptionsSelectField(_l("Organising station"), validators=[Optional()])
    trainer_ids = OptionsSelectMultipleField(_l("Trainers (commissioners)"), validators=[Optional()])
    outside_trainers = TrimmedStringField(_l("Outside trainers"),
                                          validators=[Optional(), Length(max=300)])
    cluster_id = OptionsSelectField(_l("Industry cluster"), validators=[Optional()])
    content = TextAreaField(_l("Content"), validators=[Optional(), Length(max=5000)])
    trainer_of_trainers = BooleanField(_l("Trainer-of-trainers session (level by level)"))
    status = SelectField(_l("Status"), choices=choices.options(STATUSES), default="planned")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        data = {name: f.data for name, f in self._fields.items() if name != "csrf_token"}
        for key in ("place_text", "outside_trainers", "content", "notes"):
            data[key] = (data[key] or "").strip()
        for key in ("village_id", "station_id", "cluster_id"):
            data[key] = data[key] or None
        data["trainer_ids"] = data["trainer_ids"] or []
        return data


def _count(label):
    return IntegerField(label, validators=[Optional()],
                        render_kw={"inputmode": "numeric", "min": "0"})


class CountsForm(FlaskForm):
    """Head counts by category, for a session without a roster (one field a category)."""

    women_count = _count(_l("Of whom women"))
    minority_count = _count(_l("Of whom ethnic minorities"))
    poverty_count = _count(_l("Of whom from households lifted out of poverty"))

    def counts(self) -> dict:
        return {code: self[f"count_{code}"].data for code in CATEGORIES}

    def extra(self) -> dict:
        return {key: self[key].data for key in ("women_count", "minority_count", "poverty_count")}


for _code, _label in CATEGORIES.items():
    setattr(CountsForm, f"count_{_code}", _count(_label))


class AttendeeForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    sex = SelectField(_l("Sex"), choices=choices.options(choices.SEXES, blank="—"),
                      validators=[Optional()])
    ethnicity = TrimmedStringField(_l("Ethnicity"), validators=[Optional(), Length(max=20)])
    village_id = OptionsSelectField(_l("Gacha / village"), validators=[Optional()])
    village_text = TrimmedStringField(_l("Village (when not in the list)"),
                                      validators=[Optional(), Length(max=100)])
    phone = TrimmedStringField(_l("Phone"), validators=[Optional(), phone_number])
    category = SelectField(_l("Category"), choices=choices.options(CATEGORIES), default="farmer")
    poverty_alleviated = BooleanField(_l("From a household lifted out of poverty"))

    def data_for_save(self) -> dict:
        data = {name: f.data for name, f in self._fields.items() if name != "csrf_token"}
        for key in ("sex", "ethnicity", "village_text", "phone"):
            data[key] = data[key] or ""
        data["village_id"] = data["village_id"] or None
        return data


class AttachmentForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file."))])
    kind = SelectField(_l("Kind"), choices=choices.options(ATTACHMENT_KINDS), default="photo")
    caption = TrimmedStringField(_l("Caption"), validators=[Optional(), Length(max=200)])


class LinkForm(FlaskForm):
    target_id = HiddenField()


class SheetUploadForm(FlaskForm):
    file = FileField(_l("Filled sign-in sheet (.xlsx or .csv)"),
                     validators=[FileRequired(_l("Choose the filled sign-in sheet."))])


def history_labels() -> dict:
    """A session's history by the labels of its forms (the session, its head counts)."""
    return {**field_labels(TrainingForm), **field_labels(CountsForm),
            "head_counts": _l("Head counts by category")}


def attendee_history_labels() -> dict:
    """An attendee's history by the labels of its form, and its links."""
    return {**field_labels(AttendeeForm), "training": _l("Training session"),
            "target": _l("Linked service target")}
