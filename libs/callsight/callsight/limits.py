"""The limits the system promises, stated once: the gateway enforces them at its edge,
the worker checks the audio ones again before it decodes, the docs quote them.

Sizes are decimal where people read them: 500 MB is 500,000,000 bytes, never 500 MiB.
"""

from __future__ import annotations

MB = 1_000_000

# A recording: the largest upload, in bytes (CALLSIGHT_MAX_UPLOAD_BYTES may lower it).
MAX_UPLOAD_BYTES = 500 * MB
# Room for the multipart envelope and the text fields sent with the file (each <= 4 KiB).
UPLOAD_FORM_OVERHEAD_BYTES = 64 * 1024
# Any other request body (JSON, forms): larger is 413 before it is read.
MAX_BODY_BYTES = 1 * MB
# JSON nesting deeper than this is 400: no settings document needs more.
MAX_JSON_DEPTH = 32

# What a phone call can be. Outside these the upload is refused with 422.
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 2  # operator and customer; a multichannel file is not a call recording
MAX_DURATION_S = 4 * 3600
# No codec this system accepts stores speech in fewer bits a second (Opus' floor is 6 kbit/s,
# MP3's 8, G.729 in WAV 8): a header declaring more audio than this allows is a lie.
MIN_BITS_PER_SECOND = 1_000


def megabytes(n: int) -> str:
    """`500 MB` for 500,000,000: how every message states a size."""
    return f"{n / MB:g} MB"
