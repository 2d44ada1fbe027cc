"""The visit form: one class for the staff's full form and the commissioner's short one
(the short template shows fewer fields). Pickers accept ids; the service checks that
they belong to the user's node."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.i18n import lazy_gettext as _l
from app.visits import services, vocab
from app.web.forms import (
    MultiCheckboxField,
    TextTimeField,
    TrimmedStringField,
    field_labels,
    not_in_future,
)

TEXT = services.LIMITS


class VisitForm(FlaskForm):
    # The id a new visit will have, made when the form is first shown: sending the same
    # form twice (a lost answer on a bad line, a double tap) saves it once. The browser's
    # draft keeps it too (data-draft-keep, static/js/draft.js).
    visit_id = HiddenField(render_kw={"data-draft-keep": ""})
    visited_on = DateField(_l("Date"), validators=[InputRequired(), not_in_future])
    start_time = TextTimeField(_l("Start time"), validators=[Optional()])
    end_time = TextTimeField(_l("End time"), validators=[Optional()])
    hours = FloatField(_l("Service hours"), validators=[
        Optional(), NumberRange(0, 24, _l("Hours must be between 0 and 24."))])
    commissioner_ids = SelectMultipleField(_l("Commissioners"), validate_choice=False)
    target_ids = SelectMultipleField(_l("Service targets"), validate_choice=False)
    station_id = SelectField(_l("Station"), validate_choice=False, validators=[Optional()])
    village_id = SelectField(_l("Village"), validate_choice=False, validators=[Optional()])
    location = TrimmedStringField(_l("Location"), validators=[Optional(), Length(max=TEXT["location"])])
    latitude = FloatField(_l("Latitude"), validators=[Optional()])
    longitude = FloatField(_l("Longitude"), validators=[Optional()])
    cluster_id = SelectField(_l("Industry cluster"), validate_choice=False, validators=[Optional()])
    stage = SelectField(_l("Production stage"), choices=[("", "—")] + list(vocab.STAGES.items()),
                        validators=[Optional()])
    service_types = MultiCheckboxField(_l("Service types"), choices=list(vocab.SERVICE_TYPES.items()),
                                       validators=[Optional()])
    mode = SelectField(_l("How"), choices=list(vocab.MODES.items()), default="onsite")
    problem = TextAreaField(_l("Problem"), validators=[Optional(), Length(max=TEXT["problem"])])
    action = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=TEXT["action"])])
    result = TextAreaField(_l("Result"), validators=[Optional(), Length(max=TEXT["result"])])
    technologies = TrimmedStringField(_l("Technologies introduced"),
                                      validators=[Optional(), Length(max=TEXT["technologies"])])
    technology_count = IntegerField(_l("Number of technologies"),
                                    validators=[Optional(), NumberRange(0, services.MAX_COUNT)])
    varieties = TrimmedStringField(_l("Varieties introduced"),
                                   validators=[Optional(), Length(max=TEXT["varieties"])])
    variety_count = IntegerField(_l("Number of varieties"),
                                 validators=[Optional(), NumberRange(0, services.MAX_COUNT)])
    people_reached = IntegerField(_l("People reached"),
                                  validators=[Optional(), NumberRange(0, services.MAX_COUNT)])
    follow_up = BooleanField(_l("Follow-up wanted"))
    follow_up_on = DateField(_l("Follow-up date"), validators=[Optional()])
    photos = MultipleFileField(_l("Photos"))
    use_photo_info = BooleanField(_l("Take the date, time and position from the photo"))

    def data_for_save(self) -> dict:
        """The fields as the service takes them (no token, no uploads)."""
        skip = {"csrf_token", "photos", "use_photo_info", "visit_id"}
        data = {name: f.data for name, f in self._fields.items() if name not in skip}
        for key in ("location", "problem", "action", "result", "technologies", "varieties", "stage"):
            data[key] = (data[key] or "").strip()
        data["commissioner_ids"] = [i for i in data["commissioner_ids"] or [] if i]
        data["target_ids"] = [i for i in data["target_ids"] or [] if i]
        return data

    def uploads(self) -> list:
        """The files actually chosen (browsers send one empty part for none)."""
        return [f for f in (self.photos.data or []) if getattr(f, "filename", "")]


class ReviewForm(FlaskForm):
    """The league's review of a visit: received, has issues or approved, with a comment."""

    review_state = SelectField(_l("Review"), choices=[
        (code, label) for code, label in vocab.REVIEW_STATES.items() if code])
    review_comment = TextAreaField(_l("Reviewer's comment"), validators=[Optional(), Length(max=1000)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.review_state.data == "has_issues" and not (self.review_comment.data or "").strip():
            self.review_comment.errors = [*self.review_comment.errors, _l("Say what the issues are.")]
            valid = False
        return valid


def history_labels() -> dict:
    """A visit's history by its form's labels, and the fields its number and review set."""
    return {**field_labels(VisitForm), "number": _l("Number"),
            "commissioners": _l("Commissioners"), "targets": _l("Service targets"),
            "review_state": _l("Review"), "review_comment": _l("Reviewer's comment"),
            "reviewed_at": _l("Reviewed on")}
