"""Which speech on a stereo channel is that side's own voice, and which leaked in from the other.

Real stereo call recordings carry each side's voice faintly on the other channel (line
echo from the hybrid, acoustic echo from a handset, headset bleed): typically 20-45 dB
below the talker and 10-300 ms late. Whisper hears that echo and transcribes it, so
without this step a customer "says" every sentence of the operator a second time.

The rule, per direction (the other side B leaking into channel A):

1. **Measure the leak.** Over the frames where B clearly holds the floor (B's VAD says speech
   and B is `dominance_db` louder than A at that moment), correlate A's level
   with B's level at each delay from 0 to `max_delay_s`. The best delay is the echo
   path's; if even the best correlation is below `min_correlation`, nothing leaks
   measurably and A's speech is all A's own. The coupling is the median of
   A's level minus B's level at that delay (e.g. -32 dB).
2. **Predict the echo.** At each frame, the echo A should carry is B's level a delay ago
   (the loudest frame of a `tail_s` window, for the echo's reverberant tail) plus the
   coupling.
3. **Own speech is louder than its echo.** A frame of A is A's own speech when A carries
   speech at all (`activity.speech_frames`) and A's level is at least `margin_db` above the predicted echo. Double
   talk (both sides speaking) keeps both: an own voice is 20 dB or more above its echo.

Frame decisions are then smoothed: a talker's dips under the echo shorter than
`hangover_s` (while the channel still carries speech) stay the talker's, gaps shorter
than `fill_gap_s` are closed and islands shorter than `min_speech_s` dropped. Words that fall on
frames that are not own speech are dropped from that side later, for any engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from callsight_worker.speech.activity import HOP_S, Frames, runs

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CrosstalkConfig:
    vad_threshold: float = 0.5  # Silero probability for speech
    max_delay_s: float = 0.5  # longest echo path considered
    min_correlation: float = 0.25  # below this no leak is measurable
    margin_db: float = 6.0  # own speech is at least this much louder than the predicted echo
    hangover_s: float = 0.3  # own speech goes on through quieter dips this short while speech is heard
    tail_s: float = 0.12  # reverberant tail of the echo after the source frame
    fill_gap_s: float = 0.15  # own-speech gaps shorter than this are closed
    min_speech_s: float = 0.08  # own-speech islands shorter than this are dropped
    min_source_frames: int = 200  # 2 s of clear speech on the other side to measure a leak
    dominance_db: float = 10.0  # the other side holds the floor when this much louder than this side

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Leak:
    """How the other side leaks into this channel."""

    delay_s: float
    coupling_db: float  # echo level relative to the source (negative)
    correlation: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


def _source_talking(target: Frames, source: Frames, source_vad: Frames, cfg: CrosstalkConfig) -> npt.NDArray[np.intp]:
    """Frames where the source side clearly holds the floor.

    The source's VAD alone is not enough: it also fires on the target's voice leaking into
    the source channel. Frames where the source is `dominance_db` louder than the target
    are the source talking and the target, at most, echoing it.
    """
    speech = (source_vad >= cfg.vad_threshold) & (source >= target + cfg.dominance_db)
    return np.flatnonzero(speech)


def estimate_leak(target: Frames, source: Frames, source_vad: Frames, cfg: CrosstalkConfig) -> Leak | None:
    """The delay and coupling of `source` leaking into `target`, or None if none is measurable."""
    frames = _source_talking(target, source, source_vad, cfg)
    max_lag = int(round(cfg.max_delay_s / HOP_S))
    frames = frames[frames + max_lag < target.size]
    if frames.size < cfg.min_source_frames:
        return None
    x = source[frames].astype(np.float64)
    best_lag, best_corr = 0, -1.0
    for lag in range(max_lag + 1):
        y = target[frames + lag].astype(np.float64)
        if np.std(y) < 1e-6 or np.std(x) < 1e-6:
            continue
        corr = float(np.corrcoef(x, y)[0, 1])
        if corr > best_corr:
            best_lag, best_corr = lag, corr
    if best_corr < cfg.min_correlation:
        return None
    coupling = float(np.median(target[frames + best_lag] - source[frames]))
    return Leak(delay_s=best_lag * HOP_S, coupling_db=coupling, correlation=best_corr)


def predicted_echo(source: Frames, leak: Leak, cfg: CrosstalkConfig) -> Frames:
    """The level the echo of `source` has in the target channel at each frame."""
    lag = int(round(leak.delay_s / HOP_S))
    tail = max(1, int(round(cfg.tail_s / HOP_S)))
    # max over source frames [t - lag - tail, t - lag + 2]: the direct path, its tail, and timing slack
    padded = np.concatenate([np.full(lag + tail, -200.0, dtype=np.float32), source,
                             np.full(2, -200.0, dtype=np.float32)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, tail + 3)
    return (windows[: source.size].max(axis=1) + leak.coupling_db).astype(np.float32)


def own_speech(target: Frames, heard: Mask, echo: Frames | None, cfg: CrosstalkConfig) -> Mask:
    """Frames of the target channel that are its own speech (see the module's rule).

    `heard`: frames where the channel carries speech at all (`activity.speech_frames`).
    """
    speech = heard.copy()
    if echo is not None:
        # a 30 ms mean keeps one quiet frame inside a word from flipping the decision
        smoothed = np.convolve(target, np.ones(3, dtype=np.float32) / 3, mode="same")
        speech &= smoothed >= echo + cfg.margin_db
        # hangover: a talker's quieter syllables under the other's echo stay the talker's,
        # as long as the channel still carries speech and the dip is short
        dips = ~speech & heard
        _fill_runs(speech, False, int(round(cfg.hangover_s / HOP_S)), keep_edges=True, only=dips)
    return smooth(speech, cfg)


def extend_ends(mask: Mask, still: Mask, frames: int) -> Mask:
    """Every run of True carried on past its end while `still` holds, at most `frames` and never
    into the next run."""
    out = mask.copy()
    n = mask.size
    starts, ends = runs(mask)
    nexts = np.append(starts[1:], n)
    for end, nxt in zip(ends, nexts, strict=True):
        stop = min(end + frames, nxt, n)
        held = still[end:stop]
        k = int(np.argmin(held)) if held.size and not held.all() else held.size
        out[end:end + k] = True
    return out


def smooth(mask: Mask, cfg: CrosstalkConfig) -> Mask:
    """Close gaps shorter than `fill_gap_s`, then drop islands shorter than `min_speech_s`."""
    out = mask.copy()
    _fill_runs(out, False, int(round(cfg.fill_gap_s / HOP_S)), keep_edges=True)
    _fill_runs(out, True, int(round(cfg.min_speech_s / HOP_S)), keep_edges=False)
    return out


def _fill_runs(mask: Mask, value: bool, max_len: int, keep_edges: bool, only: Mask | None = None) -> None:
    """Invert runs of `value` no longer than `max_len` (leading/trailing runs kept if `keep_edges`).

    With `only`, a run is inverted only if every frame of it is set in `only`. Runs are those
    of the mask as given: inverting one never joins it to the next, which is of the other value.
    """
    n = mask.size
    if n == 0:
        return
    starts, ends = runs(mask == value)
    chosen = ends - starts <= max_len
    if keep_edges:
        chosen &= (starts > 0) & (ends < n)
    if only is not None:
        outside = np.concatenate([[0], np.cumsum(~only[:n], dtype=np.int64)])  # frames not in `only` before each
        chosen &= outside[ends] == outside[starts]
    if chosen.any():
        flip = np.zeros(n + 1, dtype=np.int32)
        np.add.at(flip, starts[chosen], 1)
        np.add.at(flip, ends[chosen], -1)
        mask[np.cumsum(flip[:n]) > 0] = not value


def regions(mask: Mask) -> list[tuple[float, float]]:
    """Runs of True as (start, end) seconds."""
    starts, ends = runs(mask)
    return [(float(a * HOP_S), float(b * HOP_S)) for a, b in zip(starts, ends, strict=True)]
