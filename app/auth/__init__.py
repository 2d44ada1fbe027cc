"""Logging in and out, changing one's password, and the users page for admins."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401
