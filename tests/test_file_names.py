"""Stored file names: whatever name a file is sent with (a path, control characters, a
right-to-left override, a huge name), only a safe base name is kept, by every way an
attachment row is written, and it is shown escaped."""
import io

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.core import attachments, files
from app.core.extensions import db
from app.models import Attachment, Commissioner
from tests.factories import create_training, picture


@pytest.mark.parametrize("sent,kept", [
    ("../../x.jpg", "x.jpg"),
    ("C:\\fakepath\\田间 照片.JPG", "田间 照片.JPG"),
    ("..\\..\\windows\\boot.ini", "boot.ini"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),         # a right-to-left override hides .exe
    ("a\x00b\x1b[31m\r\nc.png", "ab[31m c.png"),
    ("  .hidden  ", "hidden"),
    ("/", ""), ("..", ""), (None, ""),
    ("长" * 300 + ".jpeg", "长" * 115 + ".jpeg"),
    ("x" * 300, "x" * 120),
])
def test_safe_filename(sent, kept):
    assert files.safe_filename(sent) == kept
    assert files.safe_filename(kept) == kept  # applying it again changes nothing


def _commissioner(app):
    with app.app_context():
        g.actor = "test"
        c = Commissioner(name="王建国", owner_node="150121-01")
        db.session.add(c)
        db.session.commit()
        return c.id


def test_uploads_keep_only_a_safe_base_name(app):
    record = _commissioner(app)
    with app.test_request_context():
        c = db.session.get(Commissioner, record)
        sent = FileStorage(io.BytesIO(picture("JPEG")), filename="../../etc/\x07照片.jpg")
        attachment = attachments.add(c, sent)
        db.session.commit()
        assert attachment.filename == "照片.jpg"
        assert db.session.get(Attachment, attachment.id).filename == "照片.jpg"


def test_a_name_arriving_any_other_way_is_made_safe_too(app):
    """Sync and scripts set the column directly: the model keeps only the safe name."""
    with app.app_context():
        attachment = Attachment(filename="../../x\x00.pdf")
        assert attachment.filename == "x.pdf"
        attachment.filename = "a/b/<script>.pdf"
        assert attachment.filename == "<script>.pdf"


def test_the_name_is_shown_escaped(app, login, places):
    client = login("staff")
    record_id = create_training(client, places)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post(f"/trainings/{record_id}/attachments", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(pdf), "<img src=x onerror=alert(1)>.pdf"),
                                 "kind": "document"})
    assert response.status_code == 302
    page = client.get(f"/trainings/{record_id}").get_data(as_text=True)
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page
    with app.app_context():
        sha = db.session.scalar(select(Attachment.sha256))
    download = client.get(f"/files/{sha}")
    disposition = download.headers.get("Content-Disposition", "")
    assert download.status_code == 200 and "/" not in disposition and "\n" not in disposition
