"""Attaching files to records: checked by content (never by name), photos normalised
(EXIF orientation applied, at most 1600 px, metadata stripped, a thumbnail made), PDFs
recognised by their structure, everything stored once by SHA-256.

Images are decoded only within bounds. An image's width × height is read from its header
and checked against ``MAX_PIXELS`` before any pixel is decoded, whatever its format (the
formats taken are ``IMAGE_FORMATS``: JPEG, PNG, WebP, HEIC/HEIF and a few scanner
formats); Pillow's decompression-bomb warning counts as a refusal too. Decoding then runs
in at most ``IMAGE_WORKERS`` (a setting, default 2) requests at once, so that many photos
sent together wait for each other instead of taking many times the memory; a JPEG is
decoded directly at the smallest scale that still gives the stored size.

``add()`` raises ``AttachmentError`` with a message in the user's language; nothing is
stored or recorded then. The name a file was sent with is kept only for display, as a
safe base name (``files.safe_filename``).

Thumbnails are made by whoever holds the photo, never sent: the node where a photo is
attached makes one and records its digest (``thumb_sha256``, a field like the others);
a node that receives the photo by sync makes its own from the photo's bytes once they
are whole and checked (``photo_received``), kept as derived data beside the files
(``files.derived_path``). Pages ask for ``/files/<photo>/thumbnail`` (``thumbnail_file``).
"""
import io
import os
import threading
import warnings
from contextlib import contextmanager
from datetime import datetime

from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy import select

from app.core import files
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.node import this_node
from app.models.attachment import Attachment
from app.models.base import new_id

MAX_BYTES = 20 * 1024 * 1024
MAX_SIDE = 1600
THUMB_SIDE = 320
MAX_PIXELS = 80_000_000  # width × height; a larger image is refused before it is decoded
DECODE_WAIT_SECONDS = 120  # how long an image waits for a free decoding slot
IMAGE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF", "GIF", "BMP", "TIFF"})

try:  # iPhone photos: HEIC/HEIF through the maintained pillow-heif plugin
    from pillow_heif import register_heif_opener
    register_heif_opener()
except ImportError:  # pragma: no cover - the package is a dependency; tolerate its absence
    pass

# Pillow only warns between one and two times this limit (and refuses beyond); the warning
# is made an error below and the limit is checked again by ``open_within_bounds``.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_BOMB_IS_AN_ERROR = ("error", None, Image.DecompressionBombWarning, None, 0)
_slots_lock = threading.Lock()


class AttachmentError(ValueError):
    """A file that cannot be attached; the message says why, for the user."""


