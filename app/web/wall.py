"""The login wall and what guards every request: public endpoints, the NUL guard, URL
integers the database can hold, and the security headers."""
from flask import current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from app.core.extensions import login_manager
from app.core.i18n import gettext as _
from app.web.errors import error_page

PUBLIC_ENDPOINTS = {"auth.login", "static", "main.healthz", "main.language",
                    "sync_api.openapi"}
TOKEN_BLUEPRINTS = {"sync_api"}  # nodes authenticate with their own token, not a login

# Styles and scripts come from our own files only: no inline <style>, no style="" (a
# test greps the templates), and htmx does not inject its indicator style
# (includeIndicatorStyles: false in base.html; the rules are in static/css/kepai.css).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'")


class DatabaseInteger(IntegerConverter):
    """``<int:...>`` in a URL: only what an integer column holds (PostgreSQL's INTEGER,
    within SQLite's too); a larger number is a 404, not a database error (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def configure(app):
    app.url_map.converters["int"] = DatabaseInteger
    # /favicon.ico, which browsers ask for by themselves: the static file, through the
    # public "static" endpoint (no login; url_for('static', filename='favicon.ico') gives it)
    app.add_url_rule("/favicon.ico", endpoint="static", defaults={"filename": "favicon.ico"})
    login_manager.login_view = "auth.login"

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            response = current_app.response_class(status=200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    @app.before_request
    def no_nul_characters():
        """A NUL character in a parameter or a form field is never text a person typed,
        and PostgreSQL cannot store it: refused before any view sees it (400, not a 500)."""
        if request.blueprint in TOKEN_BLUEPRINTS:
            return None  # sync bodies are checked value by value (app/sync/values.py)
        values = list(request.args.values())
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                             "multipart/form-data"):
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            return error_page(400, _("The request holds a character that is not text (NUL)."))
        return None

    @app.before_request
    def login_wall():
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if request.blueprint in TOKEN_BLUEPRINTS:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
