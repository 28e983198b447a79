"""Audio admission: what the header of an upload declares must be a phone call.

The worker trusts nothing it decodes, but a header can make it try absurd work (a 29 KB
WAV declaring 1 Hz and 4 hours resamples to gigabytes). So before a call is created
the gateway reads the container's header with mutagen (header parsing only, no
decoding) and refuses, with 422 and a message, a recording whose sample rate is
outside 8-192 kHz, that has more than two channels (operator and customer), that
declares more than the duration limit, or that declares more audio than its bytes can
hold with any codec (fewer than 1,000 bits a second).

The header is read from what the upload kept in memory (its first and last MiB); a
read between them (an MP4 index in the middle) is fetched from the stored object.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callsight import limits
from callsight_upload.core.errors import ApiError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger(__name__)
EDGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Declared:
    """What a recording's header says about it."""

    sample_rate: int  # 0 when the header does not say (Opus: always decoded at 48 kHz)
    channels: int
    duration_s: float


class EdgeReader(io.RawIOBase):
    """A seekable file of `size` bytes whose first and last bytes are in memory; any
    other range is fetched with `fetch(start, end_inclusive)`."""

    def __init__(self, head: bytes, tail: bytes, size: int, fetch: Callable[[int, int], bytes]) -> None:
        self.head, self.tail, self.size, self.fetch = head, tail, size, fetch
        self.tail_start = size - len(tail)
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        end = min(self.size, self.pos + len(view))
        if end <= self.pos:
            return 0
        if end <= len(self.head):
            data = self.head[self.pos:end]
        elif self.pos >= self.tail_start:
            data = self.tail[self.pos - self.tail_start:end - self.tail_start]
        else:
            data = self.fetch(self.pos, end - 1)
        n = len(data)
        view[:n] = data
        self.pos += n
        return n


def read_header(audio_format: str, reader: io.RawIOBase) -> Declared | None:
    """The header's declarations, or None when mutagen cannot read them (the worker,
    which checks the same limits before it decodes, then decides)."""
    import mutagen
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggflac import OggFLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    kinds = {"wav": [WAVE], "mp3": [MP3], "m4a": [MP4], "ogg": [OggOpus, OggVorbis, OggFLAC]}[audio_format]
    fileobj = io.BufferedReader(reader, buffer_size=64 * 1024)
    try:
        found = mutagen.File(fileobj, options=kinds)
    except Exception as exc:  # mutagen raises many kinds on a damaged header
        log.info("audio header not readable (%s: %s); the worker will judge it", type(exc).__name__, exc)
        return None
    if found is None or found.info is None:
        return None
    info = found.info
    return Declared(int(getattr(info, "sample_rate", 0) or 0), int(getattr(info, "channels", 0) or 0),
                    float(getattr(info, "length", 0.0) or 0.0))


def admit(declared: Declared, size_bytes: int) -> None:
    """Raise 422 when the declaration cannot be a phone call."""
    rate, channels, seconds = declared.sample_rate, declared.channels, declared.duration_s
    if rate and not limits.MIN_SAMPLE_RATE <= rate <= limits.MAX_SAMPLE_RATE:
        raise ApiError(422, "unsupported_audio", (
            f"the recording declares a sample rate of {rate:,} Hz; a call recording is "
            f"{limits.MIN_SAMPLE_RATE:,} to {limits.MAX_SAMPLE_RATE:,} Hz"))
    if channels > limits.MAX_CHANNELS:
        raise ApiError(422, "unsupported_audio", (
            f"the recording has {channels} channels; a call recording has one (mono) or two "
            "(operator and customer)"))
    if seconds > limits.MAX_DURATION_S:
        raise ApiError(422, "recording_too_long", (
            f"the recording declares {seconds / 3600:.1f} h; the limit is {limits.MAX_DURATION_S / 3600:g} h, "
            "split longer recordings before uploading"))
    if seconds > 0 and size_bytes * 8 / seconds < limits.MIN_BITS_PER_SECOND:
        raise ApiError(422, "inconsistent_audio", (
            f"the header declares {seconds:,.0f} s of audio in {size_bytes:,} bytes, less than any codec "
            f"stores ({limits.MIN_BITS_PER_SECOND:,} bit/s): the file is damaged or forged"))
