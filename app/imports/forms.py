"""The upload and confirm forms of an import."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp

from app.core.i18n import lazy_gettext as _l


class UploadForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"),
                     validators=[FileRequired(_l("Choose the filled-in Excel file."))])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{32}$")])
