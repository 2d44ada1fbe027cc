"""Files over poor links (issue 11): chunks paced to the measured rate, timeouts that
follow the bytes in flight, and uploads that go on from what the upstream received.
The link is simulated (tests/sync_helpers.SlowLink): no test waits for real time."""
import io
import random

import pytest
from flask import g
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.core import attachments, files
from app.core.extensions import db
from app.models import Commissioner
from app.sync import pacing, wire
from app.sync.client import SyncError
from tests.sync_helpers import SlowLink, sync

STATION = "150121-01"
KBIT_64 = 8000  # bytes/s


def add_photo(app, side: int) -> tuple[str, bytes]:
    """A commissioner with a JPEG of noise ``side`` pixels square; (sha256, bytes)."""
    raw = io.BytesIO()
    noise = random.Random(side).randbytes(side * side * 3)  # the same photo every run
    Image.frombytes("RGB", (side, side), noise).save(raw, "JPEG", quality=92)
    with app.test_request_context():
        g.actor = "staff"
        c = Commissioner(name="王建国", owner_node=STATION)
        db.session.add(c)
        db.session.flush()
        photo = attachments.add(c, FileStorage(io.BytesIO(raw.getvalue()), filename="a.jpg"))
        db.session.commit()
        return photo.sha256, files.read(photo.sha256)


def arrived(app, sha: str) -> bytes | None:
    with app.app_context():
        return files.read(sha) if files.exists(sha) else None


def test_a_photo_slower_than_the_old_timeout_arrives_with_default_settings(nodes):
    station, league, transport = nodes
    sha, data = add_photo(station, 700)
    assert len(data) / KBIT_64 > station.config["SYNC_TIMEOUT"]  # one chunk would time out
    slow = SlowLink(transport, KBIT_64, rtt=0.3)
    assert sync(station, slow).files_sent >= 1
    assert arrived(league, sha) == data
    sizes = [n for _, n in slow.chunks(sha)]
    assert sizes[0] == wire.FILE_CHUNK_START and slow.timeouts == 0
    # paced to about TARGET_SECONDS at 64 kbit/s, far below the old 1 MiB
    assert max(sizes) <= KBIT_64 * pacing.TARGET_SECONDS * 1.1


def test_chunks_grow_on_a_fast_link(nodes):
    station, league, transport = nodes
    sha, data = add_photo(station, 1500)
    assert len(data) > wire.FILE_CHUNK
    fast = SlowLink(transport, 50_000_000, rtt=0.01)
    sync(station, fast)
    assert arrived(league, sha) == data
    sizes = [n for _, n in fast.chunks(sha)]
    assert sizes[:4] == [wire.FILE_CHUNK_START * 2 ** i for i in range(4)]


def test_a_very_slow_link_shrinks_the_chunks_after_a_timeout(nodes):
    station, league, transport = nodes
    sha, data = add_photo(station, 300)
    crawl = SlowLink(transport, 600, rtt=0.3)  # 4.8 kbit/s: 64 KiB takes 109 s
    sync(station, crawl)
    assert arrived(league, sha) == data
    assert crawl.timeouts >= 1
    chunks = crawl.chunks(sha)  # the timed-out first chunk never reached the league
    assert chunks[0] == (0, wire.FILE_CHUNK_START // 4)  # nothing had arrived: 0 is its count
    assert min(n for _, n in chunks[:-1]) >= wire.FILE_CHUNK_MIN  # the last is what was left


@pytest.mark.parametrize("lost", [1, 3])
def test_a_cut_resumes_from_what_the_league_received(nodes, lost):
    """The answer to PUT ``lost`` is lost after the league kept its chunk: the next PUT
    starts where the league's count says, so no byte is sent twice and none from 0."""
    station, league, transport = nodes
    sha, data = add_photo(station, 700)
    slow = SlowLink(transport, KBIT_64, rtt=0.3, lose={sha: {lost}})
    sync(station, slow)
    assert arrived(league, sha) == data
    chunks = slow.chunks(sha)
    assert len({offset for offset, _ in chunks}) == len(chunks)  # no chunk sent again
    kept = sum(n for _, n in chunks[:lost])
    assert chunks[lost][0] == kept > 0


def test_a_chunk_cut_mid_way_is_sent_again_from_the_leagues_count(nodes):
    """A chunk whose body never arrived whole (the link failed mid-chunk): the league kept
    nothing of it, and the upload goes on from the bytes before it."""
    station, league, transport = nodes
    sha, data = add_photo(station, 700)
    slow = SlowLink(transport, KBIT_64, rtt=0.3)
    cut = {"done": False}

    def cut_third_chunk(method, url, body, headers, timeout):
        if method == "PUT" and sha in url and len(slow.chunks(sha)) == 2 and not cut["done"]:
            cut["done"] = True
            raise SyncError("upstream unreachable: connection reset")
        return slow(method, url, body, headers, timeout)

    cut_third_chunk.clock = slow.clock
    sync(station, cut_third_chunk)
    assert cut["done"] and arrived(league, sha) == data
    chunks = slow.chunks(sha)
    assert chunks[2][0] == sum(n for _, n in chunks[:2]) > 0
