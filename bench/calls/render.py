"""A script becomes a stereo recording in telephone conditions, and its ground truth.

Conditions, as real contact-centre recordings have them:
* each side's voice leaks faintly into the other channel (line/acoustic echo, headset
  bleed): band-limited, with a short reverberant tail, `echo_db` below the talker and
  10-300 ms late;
* G.711 μ-law/A-law WAV or MP3 at 8 kHz;
* background noise on the customer's side at a given SNR, and a noise floor on both.

The truth comes from the clean clips before any of that: each clip's speech regions
(split at pauses of at least `pause_s`) are the speaker's utterances, with the clip's text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np

from bench.calls.script import CUSTOMER, OPERATOR, Script
from bench.calls.sources import RATE, speech_regions


@dataclass(frozen=True)
class Condition:
    name: str
    echo_db: float | None = None  # leak level below the talker (20, 30, 40); None = no echo
    codec: str = "ulaw"  # "ulaw" | "alaw" | "mp3" | "pcm16"
    noise_snr_db: float | None = None  # background noise on the customer's side
    rate: int = 8000


CONDITIONS = {
    c.name: c
    for c in (
        Condition("clean-ulaw"),
        Condition("echo20-ulaw", echo_db=20),
        Condition("echo30-ulaw", echo_db=30),
        Condition("echo40-ulaw", echo_db=40),
        Condition("echo30-alaw", echo_db=30, codec="alaw"),
        Condition("echo30-mp3", echo_db=30, codec="mp3"),
        Condition("echo30-noise-ulaw", echo_db=30, noise_snr_db=15),
    )
}

CODECS = {"ulaw": ("wav", "pcm_mulaw", "s16"), "alaw": ("wav", "pcm_alaw", "s16"),
          "pcm16": ("wav", "pcm_s16le", "s16"), "mp3": ("mp3", "libmp3lame", "fltp")}


def _bandpass(x: np.ndarray, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, x.size).astype(np.float32)


def echo_path(rng: np.random.Generator) -> np.ndarray:
    """An impulse response: a direct tap and a decaying tail of random taps (~60 ms)."""
    n = int(0.06 * RATE)
    tail = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.012 * RATE)) * 0.35
    tail[0] = 1.0
    return (tail / np.sqrt(np.sum(tail**2))).astype(np.float32)


def leak(source: np.ndarray, level_db: float, delay_s: float, rng: np.random.Generator) -> np.ndarray:
    """The source as it leaks into the other channel: filtered, delayed, `level_db` below it."""
    shaped = np.convolve(_bandpass(source), echo_path(rng))[: source.size]
    delay = int(delay_s * RATE)
    out = np.zeros_like(source)
    out[delay:] = shaped[: source.size - delay]
    return (out * 10 ** (-level_db / 20)).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    x = np.fft.irfft(spectrum, n)
    return (x / np.sqrt(np.mean(x**2))).astype(np.float32)


def encode(path: Path, channels: list[np.ndarray], codec: str, rate: int) -> Path:
    """Float32 16 kHz channels to a file of `codec` at `rate` (PyAV's FFmpeg)."""
    container_format, codec_name, sample_format = CODECS[codec]
    layout = "stereo" if len(channels) == 2 else "mono"
    data = np.ascontiguousarray(np.stack(channels).astype(np.float32))
    with av.open(str(path), "w", format=container_format) as out:
        stream = cast(av.AudioStream, out.add_stream(codec_name, rate=rate))
        stream.layout = layout
        if codec == "mp3":
            stream.bit_rate = 32_000
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
        for start in range(0, data.shape[1], 1600):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, start:start + 1600]), format="fltp",
                                               layout=layout)
            frame.sample_rate = RATE
            frame.time_base = Fraction(1, RATE)
            frame.pts = start
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def truth(script: Script, pause_s: float) -> dict[str, Any]:
    """The known timeline: utterances per side, backchannels, interruptions, talk time."""
    utterances: list[dict[str, Any]] = []
    for i, p in enumerate(script.placements):
        regions = speech_regions(p.clip.samples, pause_s)
        for k, (a, b) in enumerate(regions):
            utterances.append({
                "speaker": p.speaker, "start": round(p.start + a, 3), "end": round(p.start + b, 3),
                "placement": i, "kind": p.kind,
                # the clip's text belongs to its first region; WER is computed per side over the whole text
                "text": p.clip.text if k == 0 else "",
            })
    utterances.sort(key=lambda u: u["start"])
    # two clips of one speaker less than a pause apart are one utterance, as they sound
    merged: list[dict[str, Any]] = []
    for u in utterances:
        prev = next((m for m in reversed(merged) if m["speaker"] == u["speaker"]), None)
        if prev is not None and u["start"] - prev["end"] < pause_s and prev["kind"] != "backchannel" \
                and u["kind"] != "backchannel":
            prev["end"] = max(prev["end"], u["end"])
            prev["text"] = (prev["text"] + " " + u["text"]).strip()
            continue
        merged.append(dict(u))
    utterances = merged
    events = {
        "backchannels": [{"speaker": p.speaker, "start": round(p.start, 3), "end": round(p.end, 3)}
                         for p in script.placements if p.kind == "backchannel"],
        "interruptions": [{"by": p.speaker, "at": round(p.start, 3),
                           "interrupted": script.placements[p.interrupts].speaker}
                          for p in script.placements if p.kind == "interruption" and p.interrupts is not None],
    }
    return {"name": script.name, "language": script.language, "duration_s": round(script.duration, 3),
            "pause_s": pause_s, "utterances": utterances, **events,
            "text": {s: _joined([p.clip.text for p in script.placements if p.speaker == s], script.language)
                     for s in (OPERATOR, CUSTOMER)}}


