"""The form for a township (苏木/乡镇) or village (嘎查/村). Its level comes from the
address (``?level=village``), not from the form; the rules that need the database
(allowed parent, code shape, duplicate names) are in services.errors."""
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired, Length, Optional

from app.core.i18n import lazy_gettext as _l
from app.web.forms import TrimmedStringField


class PlaceForm(FlaskForm):
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=60)])
    code = TrimmedStringField(_l("Statistical code"), validators=[Optional(), Length(max=12)])
    parent_id = SelectField(_l("Belongs to"), validators=[InputRequired()], validate_choice=False)

    def data_for_save(self) -> dict:
        return {"name": self.name.data, "code": self.code.data or None,
                "parent_id": self.parent_id.data or None}
