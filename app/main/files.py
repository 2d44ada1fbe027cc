"""Serving attached files, to users whose node may see the record they belong to."""
from flask import abort, send_file
from sqlalchemy import or_

from app.core import attachments, files
from app.core.extensions import db
from app.core.security import scoped
from app.main import bp
from app.models import Attachment


@bp.get("/files/<sha256>")
def attachment_file(sha256: str):
    return _send(sha256)


@bp.get("/files/<sha256>/thumbnail")
def attachment_thumbnail(sha256: str):
    """The thumbnail of the photo ``sha256``: the one made where the photo was attached
    if it is here, else the one this node made of the photo (a node that receives photos
    by sync makes them; thumbnails are not sent)."""
    if not files.SHA.match(sha256):
        abort(404)
    attachment = db.session.scalar(scoped(Attachment).where(
        Attachment.sha256 == sha256, Attachment.content_type.like("image/%")).limit(1))
    where = attachments.thumbnail_file(attachment) if attachment is not None else None
    if where is None:
        abort(404)
    return _immutable(send_file(where, mimetype="image/jpeg", max_age=31536000, conditional=True,
                                etag=f"{sha256}.thumb"))


def _send(sha256: str):
    if not files.SHA.match(sha256):
        abort(404)
    # The attachment whose file it is first: a thumbnail digest names any file it likes.
    attachment = db.session.scalar(scoped(Attachment).where(
        or_(Attachment.sha256 == sha256, Attachment.thumb_sha256 == sha256))
        .order_by((Attachment.sha256 == sha256).desc()).limit(1))
    if attachment is None:
        abort(404)
    if attachment.sha256 != sha256 and not (attachments.made_here(attachment) and files.exists(sha256)):
        return attachment_thumbnail(attachment.sha256)  # a thumbnail another node made: ours
    if not files.exists(sha256):
        abort(404)
    is_pdf = attachment.content_type == "application/pdf" and attachment.sha256 == sha256
    return _immutable(send_file(files.path(sha256), mimetype="application/pdf" if is_pdf else "image/jpeg",
                                download_name=attachment.filename if is_pdf else None,
                                as_attachment=False, max_age=31536000, conditional=True, etag=sha256))


def _immutable(response):
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
