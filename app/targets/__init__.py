"""Service targets (服务对象): the households, co-ops, enterprises, family farms and
village collectives that commissioners serve."""
from flask import Blueprint

bp = Blueprint("targets", __name__, url_prefix="/targets")

from app.targets import routes  # noqa: E402,F401
