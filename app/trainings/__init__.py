"""Training sessions (培训): plan, print the sign-in sheet, record who came, count them."""
from flask import Blueprint

bp = Blueprint("trainings", __name__, url_prefix="/trainings")

from app.trainings import routes, roster_routes  # noqa: E402,F401
