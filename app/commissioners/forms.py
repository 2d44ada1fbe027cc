from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core import choices
from app.core.i18n import lazy_gettext as _l
from app.web.forms import MultiCheckboxField, TrimmedStringField, id_number, not_in_future, phone_number


class CommissionerForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices.options(choices.COMMISSIONER_KINDS))
    sex = SelectField(_l("Sex"), choices=choices.options(choices.SEXES, blank="—"),
                      validators=[Optional()])
    ethnicity = TrimmedStringField(_l("Ethnicity"), validators=[Optional(), Length(max=20)])
    level = SelectField(_l("Level of recognition"), choices=choices.options(choices.LEVELS),
                        default="county")
    sending_org = TrimmedStringField(_l("Sending organisation"), validators=[Optional(), Length(max=100)])
    sending_org_type = SelectField(_l("Type of sending organisation"),
                                   choices=choices.options(choices.SENDING_ORG_TYPES, blank="—"),
                                   validators=[Optional()])
    local_talent_kind = SelectField(_l("Kind of local talent"),
                                    choices=choices.options(choices.LOCAL_TALENT_KINDS, blank="—"),
                                    validators=[Optional()])
    specialty = TrimmedStringField(_l("Specialty"), validators=[Optional(), Length(max=100)])
    title = TrimmedStringField(_l("Professional title"), validators=[Optional(), Length(max=40)])
    cluster_ids = MultiCheckboxField(_l("Industry clusters"), validators=[Optional()])
    three_areas_talent = BooleanField(_l("\"Three areas\" science and technology talent"))
    hotline_expert = BooleanField(_l("12396 hotline seat expert"))
    phone = TrimmedStringField(_l("Phone"), validators=[Optional(), phone_number])
    id_number = TrimmedStringField(_l("ID number"), validators=[Optional(), id_number])
    station_id = SelectField(_l("Station"), validators=[Optional()])
    village_ids = SelectMultipleField(_l("Villages served"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=choices.options(choices.COMMISSIONER_STATUSES))
    recognised_on = DateField(_l("Recognised on"), validators=[Optional(), not_in_future])
    dispatched_on = DateField(_l("Dispatched on"), validators=[Optional(), not_in_future])
    exited_on = DateField(_l("Exited on"), validators=[Optional(), not_in_future])
    exit_reason = TrimmedStringField(_l("Reason for exit"), validators=[Optional(), Length(max=200)])
    members_note = TextAreaField(_l("Team members or responsible people"),
                                 validators=[Optional(), Length(max=2000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        """The fields as the service takes them (no CSRF token, empty text as "")."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        for key in ("sex", "sending_org_type", "local_talent_kind", "ethnicity", "sending_org",
                    "specialty", "title", "phone", "id_number", "exit_reason", "members_note", "notes"):
            data[key] = data[key] or ""
        return data
