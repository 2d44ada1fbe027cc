"""The plan target form; the scope choices come from the routes, the rules from
services.goal_errors."""
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.core.i18n import lazy_gettext as _l
from app.goals.vocab import INDICATORS
from app.web.forms import TrimmedStringField


class GoalForm(FlaskForm):
    indicator = SelectField(_l("What is counted"), validators=[InputRequired()],
                            choices=[(k, v) for k, v in INDICATORS.items()])
    scope = SelectField(_l("For the node"), validators=[InputRequired()])
    wording = TrimmedStringField(_l("Wording (as in the plan)"),
                                 validators=[Optional(), Length(max=300)])
    value = IntegerField(_l("Target value"), validators=[
        InputRequired(message=_l("Enter a whole number of at least 1.")),
        NumberRange(min=1, max=1000000, message=_l("Enter a whole number of at least 1."))])
    starts_on = DateField(_l("Counted from"), validators=[Optional()])
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Enter the deadline."))])
    sort_order = IntegerField(_l("Sort order"), default=0, validators=[
        Optional(), NumberRange(min=0, max=100000, message=_l("Enter a whole number from 0 up."))])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def data_for_save(self) -> dict:
        return {"indicator": self.indicator.data, "scope": self.scope.data,
                "wording": self.wording.data or "", "value": self.value.data,
                "starts_on": self.starts_on.data, "deadline": self.deadline.data,
                "sort_order": self.sort_order.data or 0, "notes": self.notes.data or ""}