def _joined(texts: list[str], language: str) -> str:
    return ("" if language.startswith("ja") else " ").join(texts)


def render(script: Script, condition: Condition, out_dir: Path, seed: int, pause_s: float,
           operator_left: bool = True, mono: bool = False) -> tuple[Path, dict[str, Any]]:
    """Write the call as heard on a telephone recording; return its path and truth.

    `mono`: both sides mixed into one track, as a PBX that records one mixed line stores
    it (no echo: the echo of a side is that side's voice again, already in the mix)."""
    rng = np.random.default_rng(seed)
    n = int(script.duration * RATE)
    clean = {OPERATOR: np.zeros(n, np.float32), CUSTOMER: np.zeros(n, np.float32)}
    # customers are often quieter than the operator's headset
    gain = {OPERATOR: 1.0, CUSTOMER: float(10 ** (rng.uniform(-6.0, 1.0) / 20))}
    for p in script.placements:
        a = int(p.start * RATE)
        samples = p.clip.samples[: n - a] * gain[p.speaker]
        clean[p.speaker][a:a + samples.size] += samples
    heard = {s: x.copy() for s, x in clean.items()}
    delays = {OPERATOR: float(rng.uniform(0.01, 0.3)), CUSTOMER: float(rng.uniform(0.01, 0.3))}
    if condition.echo_db is not None and not mono:
        heard[CUSTOMER] += leak(clean[OPERATOR], condition.echo_db, delays[OPERATOR], rng)
        heard[OPERATOR] += leak(clean[CUSTOMER], condition.echo_db, delays[CUSTOMER], rng)
    if condition.noise_snr_db is not None:
        voiced = clean[CUSTOMER][np.abs(clean[CUSTOMER]) > 1e-4]
        if voiced.size == 0:  # a silent customer: noise at the operator's speech level minus the SNR
            voiced = clean[OPERATOR][np.abs(clean[OPERATOR]) > 1e-4]
        speech_level = float(np.sqrt(np.mean(voiced**2)))
        heard[CUSTOMER] += pink_noise(n, rng) * speech_level * 10 ** (-condition.noise_snr_db / 20)
    for s in heard:  # a line is never digitally silent
        heard[s] += rng.standard_normal(n).astype(np.float32) * 10 ** (-66 / 20)
        np.clip(heard[s], -1.0, 1.0, out=heard[s])
    if mono:
        order = [np.clip(heard[OPERATOR] + heard[CUSTOMER], -1.0, 1.0)]
    else:
        order = [heard[OPERATOR], heard[CUSTOMER]] if operator_left else [heard[CUSTOMER], heard[OPERATOR]]
    ext = "mp3" if condition.codec == "mp3" else "wav"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = encode(out_dir / f"{script.name}.{condition.name}{'.mono' if mono else ''}.{ext}", order,
                  condition.codec, condition.rate)
    t = truth(script, pause_s)
    t.update(condition=condition.name, echo_delay_s={k: round(v, 3) for k, v in delays.items()},
             customer_gain_db=round(20 * np.log10(gain[CUSTOMER]), 1),
             operator_channel="mono" if mono else ("left" if operator_left else "right"), format=ext)
    path.with_suffix(".truth.json").write_text(json.dumps(t, ensure_ascii=False, indent=1))
    return path, t
