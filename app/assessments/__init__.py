"""The yearly assessment (年度考核): schemes as data, commissioner sheets scored from the
records, submission with a frozen snapshot, the league's review, proposed exits."""
from flask import Blueprint

bp = Blueprint("assessments", __name__, url_prefix="/assessments")

from app.assessments import routes  # noqa: E402,F401
