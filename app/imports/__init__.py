"""Excel import of commissioners and service targets: a template to download, an
upload whose every row is checked by the web forms' own rules, a preview, and one
all-or-nothing write once the user confirms a file without an invalid row."""
from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from app.imports import routes  # noqa: E402,F401
