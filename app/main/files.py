"""Serving attached files, to users whose node may see the record they belong to."""
from flask import abort, send_file
from sqlalchemy import or_

from app.core import files
from app.core.extensions import db
from app.core.security import scoped
from app.main import bp
from app.models import Attachment


@bp.get("/files/<sha256>")
def attachment_file(sha256: str):
    return _send(sha256)


def _send(sha256: str):
    if not files.SHA.match(sha256):
        abort(404)
    attachment = db.session.scalar(scoped(Attachment).where(
        or_(Attachment.sha256 == sha256, Attachment.thumb_sha256 == sha256)).limit(1))
    if attachment is None or not files.exists(sha256):
        abort(404)
    is_pdf = attachment.content_type == "application/pdf" and attachment.sha256 == sha256
    response = send_file(files.path(sha256), mimetype="application/pdf" if is_pdf else "image/jpeg",
                         download_name=attachment.filename if is_pdf else None,
                         as_attachment=False, max_age=31536000, conditional=True, etag=sha256)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
