"""Industry clusters (产业集群): the region's list, read by everyone, edited by league
and region admins."""
from flask import Blueprint

bp = Blueprint("clusters", __name__, url_prefix="/clusters")

from app.clusters import routes  # noqa: E402,F401
