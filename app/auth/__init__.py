"""Logging in and out, changing one's password, and the users page for admins."""
from flask import Blueprint

from app.core.extensions import login_manager

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id):
    from app.auth.services import session_user
    return session_user(session_id)


from app.auth import routes  # noqa: E402,F401
