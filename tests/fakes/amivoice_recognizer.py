"""What the fake AmiVoice "hears": audio in, utterances out, from the audio itself.

The fake does not recognise speech; it recognises *where* sound is and *whose* it is.
A test registers voices: a tone frequency, or a sample of a real speaker's voice (its
pitch tells it from the other voices), and the utterances that voice says, in
order. The fake decodes whatever audio it is sent (the formats AmiVoice documents),
finds the sounding regions (energy over 20 ms frames, regions split by 0.6 s of
quiet, as AmiVoice splits utterances by silence), takes each region's dominant
frequency, and gives the region the next utterance of the voice with that tone,
spreading its tokens over the region. So token times follow the audio that was
actually sent (through resampling and G.711), a quiet channel yields nothing, and a
region no voice matches is "recognised with low confidence": rejected.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np

# what AmiVoice documents it accepts ("音声フォーマット")
PCM16_RATES = frozenset({8000, 11025, 16000, 22050, 32000, 44100, 48000})
G711_CODECS = frozenset({"pcm_mulaw", "pcm_alaw"})
PCM16_CODECS = frozenset({"pcm_s16le", "pcm_s16be"})
COMPRESSED_CODECS = frozenset({"flac", "opus", "vorbis", "mp3", "mp3float"})
RAW_FORMATS = {  # the `c` parameter for audio without a header
    "lsb16k": ("s16le", 16000), "lsb8k": ("s16le", 8000), "lsb11k": ("s16le", 11025),
    "lsb22k": ("s16le", 22050), "msb16k": ("s16be", 16000), "msb8k": ("s16be", 8000),
    "mulaw": ("mulaw", 8000), "alaw": ("alaw", 8000),
}
FRAME_S = 0.02
SOUND_RMS = 0.02  # about -34 dBFS
UTTERANCE_GAP_S = 0.6
MIN_REGION_S = 0.1
TONE_TOLERANCE = 0.05


class UnsupportedAudio(Exception):
    """The audio is not in a format AmiVoice accepts (its code `+`)."""


@dataclass(frozen=True)
class Token:
    written: str
    spoken: str = ""
    confidence: float = 0.9


@dataclass(frozen=True)
class Voice:
    tone_hz: float  # a tone "voice"; 0 for a real voice, known by its pitch
    utterances: tuple[tuple[Token, ...], ...]
    pitch_hz: float = 0.0  # median fundamental frequency of a sample of a real voice


PITCH_TOLERANCE = 0.35  # a region whose pitch is further than this from every real voice is not recognised


def pitch(samples: np.ndarray, rate: int) -> float:
    """Median fundamental frequency (60-400 Hz) over the voiced 40 ms frames, by autocorrelation."""
    frame = int(rate * 0.04)
    lo, hi = int(rate / 400), int(rate / 60)
    values = []
    for start in range(0, samples.size - frame, frame // 2):
        x = samples[start:start + frame].astype(np.float64)
        x = x - x.mean()
        energy = float(np.dot(x, x))
        if energy < frame * 1e-5:
            continue
        corr = np.correlate(x, x, mode="full")[frame - 1:]
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] / energy > 0.5:  # clearly periodic: voiced
            values.append(rate / lag)
    return float(np.median(values)) if values else 0.0


@dataclass
class Heard:
    """One recognised utterance: tokens with times (ms from the start of the audio)."""

    start_ms: int
    end_ms: int
    tokens: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # float32, first channel only (AmiVoice uses only the first)
    rate: int
    codec: str
    channels: int

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate


def decode(data: bytes, c_param: str = "") -> Decoded:
    """Headered audio by its header; headerless audio as the `c` parameter says (default LSB16K)."""
    if data[:4] in (b"RIFF", b"OggS", b"fLaC") or data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return _decode_headered(data)
    fmt = RAW_FORMATS.get((c_param or "lsb16k").lower())
    if fmt is None:
        raise UnsupportedAudio(f"unknown c={c_param!r}")
    kind, rate = fmt
    if kind in ("s16le", "s16be"):
        usable = len(data) // 2 * 2
        pcm = np.frombuffer(data[:usable], dtype="<i2" if kind == "s16le" else ">i2")
        samples = pcm.astype(np.float32) / 32768.0
    else:
        samples = _g711_to_float(np.frombuffer(data, dtype=np.uint8), kind)
    return Decoded(samples, rate, f"raw {kind}", 1)


def _decode_headered(data: bytes) -> Decoded:
    try:
        with av.open(io.BytesIO(data), "r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise UnsupportedAudio("no audio stream")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            rate = stream.codec_context.sample_rate or 0
            channels = stream.codec_context.channels or 0
            _check_format(codec, rate, channels)
            chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    except av.error.FFmpegError as exc:
        raise UnsupportedAudio(str(exc)) from None
    if not chunks:
        return Decoded(np.zeros(0, np.float32), rate, codec, channels)
    first = []
    for chunk in chunks:
        arr = chunk if chunk.ndim == 2 else chunk.reshape(1, -1)
        # planar formats: one row per channel; packed: channels interleaved in one row
        row = arr[0] if arr.shape[0] == channels else arr[0][::channels]
        first.append(row)
    samples = np.concatenate(first)
    if samples.dtype.kind == "i":
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
    return Decoded(samples.astype(np.float32), rate, codec, channels)


def _check_format(codec: str, rate: int, channels: int) -> None:
    if channels not in (1, 2):
        raise UnsupportedAudio(f"{channels} channels")
    if codec in G711_CODECS:
        if rate != 8000:
            raise UnsupportedAudio(f"{codec} at {rate} Hz (G.711 only at 8 kHz)")
    elif codec in PCM16_CODECS:
        if rate not in PCM16_RATES:
            raise UnsupportedAudio(f"{codec} at {rate} Hz")
    elif codec not in COMPRESSED_CODECS:
        raise UnsupportedAudio(f"codec {codec}")


def _g711_to_float(codes: np.ndarray, kind: str) -> np.ndarray:
    """ITU-T G.711 expansion of raw mu-law or A-law bytes."""
    c = codes.astype(np.int32)
    if kind == "mulaw":
        u = ~c & 0xFF
        magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
        pcm = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    else:
        a = c ^ 0x55
        exponent = (a >> 4) & 0x07
        mantissa = a & 0x0F
        magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
        pcm = np.where(a & 0x80, magnitude, -magnitude)
    return pcm.astype(np.float32) / 32768.0


def sounding_regions(decoded: Decoded) -> list[tuple[float, float]]:
    """(start_s, end_s) of each stretch of sound, split by UTTERANCE_GAP_S of quiet."""
    frame = max(1, int(decoded.rate * FRAME_S))
    n = decoded.samples.size // frame
    if n == 0:
        return []
    frames = decoded.samples[: n * frame].reshape(n, frame).astype(np.float64)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > SOUND_RMS
    regions: list[tuple[float, float]] = []
    start = None
    quiet = 0
    gap = int(UTTERANCE_GAP_S / FRAME_S)
    for i, on in enumerate(loud):
        if on:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= gap:
                regions.append((start * FRAME_S, (i - quiet + 1) * FRAME_S))
                start, quiet = None, 0
    if start is not None:
        regions.append((start * FRAME_S, (n - quiet) * FRAME_S))
    return [(a, b) for a, b in regions if b - a >= MIN_REGION_S]


def dominant_hz(decoded: Decoded, start_s: float, end_s: float) -> float:
    part = decoded.samples[int(start_s * decoded.rate): int(end_s * decoded.rate)].astype(np.float64)
    if part.size < 16:
        return 0.0
    spectrum = np.abs(np.fft.rfft(part * np.hanning(part.size)))
    freqs = np.fft.rfftfreq(part.size, 1.0 / decoded.rate)
    band = (freqs >= 80) & (freqs <= 3500)
    return float(freqs[band][np.argmax(spectrum[band])]) if band.any() else 0.0


def hiragana(text: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if "\u30a1" <= ch <= "\u30f6" else ch
                   for ch in unicodedata.normalize("NFKC", text))


def recognise(decoded: Decoded, voices: list[Voice], words: dict[str, str]) -> tuple[list[Heard], int]:
    """(recognised utterances, number of sounding regions no voice matched).

    `words` maps a registered reading (hiragana) to its written form: a token whose
    reading is registered comes out written as registered.
    """
    said = {id(v): 0 for v in voices}
    heard: list[Heard] = []
    rejected = 0
    for start, end in sounding_regions(decoded):
        voice = _whose(decoded, start, end, voices)
        if voice is None or said[id(voice)] >= len(voice.utterances):
            rejected += 1
            continue
        tokens = voice.utterances[said[id(voice)]]
        said[id(voice)] += 1
        heard.append(_timed(tokens, int(start * 1000), int(end * 1000), words))
    return heard, rejected


def _whose(decoded: Decoded, start: float, end: float, voices: list[Voice]) -> Voice | None:
    tones = [v for v in voices if v.tone_hz]
    hz = dominant_hz(decoded, start, end)
    voice = next((v for v in tones if abs(hz - v.tone_hz) <= TONE_TOLERANCE * v.tone_hz), None)
    real = [v for v in voices if v.pitch_hz]
    if voice is None and real:
        f0 = pitch(decoded.samples[int(start * decoded.rate): int(end * decoded.rate)], decoded.rate)
        best = min(real, key=lambda v: abs(v.pitch_hz - f0))
        voice = best if abs(best.pitch_hz - f0) <= PITCH_TOLERANCE * best.pitch_hz else None
    return voice


def _timed(tokens: tuple[Token, ...], start_ms: int, end_ms: int, words: dict[str, str]) -> Heard:
    spoken_tokens = [t for t in tokens if not _punctuation(t.written)]
    step = (end_ms - start_ms) / max(1, len(spoken_tokens))
    out: list[dict[str, Any]] = []
    cursor = float(start_ms)
    for token in tokens:
        if _punctuation(token.written):
            # inserted punctuation: no duration, reading "_"
            out.append({"written": token.written, "confidence": token.confidence, "starttime": int(cursor),
                        "endtime": int(cursor), "spoken": "_"})
            continue
        written = words.get(hiragana(token.spoken), token.written) if token.spoken else token.written
        out.append({"written": written, "confidence": token.confidence, "starttime": int(round(cursor)),
                    "endtime": int(round(cursor + step)), "spoken": token.spoken or token.written})
        cursor += step
    return Heard(start_ms, end_ms, out)


def _punctuation(text: str) -> bool:
    return bool(text) and all(unicodedata.category(ch)[0] == "P" for ch in text)


def voice_track(duration_s: float, bursts: list[tuple[float, float]], tone_hz: float, *, rate: int = 16000,
                level: float = 0.3, noise: float = 0.0, seed: int = 1) -> np.ndarray:
    """A channel where a voice sounds at `tone_hz` during each (start_s, end_s) burst, quiet between."""
    n = int(duration_s * rate)
    track = np.zeros(n, dtype=np.float32)
    t = np.arange(n, dtype=np.float64) / rate
    for start, end in bursts:
        a, b = int(start * rate), min(n, int(end * rate))
        track[a:b] = (level * np.sin(2 * np.pi * tone_hz * t[a:b])).astype(np.float32)
    if noise:
        track += (np.random.default_rng(seed).standard_normal(n) * noise).astype(np.float32)
    return track
