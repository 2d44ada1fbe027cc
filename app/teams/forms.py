"""The service team form; the cluster and commissioner choices come from the routes."""
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.core.i18n import lazy_gettext as _l
from app.web.forms import MultiCheckboxField, TrimmedStringField


class TeamForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    cluster_id = SelectField(_l("Industry cluster"), validators=[Optional()])
    leader_id = SelectField(_l("Leader"), validators=[Optional()])
    member_ids = MultiCheckboxField(_l("Members"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        data["cluster_id"] = data["cluster_id"] or None
        data["leader_id"] = data["leader_id"] or None
        data["member_ids"] = data["member_ids"] or []
        data["notes"] = data["notes"] or ""
        return data
