"""Places (地点): the shipped GB/T 2260 tree (read-only) and the townships and villages
each station adds under its county, with a search-as-you-type picker for other forms."""
from flask import Blueprint

bp = Blueprint("places", __name__, url_prefix="/places")

from app.places import routes  # noqa: E402,F401
