"""Home page, health check and the language switch."""
from flask import Blueprint

bp = Blueprint("main", __name__)

from app.main import files, routes  # noqa: E402,F401
