"""Attachments: checked by content, photos normalised, stored once by SHA-256, served
only to nodes that may see the record."""
import io

import pytest
from flask import g
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.core import attachments, files
from app.core.extensions import db
from app.models import Attachment, Commissioner


def jpeg(width=2400, height=1200, orientation=None, color=(200, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    exif[0x0132] = "2024:05:06 07:08:09"
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(data: bytes, name="photo.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


@pytest.fixture
def record(app):
    with app.app_context():
        g.actor = "test"
        c = Commissioner(name="王建国", owner_node="150121-01")
        db.session.add(c)
        db.session.commit()
        return c.id


def test_photo_is_resized_rotated_stripped_and_stored_once(app, record):
    with app.test_request_context():
        c = db.session.get(Commissioner, record)
        a = attachments.add(c, upload(jpeg(orientation=6)))
        b = attachments.add(c, upload(jpeg(orientation=6), "again.jpg"))
        db.session.commit()
        assert a.sha256 == b.sha256 and files.exists(a.sha256)
        assert (a.width, a.height) == (800, 1600)  # rotated a quarter turn, long side 1600
        assert a.taken_at.isoformat() == "2024-05-06T07:08:09"
        stored = Image.open(io.BytesIO(files.read(a.sha256)))
        assert not stored.getexif()
        assert max(Image.open(io.BytesIO(files.read(a.thumb_sha256))).size) == 320


@pytest.mark.parametrize("data,name", [(b"MZ\x90\x00 not an image" * 10, "virus.jpg"),
                                       (jpeg()[:2000], "truncated.jpg"),
                                       (b"", "empty.jpg")])
def test_bad_files_are_refused_with_a_message_and_nothing_stored(app, record, data, name):
    with app.test_request_context():
        c = db.session.get(Commissioner, record)
        with pytest.raises(attachments.AttachmentError) as refused:
            attachments.add(c, upload(data, name))
        assert str(refused.value)
        db.session.rollback()
        assert db.session.query(Attachment).count() == 0


def test_pdf_is_accepted_as_document_not_as_photo(app, record):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    with app.test_request_context():
        c = db.session.get(Commissioner, record)
        with pytest.raises(attachments.AttachmentError):
            attachments.add(c, upload(pdf, "a.pdf"), kind="photo")
        a = attachments.add(c, upload(pdf, "a.pdf"), kind="document")
        assert a.content_type == "application/pdf"


def test_files_are_served_only_within_scope(app, login, record):
    with app.test_request_context():
        c = db.session.get(Commissioner, record)
        mine = attachments.add(c, upload(jpeg(color=(1, 2, 3))))
        other = Commissioner(name="外旗", owner_node="150122-01")
        db.session.add(other)
        db.session.flush()
        theirs = attachments.add(other, upload(jpeg(color=(9, 9, 9))))
        db.session.commit()
        mine_sha, theirs_sha, thumb = mine.sha256, theirs.sha256, mine.thumb_sha256
    client = login("staff")
    response = client.get(f"/files/{mine_sha}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert client.get(f"/files/{thumb}").status_code == 200
    assert client.get(f"/files/{theirs_sha}").status_code == 404
    assert client.get("/files/not-a-sha").status_code == 404
