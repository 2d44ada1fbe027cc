from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import URL, InputRequired, Length, Regexp

from app.core.i18n import lazy_gettext as _l
from app.web.forms import TrimmedStringField


class UpstreamForm(FlaskForm):
    url = TrimmedStringField(_l("Upstream address"), validators=[
        InputRequired(), Length(max=300),
        URL(require_tld=False, message=_l("Give the address as http://host:port."))])
    token = StringField(_l("Token"), validators=[
        InputRequired(), Length(min=20, max=100),
        Regexp(r"^kp1_[A-Za-z0-9_-]+$", message=_l("This is not a Kepai token (it starts with kp1_)."))])


class EnrollForm(FlaskForm):
    code = TrimmedStringField(_l("Node code"), validators=[InputRequired(), Length(max=16)])
    name = TrimmedStringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
