"""Industry service teams (产业服务团): commissioners built around one industry cluster,
with a leader who is one of the members."""
from flask import Blueprint

bp = Blueprint("teams", __name__, url_prefix="/teams")

from app.teams import routes  # noqa: E402,F401
