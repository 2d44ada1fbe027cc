from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from app.auth.services import USERNAME_PATTERN, password_problem
from app.core.i18n import lazy_gettext as _l


def strong_password(form, field):
    """A new password that ``password_problem`` allows (empty is left to the other rules)."""
    problem = password_problem(field.data) if field.data else None
    if problem:
        raise ValidationError(problem)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[InputRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Stay logged in on this device"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = PasswordField(_l("New password"), validators=[InputRequired(), strong_password])
    confirm = PasswordField(_l("New password again"), validators=[
        InputRequired(), EqualTo("new", message=_l("The two passwords differ."))])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[
        InputRequired(), Length(min=3, max=40),
        Regexp(USERNAME_PATTERN, message=_l("Letters, digits, dot, dash and underscore only."))])
    display_name = StringField(_l("Name shown"), validators=[Optional(), Length(max=80)])
    role = SelectField(_l("Role"), validators=[InputRequired()])
    # No Optional(): it would stop the chain before validate_commissioner_id runs.
    # The filter makes "none" (no field sent, or an account without one) the empty choice.
    commissioner_id = SelectField(_l("Commissioner record"), filters=[lambda v: v or ""])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), strong_password])
    confirm = PasswordField(_l("Password again"), validators=[
        EqualTo("password", message=_l("The two passwords differ."))])

    def validate_commissioner_id(self, field):
        if self.role.data == "commissioner" and not field.data:
            raise ValidationError(_l("A commissioner account must be linked to a commissioner."))
