"""TODO(helper): the stations area."""
from flask import Blueprint

bp = Blueprint("stations", __name__, url_prefix="/stations")

from app.stations import routes  # noqa: E402,F401
