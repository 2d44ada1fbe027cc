"""Forms for stations and their sites; choices that depend on the node are filled in
by the routes (``services.county_choices`` and friends)."""
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core import choices
from app.core.i18n import lazy_gettext as _l
from app.web.forms import MultiCheckboxField, TrimmedStringField, not_in_future, phone_number


class StationForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices.options(choices.STATION_KINDS))
    host_org = TrimmedStringField(_l("Host organisation"), validators=[Optional(), Length(max=100)])
    host_org_type = SelectField(_l("Type of host organisation"),
                                choices=choices.options(choices.HOST_ORG_TYPES, blank="—"),
                                validators=[Optional()])
    county_id = SelectField(_l("Banner / county"), validators=[InputRequired()])
    address = TrimmedStringField(_l("Address"), validators=[Optional(), Length(max=200)])
    contact_name = TrimmedStringField(_l("Contact person"), validators=[Optional(), Length(max=40)])
    contact_phone = TrimmedStringField(_l("Contact phone"), validators=[Optional(), phone_number])
    established_on = DateField(_l("Established on"), validators=[Optional(), not_in_future])
    cluster_ids = MultiCheckboxField(_l("Industry clusters"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        """The fields as the service takes them (no CSRF token, empty text as "")."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        for key in ("host_org", "host_org_type", "address", "contact_name", "contact_phone", "notes"):
            data[key] = data[key] or ""
        return data


class SiteForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices.options(choices.SITE_KINDS))
    village_id = SelectField(_l("Gacha / village"), validators=[Optional()])
    cluster_id = SelectField(_l("Industry cluster"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["village_id"] = data["village_id"] or None
        data["cluster_id"] = data["cluster_id"] or None
        data["notes"] = data["notes"] or ""
        return data
