"""Thumbnails are made by the receiver, not sent (issue 11 item 5): a station sends a
photo's bytes only; the league makes the thumbnail once the photo is whole and checked,
with the code the station used, and its pages show it. An older station that still
sends its thumbnails syncs as before; the league keeps the file and shows its own (a
received ``thumb_sha256`` is a field the sender wrote, and could name any file)."""
import io
import os
import random
from datetime import date

import pytest
from flask import g
from PIL import Image, ImageChops, ImageStat
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.core import attachments, files
from app.core.extensions import db
from app.models import Attachment, Commissioner, SentFile, Visit
from app.sync import client
from tests.settings import PASSWORD, STATION
from tests.sync_helpers import link, make_node, station_and_league, sync


@pytest.fixture(params=["sqlite", "postgresql"])
def nodes(request, tmp_path):
    yield from station_and_league(request.param, tmp_path, "thumbs")


def photo_bytes(side: int = 900) -> bytes:
    """A photo with something to see (blocks of colour and some noise), not one colour."""
    rng = random.Random(side)
    image = Image.new("RGB", (side, side * 2 // 3))
    for _ in range(40):
        x, y = rng.randrange(side), rng.randrange(side * 2 // 3)
        image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)),
                    (x, y, x + side // 5, y + side // 6))
    raw = io.BytesIO()
    image.save(raw, "JPEG", quality=92)
    return raw.getvalue()


def visit_with_photo(app) -> dict:
    """A visit at the station with one photo; its ids and the photo's two digests."""
    with app.test_request_context():
        g.actor = "staff"
        who = Commissioner(name="王建国", owner_node=STATION)
        db.session.add(who)
        db.session.flush()
        visit = Visit(number=f"{STATION}-2026-00001", year=2026, sequence=1, visited_on=date(2026, 5, 6),
                      problem="玉米叶斑病", owner_node=STATION, commissioners=[who])
        db.session.add(visit)
        db.session.flush()
        photo = attachments.add(visit, FileStorage(io.BytesIO(photo_bytes()), filename="田间.jpg"))
        db.session.commit()
        return {"visit": visit.id, "photo": photo.sha256, "thumb": photo.thumb_sha256}


def league_web(league):
    web = league.test_client()
    response = web.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    return web


def file_calls(transport, sha: str) -> list:
    return [(method, status) for method, path, status in transport.calls if path.endswith(f"/files/{sha}")]


def same_picture(a: bytes, b: bytes) -> float:
    """The mean difference of two images' pixels (0 to 255); they must be the same size."""
    one, two = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    assert one.size == two.size
    return sum(ImageStat.Stat(ImageChops.difference(one, two)).mean) / 3


def test_the_league_makes_the_thumbnail_of_a_photo_sent_without_it(nodes):
    station, league, transport = nodes
    ids = visit_with_photo(station)
    with station.app_context():
        assert client.files_to_send() == [ids["photo"]]  # the photo, not its thumbnail
        station_thumb = files.read(ids["thumb"])
    run = sync(station, transport)
    assert run.files_sent == 1
    # the photo's row after its visit's in the one push: applied, not held and sent again
    assert (run.sent, run.applied, run.held) == (3, 3, 0)
    assert [path for _, path, _ in transport.calls].count("/api/sync/v1/push") == 1
    assert file_calls(transport, ids["thumb"]) == []  # neither asked about nor sent
    assert ("PUT", 200) in file_calls(transport, ids["photo"])
    with station.app_context():
        assert set(db.session.scalars(select(SentFile.sha256))) == {ids["photo"]}
    with league.app_context():
        kept = db.session.scalar(select(Attachment).where(Attachment.sha256 == ids["photo"]))
        assert kept.thumb_sha256 == ids["thumb"]  # the station's field, as it sent it
        assert not files.exists(ids["thumb"])
        made = files.derived_path(ids["photo"])
        assert os.path.exists(made)  # made when the photo arrived, before any page asked
    web = league_web(league)
    page = web.get(f"/visits/{ids['visit']}").get_data(as_text=True)
    assert f"/files/{ids['photo']}/thumbnail" in page and "has not arrived" not in page
    response = web.get(f"/files/{ids['photo']}/thumbnail")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    league_thumb = response.get_data()
    assert max(Image.open(io.BytesIO(league_thumb)).size) == attachments.THUMB_SIDE
    assert same_picture(league_thumb, station_thumb) < 4  # the same thumbnail, made again
    # the station's own thumbnail's address (older pages) shows the league's
    assert web.get(f"/files/{ids['thumb']}").get_data() == league_thumb
    # a thumbnail lost (a restore from a backup takes none) is made again when asked for
    with league.app_context():
        os.unlink(made)
    assert web.get(f"/files/{ids['photo']}/thumbnail").get_data() == league_thumb
    with league.app_context():
        assert os.path.exists(made)


def test_the_station_shows_its_own_thumbnail(nodes):
    station, _league, _transport = nodes
    ids = visit_with_photo(station)
    web = station.test_client()
    assert web.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    assert f"/files/{ids['photo']}/thumbnail" in web.get(f"/visits/{ids['visit']}").get_data(as_text=True)
    with station.app_context():
        assert web.get(f"/files/{ids['photo']}/thumbnail").get_data() == files.read(ids["thumb"])
        assert not os.path.exists(files.derived_path(ids["photo"]))  # nothing made again
    assert web.get(f"/files/{ids['thumb']}/thumbnail").status_code == 404  # not a photo's digest


def old_files_to_send() -> list[str]:
    """What a station sent before thumbnails were made by the receiver: photos and thumbnails."""
    from app.core.node import subtree, this_node
    rows = db.session.execute(select(Attachment.sha256, Attachment.thumb_sha256).where(
        subtree(Attachment.owner_node, this_node().code))).all()
    sent = set(db.session.scalars(select(SentFile.sha256)))
    return sorted({sha for row in rows for sha in row if sha and sha not in sent and files.exists(sha)})


def test_an_older_station_that_sends_its_thumbnail_still_syncs(nodes, monkeypatch):
    station, league, transport = nodes
    ids = visit_with_photo(station)
    monkeypatch.setattr(client, "files_to_send", old_files_to_send)
    run = sync(station, transport)
    assert run.files_sent == 2 and not run.error
    assert ("PUT", 200) in file_calls(transport, ids["thumb"])
    with station.app_context():
        station_thumb = files.read(ids["thumb"])
    with league.app_context():
        assert files.read(ids["thumb"]) == station_thumb  # kept as sent
    web = league_web(league)
    league_thumb = web.get(f"/files/{ids['photo']}/thumbnail").get_data()
    assert same_picture(league_thumb, station_thumb) < 4  # the league's own, made again
    assert web.get(f"/files/{ids['thumb']}").get_data() == league_thumb
    assert sync(station, transport).files_sent == 0  # nothing sent twice


def test_a_thumbnail_digest_a_station_names_is_never_served_by_the_league(nodes):
    """``thumb_sha256`` is a field the station writes: one naming another photo the league
    holds must not make that photo the thumbnail of this one, nor hide that photo at its
    own address."""
    station, league, transport = nodes
    ids = visit_with_photo(station)
    with station.test_request_context():
        g.actor = "staff"
        visit = db.session.get(Visit, ids["visit"])
        other = attachments.add(visit, FileStorage(io.BytesIO(photo_bytes(700)), filename="另一张.jpg"))
        photo = db.session.scalar(select(Attachment).where(Attachment.sha256 == ids["photo"]))
        photo.thumb_sha256 = other.sha256  # what a hostile station could send
        db.session.commit()
        elsewhere, other_bytes = other.sha256, files.read(other.sha256)
    sync(station, transport)
    with league.app_context():
        kept = db.session.scalar(select(Attachment).where(Attachment.sha256 == ids["photo"]))
        assert kept.thumb_sha256 == elsewhere and files.exists(elsewhere)
        with open(files.derived_path(ids["photo"]), "rb") as made:
            league_thumb = made.read()
    web = league_web(league)
    assert web.get(f"/files/{ids['photo']}/thumbnail").get_data() == league_thumb
    assert web.get(f"/files/{elsewhere}").get_data() == other_bytes  # the photo, as itself


def test_a_damaged_photo_gets_no_thumbnail_and_keeps_the_upload(nodes):
    """Bytes that are no image (an attachment row says image/jpeg): the upload is kept,
    the page shows no thumbnail (404), nothing fails."""
    station, league, transport = nodes
    ids = visit_with_photo(station)
    with station.app_context():
        photo = db.session.scalar(select(Attachment).where(Attachment.sha256 == ids["photo"]))
        junk = b"not a photo at all " * 100
        photo.sha256 = files.store(junk)
        db.session.commit()
        junk_sha = photo.sha256
    assert sync(station, transport).files_sent == 1
    with league.app_context():
        assert files.exists(junk_sha) and not os.path.exists(files.derived_path(junk_sha))
    assert league_web(league).get(f"/files/{junk_sha}/thumbnail").status_code == 404


def test_a_league_relays_the_photo_without_a_thumbnail_and_the_region_makes_its_own(tmp_path):
    """Files go up the chain: the league sends its station's photo to the region, not a
    thumbnail (neither the station's nor its own), and the region makes one."""
    station = make_node(tmp_path, "station", "station", STATION, "土左旗工作站")
    league = make_node(tmp_path, "league", "league", "1501", "呼和浩特市科技局")
    region = make_node(tmp_path, "region", "region", "15", "内蒙古自治区科技厅")
    to_league, to_region = link(station, league), link(league, region, code="1501")
    try:
        ids = visit_with_photo(station)
        assert sync(station, to_league).files_sent == 1
        with league.app_context():
            assert client.files_to_send() == [ids["photo"]]
        assert sync(league, to_region).files_sent == 1
        assert [m for m, path, _ in to_region.calls if "/files/" in path and ids["photo"] not in path] == []
        with region.app_context():
            assert files.exists(ids["photo"]) and not files.exists(ids["thumb"])
            assert os.path.exists(files.derived_path(ids["photo"]))
    finally:
        for app in (station, league, region):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