def _too_many_pixels() -> AttachmentError:
    return AttachmentError(_("The image is too large in pixels: at most %(mp)s megapixels. "
                             "Take it again in the camera's normal mode, or make it smaller.",
                             mp=MAX_PIXELS // 1_000_000))


def _not_an_image() -> AttachmentError:
    return AttachmentError(_("This file is not an image, or it is damaged."))


def _bomb_warning_is_an_error() -> None:
    """Make Pillow's DecompressionBombWarning an exception in this process. Checked on
    every use rather than once at import, because a test runner (or anything using
    ``warnings.catch_warnings``) may have put the filters back since."""
    if _BOMB_IS_AN_ERROR not in warnings.filters:
        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def open_within_bounds(data: bytes) -> Image.Image:
    """Open an image reading only its header, and refuse it (AttachmentError) unless it
    is of an accepted format and its width × height is within ``MAX_PIXELS``. No pixel
    has been decoded when this returns; the caller decodes in a ``decoding_slot``."""
    _bomb_warning_is_an_error()
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Exception:  # noqa: BLE001 - any failure to read a header sent by anyone
        raise _not_an_image() from None
    width, height = image.size
    if image.format not in IMAGE_FORMATS or width < 1 or height < 1:
        raise _not_an_image()
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()
    return image


def _slots() -> threading.BoundedSemaphore:
    """The application's decoding slots: ``IMAGE_WORKERS`` of them, made on first use."""
    app = current_app._get_current_object()
    slots = app.extensions.get("kepai_image_slots")
    if slots is None:
        with _slots_lock:
            slots = app.extensions.get("kepai_image_slots")
            if slots is None:
                size = max(1, int(app.config.get("IMAGE_WORKERS") or 1))
                slots = app.extensions["kepai_image_slots"] = threading.BoundedSemaphore(size)
    return slots


@contextmanager
def decoding_slot():
    """Hold one of the few decoding slots while decoding an image; an image that waited
    ``DECODE_WAIT_SECONDS`` in vain is refused with a message to send it again."""
    slots = _slots()
    if not slots.acquire(timeout=DECODE_WAIT_SECONDS):
        raise AttachmentError(_("The station is busy with other images; send this one again "
                                "in a minute."))
    try:
        yield
    finally:
        slots.release()


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


def _decode(image: Image.Image) -> Image.Image:
    """Decode an opened image's pixels, a JPEG at the smallest scale that still gives
    ``MAX_SIDE`` (a phone's 4000 × 3000 photo decodes as 2000 × 1500)."""
    if image.format in ("JPEG", "MPO"):
        width, height = image.size
        factor = max(width, height) / MAX_SIDE
        if factor >= 2:
            image.draft(None, (max(1, int(width / factor)), max(1, int(height / factor))))
    image.load()
    return image


def normalise_photo(data: bytes) -> dict:
    """Check an image by content and return the stored form: JPEG bytes, a thumbnail,
    size, and the EXIF capture time and position (then dropped from the file). Its size
    is checked before decoding, and the decoding waits for a free slot."""
    with open_within_bounds(data) as probe:
        try:
            probe.verify()  # the file's structure (a PNG's checksums), still no pixels
        except Exception:  # noqa: BLE001 - a damaged file, whatever the plugin raises
            raise _not_an_image() from None
    image = open_within_bounds(data)  # verify() spends the image it checked: open again
    with decoding_slot():
        try:
            image = _decode(image)
            taken, lat, lon = _exif_when_where(image)
            if image.mode == "1":  # 1-bit and palette images resize badly: widen them first,
                image = image.convert("L")  # a black-and-white scan to one byte a pixel
            elif image.mode not in ("RGB", "L", "RGBA", "LA", "CMYK", "YCbCr"):
                image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))  # smaller first: the rest works on less
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
        except AttachmentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except Exception:  # noqa: BLE001 - truncated or corrupt data, whatever the decoder raises
            raise _not_an_image() from None
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, optimize=True)  # no EXIF written: metadata stripped
        thumb = _thumbnail_of(image)
    return {"data": out.getvalue(), "thumb": thumb, "width": image.width,
            "height": image.height, "taken_at": taken, "latitude": lat, "longitude": lon}


def _thumbnail_of(image: Image.Image) -> bytes:
    """The thumbnail of a decoded photo (RGB or L): at most ``THUMB_SIDE`` pixels a side,
    JPEG quality 80. The one way every node makes one: the station when a photo is
    attached (``normalise_photo``), a node that received the photo by sync from the
    photo's stored bytes (``make_thumbnail``)."""
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80)
    return out.getvalue()


