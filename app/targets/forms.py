"""The service target form and its field validators."""
import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.core import choices
from app.core.i18n import lazy_gettext as _l
from app.web.forms import TrimmedStringField, id_number, phone_number


def credit_code(form, field):
    """A unified social credit code (统一社会信用代码): 18 digits or capital letters."""
    value = (field.data or "").strip().upper().replace(" ", "")
    field.data = value
    if value and not re.fullmatch(r"[0-9A-Z]{18}", value):
        raise ValidationError(_l("A unified social credit code has 18 digits or capital letters."))


class TargetForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=choices.options(choices.TARGET_KINDS))
    village_id = SelectField(_l("Gacha / village"), validators=[Optional()])
    contact_name = TrimmedStringField(_l("Contact person"), validators=[Optional(), Length(max=40)])
    phone = TrimmedStringField(_l("Phone"), validators=[Optional(), phone_number])
    id_number = TrimmedStringField(_l("ID number"), validators=[Optional(), id_number])
    credit_code = TrimmedStringField(_l("Unified social credit code"),
                                     validators=[Optional(), credit_code])
    poverty_alleviated = BooleanField(_l("Household lifted out of poverty"))
    monitored = BooleanField(_l("Household under monitoring"))
    household_size = IntegerField(_l("Household size"),
                                  validators=[Optional(), NumberRange(min=1, max=50)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        """The fields as the service takes them (no CSRF token, empty text as "")."""
        data = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        for key in ("contact_name", "phone", "id_number", "credit_code", "notes"):
            data[key] = data[key] or ""
        data["village_id"] = data["village_id"] or None
        return data
