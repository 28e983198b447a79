"""Own speech of every channel of a call: the input of the turn timeline and of the engines.

For a stereo call each channel is checked against the other for leaked speech (see
`crosstalk`); a mono call has one channel and nothing to leak. The result says, per 10 ms
frame, where the side's own voice is, and gives the regions an engine should transcribe.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from callsight_worker.cpus import available_cpus
from callsight_worker.engines.base import Audio
from callsight_worker.speech import activity, crosstalk
from callsight_worker.speech.activity import HOP_S
from callsight_worker.speech.crosstalk import CrosstalkConfig, Leak, Mask


@dataclass(frozen=True)
class SpeechConfig:
    vad_strong: float = 0.5  # Silero probability that is speech on its own
    vad_confirm: float = 0.25  # ... that makes a whole sound around it speech
    sound_above_floor_db: float = 12.0  # a sound Silero is sure about somewhere is speech as a whole
    sound_above_noise_db: float = 6.0  # ... on a noisy line, where the voice stands less far out
    # regions sent to an engine: own speech joined across short gaps, padded on both sides
    region_join_gap_s: float = 0.3
    region_pad_s: float = 0.25
    # a noisy line: the voice's median level less than this over the background; there a
    # voice's decaying endings are under the noise, and its utterances go on while Silero hears them
    noisy_snr_db: float = 20.0
    noisy_tail_s: float = 0.3
    noisy_tail_probability: float = 0.2
    crosstalk: CrosstalkConfig = field(default_factory=CrosstalkConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChannelSpeech:
    """What one channel carries, frame by frame (10 ms)."""

    heard: Mask  # speech of anyone: the side's own voice or the other side's echo
    own: Mask  # the side's own voice
    noise_floor_db: float
    leak: Leak | None = None  # how the other side leaks into this channel
    # own speech as far as it is heard: on a noisy line with the endings that fade under the
    # background while Silero still hears them (None: as `own`); utterances end where it does
    tails: Mask | None = None

    @property
    def extent(self) -> Mask:
        return self.own if self.tails is None else self.tails

    @property
    def frames(self) -> int:
        return int(self.own.size)

    def _slice(self, start: float, end: float) -> slice:
        a = max(0, int(np.floor(start / HOP_S)))
        b = min(self.frames, max(a + 1, int(np.ceil(end / HOP_S))))
        return slice(a, b)

    def own_fraction(self, start: float, end: float) -> float:
        """Share of the frames in [start, end] that are the side's own speech."""
        window = self.own[self._slice(start, end)]
        return float(window.mean()) if window.size else 0.0

    def echo_fraction(self, start: float, end: float) -> float:
        """Share of the frames in [start, end] that carry only the other side's voice."""
        s = self._slice(start, end)
        window = self.heard[s] & ~self.own[s]
        return float(window.mean()) if window.size else 0.0

    def own_regions(self) -> list[tuple[float, float]]:
        return crosstalk.regions(self.own)

    def transcription_regions(self, cfg: SpeechConfig, duration_s: float) -> tuple[tuple[float, float], ...]:
        """Own speech joined across gaps < `region_join_gap_s`, padded by `region_pad_s`."""
        joined: list[list[float]] = []
        for start, end in self.own_regions():
            start, end = max(0.0, start - cfg.region_pad_s), min(duration_s, end + cfg.region_pad_s)
            if joined and start - joined[-1][1] < cfg.region_join_gap_s:
                joined[-1][1] = max(joined[-1][1], end)
            else:
                joined.append([start, end])
        return tuple((round(a, 3), round(b, 3)) for a, b in joined)


def analyse(channels: list[Audio], cfg: SpeechConfig | None = None) -> list[ChannelSpeech]:
    """Own speech of each channel; with two channels, each is cleared of the other's echo."""
    cfg = cfg or SpeechConfig()
    features = _features(channels)
    n = min((lv.size for lv, _ in features), default=0)
    levels = [lv[:n] for lv, _ in features]
    first = [p[:n] for _, p in features]
    talking = [p >= cfg.vad_strong for p in first]
    above = [activity.sound_threshold_db(lv, p, most=cfg.sound_above_floor_db, least=cfg.sound_above_noise_db,
                                         other_talking=talking[1 - i] if len(channels) == 2 else None)
             for i, (lv, p) in enumerate(zip(levels, first, strict=True))]
    spans = [activity.sounds(lv, a) for lv, a in zip(levels, above, strict=True)]
    probs = [activity.second_look(c, p, s, confirm=cfg.vad_confirm) for c, p, s in zip(channels, first, spans, strict=True)]
    heard = [activity.speech_frames(p, s, strong=cfg.vad_strong, confirm=cfg.vad_confirm)
             for p, s in zip(probs, spans, strict=True)]
    out: list[ChannelSpeech] = []
    for i, (lv, h) in enumerate(zip(levels, heard, strict=True)):
        leak = echo = None
        if len(channels) == 2:
            other = 1 - i
            leak = crosstalk.estimate_leak(lv, levels[other], probs[other], cfg.crosstalk)
            if leak is not None:
                echo = crosstalk.predicted_echo(levels[other], leak, cfg.crosstalk)
        own = crosstalk.own_speech(lv, h, echo, cfg.crosstalk)
        floor = activity.noise_floor(lv)
        tails = None
        if own.any() and float(np.median(lv[own])) - floor < cfg.noisy_snr_db:
            tails = crosstalk.extend_ends(own, probs[i][: own.size] >= cfg.noisy_tail_probability,
                                          int(round(cfg.noisy_tail_s / HOP_S)))
        out.append(ChannelSpeech(heard=crosstalk.smooth(h, cfg.crosstalk), own=own, noise_floor_db=floor,
                                 leak=leak, tails=tails))
    return out


def _features(channels: list[Audio]) -> list[tuple[activity.Frames, activity.Frames]]:
    """Band levels and Silero's speech probability of every channel, the channels side by side
    on the cores the worker is given (Silero runs one thread per call and numpy's FFT and
    onnxruntime release the GIL; the model keeps no state between calls)."""
    workers = min(len(channels), available_cpus())
    if workers <= 1:
        return [_channel_features(c) for c in channels]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="speech-features") as pool:
        return list(pool.map(_channel_features, channels))


def _channel_features(audio: Audio) -> tuple[activity.Frames, activity.Frames]:
    return activity.band_levels(audio), activity.speech_probability(audio)
