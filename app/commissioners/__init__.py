"""The commissioner roster (科技特派员): list, find, record, edit, retire."""
from flask import Blueprint

bp = Blueprint("commissioners", __name__, url_prefix="/commissioners")

from app.commissioners import routes  # noqa: E402,F401