def make_thumbnail(data: bytes) -> bytes:
    """The thumbnail of a stored photo (a JPEG as ``normalise_photo`` keeps it: already
    turned upright, at most ``MAX_SIDE``), decoded within bounds in a decoding slot, a JPEG
    at the smallest scale that still gives ``THUMB_SIDE``. Raises AttachmentError."""
    image = open_within_bounds(data)
    with decoding_slot():
        try:
            width, height = image.size
            factor = max(width, height) / THUMB_SIDE
            if image.format in ("JPEG", "MPO") and factor >= 2:
                image.draft(None, (max(1, int(width / factor)), max(1, int(height / factor))))
            image.load()
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            return _thumbnail_of(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except Exception:  # noqa: BLE001 - truncated or corrupt data, whatever the decoder raises
            raise _not_an_image() from None


def check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise AttachmentError(_("This file is not a PDF, or it is incomplete."))


def read_upload(upload) -> bytes:
    """The bytes of an upload (a werkzeug FileStorage), from its start; refused when
    empty or larger than ``MAX_BYTES``."""
    if upload.stream.seekable():
        upload.stream.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if upload.stream.seekable():
        upload.stream.seek(0)
    if not data:
        raise AttachmentError(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AttachmentError(_("The file is too large: at most %(mb)s MB.",
                                mb=MAX_BYTES // (1024 * 1024)))
    return data


def prepare(upload, kind: str = "photo") -> dict:
    """Check an upload and make what would be stored, writing nothing: the file's bytes
    (a photo normalised, a PDF as sent), thumbnail, size, EXIF hints, content type and
    the safe name to show. Raises AttachmentError.

    The result is kept on the upload: a form that checks its photos before saving and
    then saves them decodes each image once."""
    kept = getattr(upload, "_kepai_prepared", None)
    if kept is not None and kept[0] == kind:
        if isinstance(kept[1], AttachmentError):
            raise kept[1]
        return kept[1]
    try:
        data = read_upload(upload)
        if data.startswith(b"%PDF-"):
            if kind == "photo":
                raise _not_an_image()
            check_pdf(data)
            meta = {"data": data, "thumb": None, "width": None, "height": None,
                    "taken_at": None, "latitude": None, "longitude": None,
                    "content_type": "application/pdf"}
        else:
            meta = {**normalise_photo(data), "content_type": "image/jpeg"}
    except AttachmentError as refused:
        upload._kepai_prepared = (kind, refused)
        raise
    meta["filename"] = files.safe_filename(upload.filename)
    upload._kepai_prepared = (kind, meta)
    return meta


def add(record, upload, kind: str = "photo", caption: str = "") -> Attachment:
    """Attach an uploaded file (a werkzeug FileStorage) to ``record`` in the current
    session; the caller commits together with the record."""
    meta = prepare(upload, kind)
    if record.id is None:
        record.id = new_id()
    sha = files.store(meta["data"])
    thumb = files.store(meta["thumb"]) if meta["thumb"] else None
    attachment = Attachment(
        record_type=record.__tablename__, record_id=record.id, kind=kind, sha256=sha,
        thumb_sha256=thumb, filename=meta["filename"], content_type=meta["content_type"],
        size=len(meta["data"]), width=meta["width"], height=meta["height"],
        taken_at=meta["taken_at"], latitude=meta["latitude"], longitude=meta["longitude"],
        caption=caption[:200], owner_node=record.owner_node)
    db.session.add(attachment)
    return attachment


def for_record(record) -> list[Attachment]:
    return db.session.scalars(select(Attachment).where(
        Attachment.record_type == record.__tablename__, Attachment.record_id == record.id,
        Attachment.deleted_at.is_(None)).order_by(Attachment.created_at)).all()


def is_image(attachment: Attachment) -> bool:
    return (attachment.content_type or "").startswith("image/")


def derive_thumbnail(sha256: str) -> str | None:
    """The path of the thumbnail this node made of the stored photo ``sha256``, made now
    if it is not there yet; None while the photo's bytes are not here, or if they are not
    an image after all. Thumbnails travel by no sync: a node that receives a photo makes
    its own (its digest may differ from the station's ``thumb_sha256``)."""
    target = files.derived_path(sha256)
    if os.path.exists(target):
        return target
    if not files.exists(sha256):
        return None
    try:
        return files.store_derived(sha256, make_thumbnail(files.read(sha256)))
    except AttachmentError:
        return None


def photo_received(sha256: str) -> str | None:
    """A file arrived by sync, whole and checked against its SHA-256: if it is the photo
    of an attachment here, make its thumbnail now, so that pages show it at once."""
    photo = db.session.scalar(select(Attachment.id).where(
        Attachment.sha256 == sha256, Attachment.content_type.like("image/%")).limit(1))
    return derive_thumbnail(sha256) if photo is not None else None


def thumbnail_file(attachment: Attachment) -> str | None:
    """The file of an image attachment's thumbnail on this node, or None (a PDF, or a
    photo whose bytes have not arrived): on the node where the photo was attached, the
    thumbnail made then (``thumb_sha256``); anywhere else the one this node made of the
    photo (``derive_thumbnail``). A received ``thumb_sha256`` is never served: it is a
    field the sender wrote, and it could name any file here, another node's photo too."""
    if not is_image(attachment):
        return None
    if made_here(attachment) and attachment.thumb_sha256 and files.exists(attachment.thumb_sha256):
        return files.path(attachment.thumb_sha256)
    return derive_thumbnail(attachment.sha256)


def made_here(attachment: Attachment) -> bool:
    """Whether the attachment was attached on this node (not received by sync)."""
    node = this_node()
    return node is not None and attachment.origin_node == node.code


def present(attachment: Attachment) -> bool:
    """Whether the file's bytes are here yet (a synced record may arrive before them)."""
    return files.exists(attachment.sha256)
