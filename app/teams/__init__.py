"""TODO(helper): the teams area."""
from flask import Blueprint

bp = Blueprint("teams", __name__, url_prefix="/teams")

from app.teams import routes  # noqa: E402,F401
