"""Attaching files to records: checked by content (never by name), photos normalised
(EXIF orientation applied, at most 1600 px, metadata stripped, a thumbnail made), PDFs
recognised by their structure, everything stored once by SHA-256.

``add()`` raises ``AttachmentError`` with a message in the user's language; nothing is
stored or recorded then.
"""
import io
from datetime import datetime

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from app import files
from app.extensions import db
from app.models.attachment import Attachment
from app.models.base import new_id

MAX_BYTES = 20 * 1024 * 1024
MAX_SIDE = 1600
THUMB_SIDE = 320
MAX_PIXELS = 80_000_000  # refuse decompression bombs

try:  # iPhone photos: HEIC/HEIF through the maintained pillow-heif plugin
    from pillow_heif import register_heif_opener
    register_heif_opener()
except ImportError:  # pragma: no cover - the package is a dependency; tolerate its absence
    pass

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class AttachmentError(ValueError):
    """A file that cannot be attached; the message says why, for the user."""


def _exif_when_where(image) -> tuple[datetime | None, float | None, float | None]:
    """The photo's capture time and GPS position from its EXIF, when it has them."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - damaged EXIF is common; it only loses the hint
        return None, None, None
    taken = None
    raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
    if isinstance(raw, str):
        try:
            taken = datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken = None
    gps = exif.get_ifd(0x8825)

    def degrees(values, ref):
        try:
            d, m, s = (float(v) for v in values)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        value = d + m / 60 + s / 3600
        return -value if ref in ("S", "W") else value
    lat = degrees(gps.get(2), gps.get(1)) if gps else None
    lon = degrees(gps.get(4), gps.get(3)) if gps else None
    if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
        lat = lon = None
    return taken, lat, lon


def normalise_photo(data: bytes) -> dict:
    """Check an image by content and return the stored form: JPEG bytes, a thumbnail,
    size, and the EXIF capture time and position (then dropped from the file)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError:
        raise AttachmentError(_("The image is too large in pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise AttachmentError(_("This file is not an image, or it is damaged.")) from None
    taken, lat, lon = _exif_when_where(image)
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no EXIF written: metadata stripped
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "JPEG", quality=80)
    return {"data": out.getvalue(), "thumb": thumb_out.getvalue(), "width": image.width,
            "height": image.height, "taken_at": taken, "latitude": lat, "longitude": lon}


def check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise AttachmentError(_("This file is not a PDF, or it is incomplete."))


def add(record, upload, kind: str = "photo", caption: str = "") -> Attachment:
    """Attach an uploaded file (a werkzeug FileStorage) to ``record`` in the current
    session; the caller commits together with the record."""
    data = upload.read(MAX_BYTES + 1)
    if not data:
        raise AttachmentError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AttachmentError(_("The file is too large: at most %(mb)s MB.",
                                mb=MAX_BYTES // (1024 * 1024)))
    filename = (upload.filename or "")[-200:]
    if data.startswith(b"%PDF-"):
        if kind == "photo":
            raise AttachmentError(_("This file is not an image, or it is damaged."))
        check_pdf(data)
        meta = {"data": data, "thumb": None, "width": None, "height": None, "taken_at": None,
                "latitude": None, "longitude": None}
        content_type = "application/pdf"
    else:
        meta = normalise_photo(data)
        content_type = "image/jpeg"
    if record.id is None:
        record.id = new_id()
    sha = files.store(meta["data"])
    thumb = files.store(meta["thumb"]) if meta["thumb"] else None
    attachment = Attachment(
        record_type=record.__tablename__, record_id=record.id, kind=kind, sha256=sha,
        thumb_sha256=thumb, filename=filename, content_type=content_type,
        size=len(meta["data"]), width=meta["width"], height=meta["height"],
        taken_at=meta["taken_at"], latitude=meta["latitude"], longitude=meta["longitude"],
        caption=caption[:200], owner_node=record.owner_node)
    db.session.add(attachment)
    return attachment


def for_record(record) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(
        Attachment.record_type == record.__tablename__, Attachment.record_id == record.id,
        Attachment.deleted_at.is_(None)).order_by(Attachment.created_at)).all()


def present(attachment: Attachment) -> bool:
    """Whether the file's bytes are here yet (a synced record may arrive before them)."""
    return files.exists(attachment.sha256)
