"""Frame features of one channel: level in the speech band and Silero speech probability.

One frame is 10 ms (`HOP_S`). Levels are computed over the telephone speech band
(250-3600 Hz), so mains hum and hiss above the band do not count as a voice. Both are
computed in blocks, so a 4-hour channel costs a few MB of features and never a copy of
its samples; each block's pages are handed back once read (`callsight_worker.samples`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from callsight_worker.engines.base import SAMPLE_RATE, Audio
from callsight_worker.samples import release

HOP = SAMPLE_RATE // 100  # 10 ms
HOP_S = HOP / SAMPLE_RATE
WINDOW = 2 * HOP  # 20 ms
BAND_HZ = (250.0, 3600.0)
SILERO_FRAME = 512  # the VAD model's own window (32 ms at 16 kHz)
BLOCK_FRAMES = 6000  # 60 s of frames per block
FLOOR_DB = -100.0

Frames = npt.NDArray[np.float32]


def frame_count(samples: int) -> int:
    return samples // HOP


def band_levels(audio: Audio) -> Frames:
    """dBFS of each 10 ms frame in the speech band (20 ms Hann window, 10 ms hop)."""
    n = frame_count(audio.size)
    out = np.full(n, FLOOR_DB, dtype=np.float32)
    freqs = np.fft.rfftfreq(WINDOW, 1 / SAMPLE_RATE)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    window = np.hanning(WINDOW).astype(np.float32)
    # Parseval: mean power of the windowed frame, from the band's bins only
    scale = 2.0 / (WINDOW * np.sum(window**2))
    for first in range(0, n, BLOCK_FRAMES):
        last = min(n, first + BLOCK_FRAMES)
        segment = np.asarray(audio[first * HOP: last * HOP + WINDOW], dtype=np.float32)
        if segment.size < (last - first) * HOP + WINDOW:  # the last frames reach past the end: zeros
            segment = np.concatenate([segment, np.zeros((last - first) * HOP + WINDOW - segment.size, np.float32)])
        frames = np.lib.stride_tricks.sliding_window_view(segment, WINDOW)[::HOP][: last - first]
        spectrum = np.fft.rfft(frames * window, axis=1)
        power = np.sum(np.abs(spectrum[:, band]) ** 2, axis=1) * scale
        out[first:last] = 10 * np.log10(power + 1e-10)
        release(audio, first * HOP, last * HOP)
    return np.maximum(out, FLOOR_DB)


def speech_probability(audio: Audio) -> Frames:
    """Silero VAD's speech probability, resampled to the 10 ms frame grid."""
    from faster_whisper.vad import get_vad_model

    n = frame_count(audio.size)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    model = get_vad_model()
    probs: list[np.ndarray] = []
    # the model keeps its state within one call; blocks of ~60 s bound the memory it needs
    block = SILERO_FRAME * 1875
    for start in range(0, audio.size, block):
        # a copy, always: faster-whisper's model zeroes the last 64 samples of the array it is
        # given (its context buffer is a view of them), and this one is the call's own audio
        size = min(block, audio.size - start)
        chunk = np.zeros(-(-size // SILERO_FRAME) * SILERO_FRAME, dtype=np.float32)  # padded to whole frames
        chunk[:size] = audio[start: start + size]
        probs.append(np.asarray(model(chunk), dtype=np.float32).reshape(-1))
        release(audio, start, start + block)
    p = np.concatenate(probs)
    # frame i (10 ms) takes the probability of the 32 ms window its centre falls in
    centres = (np.arange(n) * HOP + HOP // 2) // SILERO_FRAME
    return p[np.minimum(centres, p.size - 1)]


def noise_floor(levels: Frames, percentile: float = 10.0) -> float:
    """The channel's background level: a low percentile of its frame levels."""
    return float(np.percentile(levels, percentile)) if levels.size else FLOOR_DB


def sound_threshold_db(levels: Frames, probability: Frames, most: float = 12.0, least: float = 6.0,
                       steady_db: float = 6.0, other_talking: npt.NDArray[np.bool_] | None = None) -> float:
    """How far over the noise floor a frame must be to belong to a sound: `most`, or `least`
    on a line whose background is steady.

    With steady background noise 15 dB under the voice, a voice's softer syllables never got
    12 dB over it, so its onsets and the stretches between loud syllables were lost (talk time
    under-measured by 10-15%, talk share off by 3-4.8 points on the benchmark's noisy calls).
    A background is steady when 90% of the frames Silero hears no voice in, and where the
    other side is not talking (`other_talking`: its echo is no background), stay within
    `steady_db` of the floor: the benchmark's noisy lines 2.3-2.9 dB, quiet digital lines and
    lines with echo 1.3-5 dB. Where they do not (breaths and clicks between a talker's words,
    a recording that is mostly speech), a sound keeps to `most`.
    """
    voiceless = probability[: levels.size] < 0.1
    if other_talking is not None:
        voiceless = voiceless & ~other_talking[: levels.size]
    quiet = levels[voiceless]
    if quiet.size < 100:  # under a second without a voice: nothing to tell the background by
        return most
    spread = float(np.percentile(quiet, 90)) - noise_floor(levels)
    return least if spread <= steady_db else most


def sounds(levels: Frames, above_floor_db: float = 12.0, join_s: float = 0.2) -> list[tuple[int, int]]:
    """Frame ranges [a, b) at least `above_floor_db` over the channel's noise floor, joined
    across dips of at most `join_s`."""
    starts, ends = runs(levels >= noise_floor(levels) + above_floor_db)
    if starts.size == 0:
        return []
    # a run starts a new sound where the dip before it is longer than `join_s`
    first = np.concatenate([[True], starts[1:] - ends[:-1] > int(round(join_s / HOP_S))])
    last = np.concatenate([first[1:], [True]])
    return [(int(a), int(b)) for a, b in zip(starts[first], ends[last], strict=True)]


def second_look(audio: Audio, probability: Frames, spans: list[tuple[int, int]], confirm: float = 0.35,
                lead_in_s: float = 0.1, max_s: float = 10.0) -> Frames:
    """`probability`, where each sound (`spans`, from `sounds`) Silero did not lean to speech anywhere in is heard again
    from a fresh model state (from `lead_in_s` before it, its first `max_s`), keeping the higher value.

    Silero's recurrent state, after a long stretch of digital silence (a headset channel
    while the other side talks), barely moves for a short word: a customer's "alright" 40 dB
    over the floor scored 0.06-0.08 in the running pass and 0.77-0.83 heard on its own
    (bench/timeline.py's calls). Heard alone, noise, hum and music still score low.
    """
    out = probability.copy()
    lead = int(round(lead_in_s / HOP_S))
    longest = int(round(max_s / HOP_S))
    for a, b in spans:
        if probability[a:b].max(initial=0.0) >= confirm:
            continue
        start = max(0, a - lead)
        stop = min(b, start + longest)
        again = speech_probability(np.asarray(audio[start * HOP: stop * HOP], dtype=np.float32))
        out[start:start + again.size] = np.maximum(out[start:start + again.size], again)
    return out


def speech_frames(probability: Frames, spans: list[tuple[int, int]], strong: float = 0.5,
                  confirm: float = 0.35) -> npt.NDArray[np.bool_]:
    """Frames that carry speech: where Silero is sure, and whole sounds it is sure about somewhere.

    Silero alone misses real, clearly audible speech: on narrowband (8 kHz, G.711) audio a
    hoarse voice or a quiet customer often stays under 0.2 for seconds, and after a long
    digital silence its state needs time to wake up. So a *sound* (`spans`, from `sounds`:
    frames far enough over the channel's noise floor, joined across short dips) counts as
    speech as a whole when Silero leans to speech (`confirm`) in at
    least one of its frames. Stationary noise stays at the floor and music never convinces Silero,
    so neither passes. (`second_look` first gives short sounds after a long silence a fair hearing.)
    """
    out = probability >= strong
    for a, b in spans:
        if probability[a:b].max() >= confirm:
            out[a:b] = True
    return out


def runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Start and end (exclusive) frame of every run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return edges[::2], edges[1::2]
