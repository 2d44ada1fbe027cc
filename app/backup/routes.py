"""The backups page (station admins only): the last backup's time and result, the
backups kept, *make a backup now* and *download the latest* (a zip, streamed)."""
from flask import Response, current_app, flash, redirect, url_for

from app.backup import bp, services
from app.core.files import size_text
from app.core.i18n import gettext as _
from app.core.security import require
from app.web.forms import DeleteForm
from app.web.htmx import render


def failure_text(kind: str | None) -> str:
    """Why a backup failed, in the user's language (the page shows the technical detail
    after it as it is)."""
    reasons = {
        "busy": _("A backup is already being made. Try again in a minute."),
        "space": _("The backup could not be written (is the disk full?)."),
        "verify": _("The backup copy did not pass its check and was removed."),
        "tool": _("The database tool failed."),
        "database": _("The database could not be read."),
        "files": _("An uploaded file is damaged."),
    }
    return reasons.get(kind, _("The backup failed."))


@bp.get("/")
@require("manage_backups")
def index():
    root = services.default_root()
    return render("backup/index.html", last=services.status(root),
                  backups=services.backups(root), root=root, form=DeleteForm(),
                  keep=current_app.config.get("BACKUP_KEEP", 14),
                  copy_to=current_app.config.get("BACKUP_COPY_TO"),
                  daily=current_app.config.get("BACKUP_DAILY", True), failure_text=failure_text,
                  size_text=size_text)


@bp.post("/")
@require("manage_backups")
def make():
    if not DeleteForm().validate_on_submit():
        flash(_("The form expired. Reload the page and send it again."), "error")
        return redirect(url_for("backup.index"))
    try:
        manifest = services.make(trigger="page")
    except services.BackupError as error:
        flash(failure_text(error.kind), "error")
        return redirect(url_for("backup.index"))
    flash(_("Backup made and checked: %(size)s.", size=size_text(manifest["size"])), "success")
    copy = manifest.get("copy")
    if copy and not copy["ok"]:
        flash(_("It could not be copied to %(folder)s.", folder=copy["to"]), "error")
    return redirect(url_for("backup.index"))


@bp.get("/latest.zip")
@require("manage_backups")
def download():
    newest = services.latest()
    if newest is None:
        flash(_("There is no backup yet."), "error")
        return redirect(url_for("backup.index"))
    response = Response(services.zip_stream(newest["path"]), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{newest["name"]}.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response
