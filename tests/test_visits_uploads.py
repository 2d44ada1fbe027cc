"""Photos on visits: several per visit, checked by content, rotated, resized, and an
upload that is refused leaves nothing written; the photo's EXIF may fill the visit."""
import io
from datetime import date

from PIL import Image
from sqlalchemy import func, select

from app.core import attachments, files
from app.core.extensions import db
from app.models import Attachment, Visit
from tests.factories import count, visit_form


def jpeg(width=2400, height=1200, orientation=None, taken=None, gps=None) -> bytes:
    image = Image.new("RGB", (width, height), (30, 120, 60))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif[0x0132] = taken
    if gps:
        exif[0x8825] = {1: "N", 2: (40.0, 43.0, 12.0), 3: "E", 4: (111.0, 7.0, 48.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def post(client, world, photos, **extra):
    data = visit_form(world, **extra)
    data["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post("/visits/new?form=full", data=data, content_type="multipart/form-data")


def test_two_photos_are_stored_normalised_and_shown(app, login, world):
    client = login("staff")
    response = post(client, world, [(jpeg(), "a.jpg"), (jpeg(orientation=6, width=3000), "b.jpg")])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        photos = attachments.for_record(visit)
        assert len(photos) == 2 and all(p.record_type == "visit" for p in photos)
        assert (photos[0].width, photos[0].height) == (1600, 800)
        assert (photos[1].width, photos[1].height) == (640, 1600)  # EXIF rotation applied
        assert all(files.exists(p.sha256) and files.exists(p.thumb_sha256) for p in photos)
        assert not Image.open(io.BytesIO(files.read(photos[1].sha256))).getexif()
        thumb, sha, thumb_bytes = photos[0].thumb_sha256, photos[0].sha256, files.read(photos[0].thumb_sha256)
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert f"/files/{sha}/thumbnail" in page
    assert client.get(f"/files/{sha}/thumbnail").get_data() == thumb_bytes  # the one made here
    assert client.get(f"/files/{thumb}").status_code == 200


def _refused(app, client, world, content, name, words):
    response = post(client, world, [(jpeg(), "good.jpg"), (content, name)])
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert name in body and any(w in body for w in words), body[body.find("photos-err") - 100:][:400]
    assert count(app, Visit) == 0 and count(app, Attachment) == 0


def test_non_image_renamed_jpg_is_refused(app, login, world):
    _refused(app, login("staff", lang="en"), world, b"MZ\x90\x00 this is a program" * 50,
             "photo.jpg", ["not an image"])


def test_truncated_image_is_refused(app, login, world):
    _refused(app, login("staff", lang="en"), world, jpeg()[:3000], "cut.jpg", ["damaged"])


def test_oversized_file_is_refused_with_the_limit(app, login, world, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_BYTES", 50_000)
    big = jpeg(width=1200, height=1200) + b"\0" * 60_000
    _refused(app, login("staff", lang="en"), world, big, "huge.jpg", ["too large", "MB"])


def test_photo_exif_fills_the_visit_only_when_asked(app, login, world):
    client = login("staff")
    photo = jpeg(taken="2025:04:03 10:20:30", gps=True)
    response = post(client, world, [(photo, "exif.jpg")], latitude="", longitude="")
    assert response.status_code == 302
    response = post(client, world, [(photo, "exif.jpg")], latitude="", longitude="",
                    visited_on="2025-06-01", use_photo_info="y")
    assert response.status_code == 302
    with app.app_context():
        first, second = db.session.scalars(select(Visit).order_by(Visit.created_at)).all()
        assert first.visited_on == date(2025, 5, 6) and first.latitude is None
        assert second.visited_on == date(2025, 4, 3) and second.start_time == "10:20"
        assert abs(second.latitude - 40.72) < 0.001 and abs(second.longitude - 111.13) < 0.001
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 2


def test_commissioner_adds_photos_when_editing_own_visit(app, login, world):
    client = login("wang")
    assert post(client, world, [(jpeg(), "one.jpg")]).status_code == 302
    with app.app_context():
        vid = db.session.scalar(select(Visit.id))
    data = visit_form(world)
    data["photos"] = [(io.BytesIO(jpeg(width=800, height=600)), "two.jpg")]
    response = client.post(f"/visits/{vid}/edit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert count(app, Attachment) == 2
