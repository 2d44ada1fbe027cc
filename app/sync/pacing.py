"""File chunks paced to the link: how big the next upload chunk is and how long to wait
for its answer, from the measured time of the chunks before it.

A county's link can be anything from a fibre line to 64 kbit/s with 300 ms of round trip.
One fixed chunk size cannot serve both: 1 MiB takes over two minutes at 64 kbit/s (far
past any fixed timeout), while 16 KiB chunks on a fast line spend their time on round
trips. So the first chunk is small (``START``), each later one is sized to take about
``TARGET_SECONDS`` at the rate the previous chunk achieved (at most twice the previous
size, within [``FLOOR``, ``CEILING``]), and a failed chunk shrinks the next to a quarter.
The timeout of a chunk's request is the link's base timeout plus ``SLACK`` times the time
its bytes should take at the measured rate (``FIRST_RATE`` before anything is measured).
"""
from dataclasses import dataclass, field

from app.sync import wire

START = wire.FILE_CHUNK_START
FLOOR = wire.FILE_CHUNK_MIN
CEILING = wire.FILE_CHUNK
TARGET_SECONDS = 8.0     # how long one chunk should take on the wire
FIRST_RATE = 4 * 1024    # bytes/s assumed until a chunk is measured (32 kbit/s)
SLACK = 3.0              # a chunk may take this many times its expected time


@dataclass
class ChunkPacer:
    """The size of the next chunk and its timeout, learnt from the previous chunks.
    ``base_timeout`` is the link's timeout for a request without a body to speak of."""

    base_timeout: float
    size: int = START
    rate: float | None = None  # bytes/s of the last chunk, round trip included
    sizes: list = field(default_factory=list)  # every chunk size handed out, in order

    def next_size(self, remaining: int) -> int:
        """Bytes to send in the next chunk (``remaining`` bytes are left to send)."""
        size = min(self.size, remaining)
        self.sizes.append(size)
        return size

    def timeout(self, nbytes: int) -> float:
        """Seconds to wait for the answer to a request carrying ``nbytes``."""
        return self.base_timeout + SLACK * nbytes / (self.rate or FIRST_RATE)

    def took(self, nbytes: int, seconds: float) -> None:
        """A chunk of ``nbytes`` was sent and answered in ``seconds``: size the next one
        to take about TARGET_SECONDS at that rate (growing at most twofold). A short last
        chunk of a file (a thumbnail) measures mostly the round trip: it sets the rate
        for timeouts but not the size."""
        if nbytes <= 0:
            return
        self.rate = nbytes / max(seconds, 1e-3)
        if 2 * nbytes >= self.size:
            wanted = int(self.rate * TARGET_SECONDS)
            self.size = max(FLOOR, min(CEILING, wanted, 2 * self.size))

    def failed(self) -> None:
        """A chunk got no answer: the next is a quarter of it, and the rate is taken to
        be half what was measured (so the timeout of the next grows)."""
        self.size = max(FLOOR, self.size // 4)
        if self.rate:
            self.rate /= 2
