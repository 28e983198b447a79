"""Recognise the audio container from its first bytes, not from the file name."""

from __future__ import annotations

SUPPORTED = "WAV, MP3, M4A or OGG (Opus/Vorbis)"
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg"}
SNIFF_BYTES = 64

_MP3_BITRATE_BAD = 0x0F


def _mpeg_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = (head[2] >> 4) & 0x0F
    sample_rate = (head[2] >> 2) & 0x03
    return version != 1 and layer != 0 and bitrate not in (0, _MP3_BITRATE_BAD) and sample_rate != 3


def sniff_audio(head: bytes) -> str | None:
    """'wav', 'mp3', 'm4a', 'ogg', or None when it is none of the supported formats."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" and len(head) >= 10:
        return "mp3"
    if _mpeg_frame(head):
        return "mp3"
    return None
