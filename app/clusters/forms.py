"""The industry cluster form; the unique-name rule is in services.errors."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.i18n import lazy_gettext as _l
from app.web.forms import TrimmedStringField


class ClusterForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=40)])
    major = BooleanField(_l("Hundred-billion-yuan cluster"))
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[
        InputRequired(), NumberRange(min=0, max=100000, message=_l("Enter a whole number from 0 up."))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        return {"name": self.name.data, "major": bool(self.major.data),
                "sort_order": self.sort_order.data, "description": self.description.data or ""}
