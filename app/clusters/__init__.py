"""TODO(helper): the clusters area."""
from flask import Blueprint

bp = Blueprint("clusters", __name__, url_prefix="/clusters")

from app.clusters import routes  # noqa: E402,F401
