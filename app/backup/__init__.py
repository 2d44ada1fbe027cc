"""Backups: ``flask backup`` / ``flask restore`` (cli.py), the station admin's backups
page (routes.py) and the work itself (services.py)."""
from flask import Blueprint

bp = Blueprint("backup", __name__, url_prefix="/backups")

from app.backup import routes  # noqa: E402,F401
