"""Error pages: every refusal in the user's language, as a page, a partial for htmx, or
JSON for the API; whatever the request had begun to write is rolled back."""
from flask import current_app, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.extensions import db
from app.core.files import size_text
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.web.htmx import render

ERROR_TITLES = {
    400: _l("Bad request"), 403: _l("Not allowed"), 404: _l("Not found"),
    405: _l("Not allowed"), 413: _l("Too large"), 422: _l("Invalid input"),
    500: _l("Something went wrong"),
}


def configure(app):
    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(400, _("The form expired or was sent from elsewhere. "
                                 "Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:  # routing redirects pass through
            return error
        db.session.rollback()  # a refused request writes nothing, even what it had begun
        if error.code == 413 and current_app.config.get("MAX_CONTENT_LENGTH"):
            return error_page(413, _(
                "The upload is too large: at most %(limit)s in one save, photos and files "
                "together. Nothing was saved. Go back to the form, choose fewer or smaller "
                "files (or save them in two goes), and send it again.",
                limit=size_text(current_app.config["MAX_CONTENT_LENGTH"])))
        return error_page(error.code, None)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        return error_page(500, None)


def error_page(code: int, message: str | None):
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
