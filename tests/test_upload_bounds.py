"""Images that cannot eat the station: an image's pixels are counted from its header and
refused before decoding (every accepted format, the bomb warning included), decoding runs
in a bounded number of slots, and a refused image is a 422 on every upload route with its
reason, nothing written and the rest of the form kept."""
import functools
import io
import os
import struct
import threading
import time
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from app.core import attachments
from app.core.extensions import db
from app.models import Attachment, Visit
from tests.factories import count, create_agreement, create_training, picture, visit_form


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@functools.cache
def bomb_png(width=12000, height=12000, rgb=True) -> bytes:
    """A valid PNG of ``width`` × ``height`` black pixels, small on disk: 12000 × 12000
    RGB is about 420 KB and would take 432 MB once decoded."""
    row = b"\0" * (1 + (width * 3 if rgb else (width + 7) // 8))
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8 if rgb else 1, 2 if rgb else 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + \
        _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose header claims another size (its pixels could never fill it)."""
    data = bytearray(picture("JPEG", 64, 48))
    at = data.index(b"\xff\xc0")  # baseline frame header: length, precision, height, width
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def stored_files(app) -> list[str]:
    root = os.path.join(app.instance_path, "files")
    return [name for _dir, _dirs, names in os.walk(root) for name in names]


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image gets as far as decoding."""
    def refuse(image):
        raise AssertionError(f"decoded a {image.size} {image.format}")
    monkeypatch.setattr(attachments, "_decode", refuse)


def test_the_bomb_of_the_report_is_small_on_disk_and_huge_in_pixels():
    data = bomb_png()
    assert len(data) < 500_000
    assert struct.unpack(">II", data[16:24]) == (12000, 12000)  # the header's width, height


@pytest.mark.parametrize("data", [bomb_png(), bomb_png(9000, 9000, rgb=False),
                                  jpeg_claiming(12000, 12000)],
                         ids=["12000x12000-png", "just-over-the-limit-png", "jpeg-header"])
def test_too_many_pixels_are_refused_before_decoding(app, data, no_decoding):
    # 9000 × 9000 is 81 million pixels: Pillow alone would only warn, and decode it.
    with app.test_request_context():
        with pytest.raises(attachments.AttachmentError) as refused:
            attachments.normalise_photo(data)
    assert "图片像素过多" in str(refused.value) and "80" in str(refused.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF", "GIF", "BMP", "TIFF"])
def test_every_accepted_format_is_bounded_before_decoding(app, monkeypatch, fmt):
    data = picture(fmt, 400, 300)
    with app.test_request_context():
        normal = attachments.normalise_photo(data)
        assert (normal["width"], normal["height"]) == (400, 300)
        monkeypatch.setattr(attachments, "MAX_PIXELS", 400 * 300 - 1)
        decoded = []
        monkeypatch.setattr(attachments, "_decode", lambda image: decoded.append(image))
        with pytest.raises(attachments.AttachmentError):
            attachments.normalise_photo(data)
        assert decoded == []


def test_formats_outside_the_list_are_refused(app, no_decoding):
    with app.test_request_context():
        with pytest.raises(attachments.AttachmentError) as refused:
            attachments.normalise_photo(picture("PPM", 40, 30))
    assert "不是图片" in str(refused.value)


def test_the_bomb_warning_is_a_refusal_even_where_pillow_is_used_directly(app):
    with app.test_request_context():
        with pytest.raises(attachments.AttachmentError):
            attachments.open_within_bounds(bomb_png(9000, 9000, rgb=False))
        with pytest.raises((Image.DecompressionBombWarning, Image.DecompressionBombError)):
            Image.open(io.BytesIO(bomb_png(9000, 9000, rgb=False)))


def test_decoding_waits_for_one_of_a_few_slots(app, monkeypatch):
    assert app.config["IMAGE_WORKERS"] == 2
    real, lock = attachments._decode, threading.Lock()
    state = {"now": 0, "most": 0}

    def slow(image):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return real(image)
    monkeypatch.setattr(attachments, "_decode", slow)
    data, results = picture("JPEG", 320, 240), []

    def upload():
        with app.app_context():
            results.append(attachments.normalise_photo(data)["width"])
    threads = [threading.Thread(target=upload) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [320] * 6 and state["most"] == 2


def test_an_image_that_waits_too_long_is_refused_with_a_reason(app, monkeypatch):
    monkeypatch.setattr(attachments, "DECODE_WAIT_SECONDS", 0.01)
    with app.test_request_context():
        slots = attachments._slots()
        assert slots.acquire() and slots.acquire()
        try:
            with pytest.raises(attachments.AttachmentError) as refused:
                attachments.normalise_photo(picture("JPEG"))
        finally:
            slots.release()
            slots.release()
        assert "正忙" in str(refused.value)
        assert attachments.normalise_photo(picture("JPEG"))["width"] == 400


def test_jpeg_is_decoded_at_a_reduced_scale_that_still_fills_the_stored_size(app):
    with app.test_request_context():
        image = attachments.open_within_bounds(picture("JPEG", 4000, 3000))
        assert attachments._decode(image).size == (2000, 1500)
        stored = attachments.normalise_photo(picture("JPEG", 4000, 3000))
    assert (stored["width"], stored["height"]) == (1600, 1200)


# Every upload route: the bomb is a 422 with the reason, nothing is written, the form is kept.

def _visit_new(app, client, world, upload):
    data = visit_form(world, problem="玉米螟防治<测试>")
    data["photos"] = [upload]
    response = client.post("/visits/new?form=full", data=data, content_type="multipart/form-data")
    return response, "玉米螟防治&lt;测试&gt;"


def _visit_short(app, client, world, upload):
    data = visit_form(world, problem="短表单的问题")
    data["photos"] = [upload]
    response = client.post("/visits/new?form=short", data=data, content_type="multipart/form-data")
    return response, "短表单的问题"


def _visit_edit(app, client, world, upload):
    assert client.post("/visits/new?form=full", data=visit_form(world)).status_code == 302
    with app.app_context():
        visit_id = db.session.scalar(select(Visit.id))
    data = visit_form(world, result="修改后的结果")
    data["photos"] = [upload]
    response = client.post(f"/visits/{visit_id}/edit", data=data,
                           content_type="multipart/form-data")
    return response, "修改后的结果"


def _training(app, client, places, upload):
    record_id = create_training(client, places)
    response = client.post(f"/trainings/{record_id}/attachments", content_type="multipart/form-data",
                           data={"file": upload, "kind": "photo", "caption": "签到现场"})
    return response, "签到现场"


def _agreement(app, client, places, upload):
    record_id, _people = create_agreement(app, client)
    response = client.post(f"/agreements/{record_id}/scans", content_type="multipart/form-data",
                           data={"file": upload, "caption": "签字版扫描"})
    return response, "签字版扫描"


ROUTES = {"visit-new": (_visit_new, "world"), "visit-short": (_visit_short, "world"),
          "visit-edit": (_visit_edit, "world"), "training": (_training, "places"),
          "agreement": (_agreement, "places")}


@pytest.mark.parametrize("route", list(ROUTES))
def test_bomb_is_refused_on_every_upload_route(app, login, request, route):
    post, fixture = ROUTES[route]
    context = request.getfixturevalue(fixture)
    client = login("staff")
    with app.app_context():
        visits_before = db.session.scalar(select(db.func.count()).select_from(Visit))
    response, kept = post(app, client, context, (io.BytesIO(bomb_png()), "bomb.png"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "图片像素过多" in body
    assert kept in body  # the rest of the form comes back as typed
    assert count(app, Attachment) == 0 and stored_files(app) == []
    if route != "visit-edit":
        assert count(app, Visit) == visits_before


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_normal_photo_is_still_accepted_on_every_upload_route(app, login, request, route):
    post, fixture = ROUTES[route]
    client = login("staff")
    response, _kept = post(app, client, request.getfixturevalue(fixture),
                           (io.BytesIO(picture("JPEG", 2400, 1800)), "田间.jpg"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        photo = db.session.scalar(select(Attachment))
        assert (photo.width, photo.height, photo.filename) == (1600, 1200, "田间.jpg")


def test_the_reason_is_in_the_users_language(app, login, world):
    client = login("staff", lang="en")
    response, _kept = _visit_new(app, client, world, (io.BytesIO(bomb_png()), "bomb.png"))
    assert response.status_code == 422
    assert "too large in pixels" in response.get_data(as_text=True)


def test_a_visit_photo_is_decoded_once_even_when_its_exif_is_used(app, login, world, monkeypatch):
    real, calls = attachments._decode, []
    monkeypatch.setattr(attachments, "_decode", lambda image: calls.append(1) or real(image))
    client = login("staff")
    data = visit_form(world, use_photo_info="y")
    data["photos"] = [(io.BytesIO(picture("JPEG")), "a.jpg")]
    response = client.post("/visits/new?form=full", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and len(calls) == 1
