"""Training sessions (培训): plan, print the sign-in sheet, record who came, count them."""
from flask import Blueprint

bp = Blueprint("trainings", __name__, url_prefix="/trainings")

from app.trainings import roster_routes, routes  # noqa: E402,F401
