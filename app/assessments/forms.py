"""The assessment forms. The station part's entered indicators come from the scheme
(fields named ``entered-<key>``, read from the request by the routes); every rule is in
services (``station_part_errors``, ``review_errors``), which the routes call."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.assessments.vocab import GRADES
from app.core.i18n import lazy_gettext as _l


def _grades():
    return [("", "—")] + [(k, v) for k, v in GRADES.items()]


class StationPartForm(FlaskForm):
    self_score = StringField(_l("Self-assessed score"), validators=[Optional(), Length(max=10)])
    proposed_grade = SelectField(_l("Proposed grade"), choices=_grades(), validators=[Optional()])
    summary = TextAreaField(_l("Summary of the year"), validators=[Optional()])
    typical_case = TextAreaField(_l("Typical case"), validators=[Optional()])


class CommentForm(FlaskForm):
    commissioner_comment = TextAreaField(_l("Your comment"),
                                         validators=[Optional(), Length(max=5000)])


class ReviewForm(FlaskForm):
    final_grade = SelectField(_l("Final grade"), choices=_grades(), validators=[Optional()])
    reviewer_score = StringField(_l("Reviewer's score"), validators=[Optional(), Length(max=10)])
    review_comment = TextAreaField(_l("Review comment"), validators=[Optional()])


class EvidenceForm(FlaskForm):
    """A file of evidence for an entered indicator (a PDF or a photo)."""
    file = FileField(_l("Evidence (PDF or photo)"), validators=[FileRequired()])
    indicator = SelectField(_l("For the indicator"), validators=[Optional()])


class EmptyForm(FlaskForm):
    """A button with its CSRF token (open a sheet, submit it)."""
