"""Request-wide behaviour: language, the login wall, security headers, error pages and
what every template can use."""
from flask import current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app import choices, security
from app.extensions import login_manager
from app.files import size_text
from app.htmx import render, wants_fragment
from app.options import option_tags

PUBLIC_ENDPOINTS = {"auth.login", "static", "main.healthz", "main.language",
                    "sync_api.openapi"}
TOKEN_BLUEPRINTS = {"sync_api"}  # nodes authenticate with their own token, not a login

ERROR_TITLES = {
    400: _l("Bad request"), 403: _l("Not allowed"), 404: _l("Not found"),
    405: _l("Not allowed"), 413: _l("Too large"), 422: _l("Invalid input"),
    500: _l("Something went wrong"),
}


class DatabaseInteger(IntegerConverter):
    """``<int:...>`` in a URL: only what an integer column holds (PostgreSQL's INTEGER,
    within SQLite's too); a larger number is a 404, not a database error (a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def select_locale():
    lang = session.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]


def configure(app):
    """Before the blueprints are registered: their URLs use the ``int`` converter."""
    app.url_map.converters["int"] = DatabaseInteger
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(session_id):
        from app.auth.services import session_user
        return session_user(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request") == "true":
            response = current_app.response_class(status=200)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)

    @app.before_request
    def start_sync_worker():
        from app.sync import worker
        worker.start(app)

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
            return _error_page(400, _("The request holds a character that is not text (NUL)."))
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
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _error_page(400, _("The form expired or was sent from elsewhere. "
                                  "Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:  # routing redirects pass through
            return error
        from app.extensions import db
        db.session.rollback()  # a refused request writes nothing, even what it had begun
        if error.code == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
            return _error_page(413, _("The upload is too large: at most %(limit)s.",
                                      limit=size_text(current_app.config["MAX_CONTENT_LENGTH"])))
        return _error_page(error.code, None)

    @app.errorhandler(500)
    def server_error(error):
        from app.extensions import db
        db.session.rollback()
        return _error_page(500, None)

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(
        can=security.can, shown_phone=security.shown_phone,
        shown_id_number=security.shown_id_number, choices=choices, wants_fragment=wants_fragment,
        writable=security.writable, option_tags=option_tags)
    app.jinja_env.filters["label"] = lambda code, vocabulary: vocabulary.get(code, code or "")
    app.jinja_env.globals["audit_cell"] = audit_cell
    app.jinja_env.filters["options"] = lambda items, value="id", text="name": [
        (getattr(item, value), getattr(item, text)) for item in items]

    @app.context_processor
    def node_context():
        from app.node import this_node
        context = {"node": this_node(), "locale": select_locale()}
        if current_user.is_authenticated:
            from app.sync.services import header_status
            context["sync_status"] = header_status()
        return context


def _translations():
    """The translations for templates, looked up once per request and locale (Flask-Babel
    looks them up anew for each of the fifty-odd strings of a page)."""
    locale = get_locale()
    memo = g.get("kepai_translations")
    if memo is None or memo[0] is not locale:
        memo = g.kepai_translations = (locale, get_translations())
    return memo[1]


def _error_page(code: int, message: str | None):
    messages = {
        400: _("The request could not be understood."),
        403: _("You are not allowed to see or do this."),
        404: _("There is no such page or record, or it is not yours to see."),
        405: _("This address does not accept that kind of request."),
        413: _("The upload is too large."),
        422: _("Some of what was entered is not valid."),
        500: _("Something went wrong on our side. Nothing was saved; please try again."),
    }
    message = message or messages.get(code, _("Something went wrong."))
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=message), code
    title = ERROR_TITLES.get(code, _("Error"))
    return render("errors/error.html", "errors/_error.html", status=code,
                  code=code, title=title, message=message)


def audit_value(value, vocabulary=None) -> str:
    """A value from an audit entry as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return "、".join(audit_value(v, vocabulary) for v in value)
    if vocabulary and value in vocabulary:
        return str(vocabulary[value])
    if vocabulary and isinstance(value, str) and all(code in vocabulary for code in value.split()):
        return "、".join(str(vocabulary[code]) for code in value.split())  # "guidance policy"
    return str(value)


def audit_cell(record, field: str, value, vocabulary=None) -> str:
    """An audit value for display, with phone and ID numbers masked as the role requires."""
    kind = type(record).__pii__.get(field)
    owner = getattr(record, "id", None) if type(record).__tablename__ == "commissioner" else None
    if kind == "phone" and isinstance(value, str):
        value = security.shown_phone(value, owner)
    elif kind == "id_number" and isinstance(value, str):
        value = security.shown_id_number(value, owner)
    return audit_value(value, vocabulary)
