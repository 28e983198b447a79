"""Who spoke when on one track: the voices of a mono call, from voiceprints of its speech.

A mono recording (or a stereo file whose two channels carry the same mix) holds both
sides on one track. Its speech (the speech activity of `speech.channels`, split at its
pauses) is cut into segments of about `segment_s`; each gets a voiceprint
(`speaker_encoder`) and a spectral profile (cepstral mean and spread: the line and the
handset), and the segments are clustered into the expected number of voices (2 by
default, 1-4 allowed): average-linkage agglomerative clustering on cosine similarity,
then a few rounds of reassignment to the nearest voice centroid. Segments
shorter than `min_segment_s` ("yes", "uh-huh") carry too little voice to shape the
clusters: they join the voice whose centroid they are closest to.

The result is unsure, and the call stays "mixed", when
* the call has less than `min_speech_s` of speech;
* two voices sound alike (centroid cosine similarity at least `same_voice_similarity`):
  they are merged, and one voice is no separation;
* a voice holds less than `min_voice_s` of speech: noise, a cough or a stray segment is
  not a speaker.

Pure functions over arrays; the encoder is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from callsight_worker.engines.base import SAMPLE_RATE, Audio, Word
from callsight_worker.speech.activity import HOP_S
from callsight_worker.speech.blas import blas_threads
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.speech.crosstalk import extend_ends, regions

Labels = npt.NDArray[np.int16]
VOICE_NAMES = "ABCD"
MAX_SPEAKERS = 4
MAX_AGGLOMERATED = 600  # segments clustered bottom-up (15 min of speech); the rest join by centroid


class Encoder(Protocol):
    """A voiceprint model: 40-band mel frames of a segment, then one embedding per segment.

    The two steps are apart so that the call's mel frames are computed once and serve
    both the voiceprints and the spectral profiles."""

    name: str
    threads: int | None  # cores its matrix products, and the diarization's, may use (None: all)

    def features(self, samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

    def level_gain(self, samples: npt.NDArray[np.float32]) -> float: ...

    def embed_features(self, mels: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class DiarizationConfig:
    speakers: int = 2  # voices expected on the track (1-4)
    segment_s: float = 1.5  # speech is cut into segments about this long, one voiceprint each
    min_segment_s: float = 0.6  # shorter segments do not shape the clusters, they join one
    min_speech_s: float = 4.0  # less speech than this in the call: not separated
    same_voice_similarity: float = 0.80  # voices whose raw centroids are this alike are one voice (docs/diarization.md)
    min_voice_s: float = 3.0  # a voice with less speech is not a speaker of its own
    refine_rounds: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    voice: int
    margin: float  # cosine to its voice's centroid minus to the nearest other's


@dataclass
class Diarization:
    """The voices found on a track, frame by frame (10 ms), or why none were separated."""

    separated: bool
    reason: str  # why not separated ("" when separated)
    labels: Labels  # voice index of each frame, -1 where nobody speaks
    voices: int
    segments: list[Segment] = field(default_factory=list)
    similarity: float | None = None  # highest cosine between two voice centroids
    confidence: float = 0.0  # 0..1: how clearly the voices differ and the segments belong

    def voice_speech(self, voice: int) -> npt.NDArray[np.bool_]:
        return np.asarray(self.labels == voice)

    def talk_s(self, voice: int) -> float:
        return float(np.count_nonzero(self.labels == voice)) * HOP_S

    def to_dict(self) -> dict[str, Any]:
        return {
            "separated": self.separated,
            "reason": self.reason,
            "voices": self.voices,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "confidence": round(self.confidence, 3),
            "talk_s": {VOICE_NAMES[v]: round(self.talk_s(v), 2) for v in range(self.voices)},
            "segments": len(self.segments),
        }


def cut_segments(speech: ChannelSpeech, cfg: DiarizationConfig) -> list[tuple[float, float]]:
    """Speech regions cut into near-equal pieces of about `segment_s`."""
    out: list[tuple[float, float]] = []
    for start, end in regions(speech.own):
        length = end - start
        pieces = max(1, int(round(length / cfg.segment_s)))
        step = length / pieces
        out += [(start + k * step, start + (k + 1) * step) for k in range(pieces)]
    return out


def _agglomerate(similarity: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.intp]:
    """Average-linkage clustering on a similarity matrix, down to `k` clusters.

    n - k merges, each a scan of the n x n matrix: keep n to `MAX_AGGLOMERATED`."""
    n = similarity.shape[0]
    groups: list[list[int]] = [[i] for i in range(n)]
    link = similarity.astype(np.float64).copy()
    np.fill_diagonal(link, -np.inf)
    sizes = np.ones(n)
    for _ in range(n - k):
        i, j = np.unravel_index(int(np.argmax(link)), link.shape)
        a, b = int(min(i, j)), int(max(i, j))
        # average linkage: the merged row is the size-weighted mean of the two rows
        link[a] = (link[a] * sizes[a] + link[b] * sizes[b]) / (sizes[a] + sizes[b])
        link[:, a] = link[a]
        link[a, a] = -np.inf
        link[b, :] = link[:, b] = -np.inf  # b is gone
        sizes[a] += sizes[b]
        groups[a] += groups[b]
        groups[b] = []
    labels = np.zeros(n, dtype=np.intp)
    for index, members in enumerate(g for g in groups if g):
        labels[members] = index
    return labels


def _spread(indices: npt.NDArray[np.intp], most: int) -> npt.NDArray[np.intp]:
    """At most `most` of `indices`, evenly spread over them (over the call, as they are in time order)."""
    if indices.size <= most:
        return indices
    return indices[np.unique(np.linspace(0, indices.size - 1, most).round().astype(np.intp))]


def _centroids(embeddings: npt.NDArray[np.float32], labels: npt.NDArray[np.intp], k: int,
               weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    out = np.zeros((k, embeddings.shape[1]), dtype=np.float32)
    for v in range(k):
        members = labels == v
        if members.any():
            c = (embeddings[members] * weights[members, None]).sum(axis=0)
            out[v] = c / (np.linalg.norm(c) + 1e-9)
    return out


def unit_rows(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def spectral_profiles(mels: Sequence[npt.NDArray[np.float32]],
                      gains: Sequence[float] | None = None) -> npt.NDArray[np.float32]:
    """Mean and spread of each segment's cepstrum (19 MFCCs of its 40-band mel frames),
    standardised over the call.

    The line and the handset colour a voice as much as the throat does: on one track the
    operator's headset and the customer's phone sound different even when a voiceprint
    model, trained to ignore the channel, hears two alike voices. The mel frames are the
    encoder's (`Encoder.features`), raised by `gains` (amplitude) when quiet: the log's
    floor is raised with them, so the profile is that of the segment as recorded (the
    floor matters: it flattens a quiet speaker's weak bands; the 0th coefficient, which
    the gain moves, is left out).
    """
    k = np.arange(40)
    dct = (np.cos(np.pi / 40 * (k[None, :] + 0.5) * np.arange(20)[:, None]) * np.sqrt(2 / 40)).astype(np.float32)
    rows = []
    for mel, gain in zip(mels, gains if gains is not None else [1.0] * len(mels), strict=True):
        floor = np.float32(1e-8 * gain * gain)
        cep = (np.log(mel + floor) @ dct.T)[:, 1:] if mel.shape[0] else np.zeros((1, 19), np.float32)
        rows.append(np.concatenate([cep.mean(axis=0), cep.std(axis=0)]))
    out = np.asarray(rows, dtype=np.float32)
    out = (out - out.mean(axis=0)) / (out.std(axis=0) + 1e-6)
    return unit_rows(out)


def cluster(embeddings: npt.NDArray[np.float32], durations: npt.NDArray[np.float64], cfg: DiarizationConfig,
            profiles: npt.NDArray[np.float32] | None = None) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Voice of each segment and the voices' centroids (of the raw voiceprints); alike voices merged.

    Clustering runs on voiceprints minus the call's mean voiceprint (what every segment
    shares says nothing about who speaks), joined with equal weight to the segments'
    spectral profiles when given. Whether two voices are really two is judged on the raw
    voiceprints alone, whose similarity means the same on every call. Measured on the MFA
    recording of one man healthy and with a cold: 53% of segments right on raw voiceprints,
    90% with both (docs/diarization.md).
    """
    n = embeddings.shape[0]
    k = max(1, min(cfg.speakers, MAX_SPEAKERS))
    shaping = durations >= cfg.min_segment_s
    if shaping.sum() < k:
        shaping = np.ones(n, dtype=bool)
    weights = durations * shaping + 1e-3
    centred = unit_rows(embeddings - np.average(embeddings, axis=0, weights=weights)[None, :])
    if profiles is not None:
        centred = unit_rows(np.hstack([centred, profiles]))
    # a long call: the voices are found on segments spread over it, the refinement below
    # then places every segment (agglomeration costs the cube of its segments)
    core = _spread(np.flatnonzero(shaping), MAX_AGGLOMERATED)
    labels = np.zeros(n, dtype=np.intp)
    if core.size > k:
        labels[core] = _agglomerate((centred[core] @ centred[core].T).astype(np.float64), k)
    else:
        labels[core] = np.arange(core.size)
    k = int(labels[core].max()) + 1
    centroids = _centroids(centred[core], labels[core], k, durations[core])
    for _ in range(cfg.refine_rounds):
        labels = np.argmax(centred @ centroids.T, axis=1)
        centroids = _centroids(centred, labels, k, weights)
    # merge voices that sound alike (raw voiceprints), most alike first
    raw = _centroids(embeddings, labels, k, weights)
    while k > 1:
        sim = raw @ raw.T
        np.fill_diagonal(sim, -1.0)
        i, j = np.unravel_index(int(np.argmax(sim)), sim.shape)
        if sim[i, j] < cfg.same_voice_similarity:
            break
        a, b = int(min(i, j)), int(max(i, j))
        labels[labels == b] = a
        labels[labels > b] -= 1
        k -= 1
        raw = _centroids(embeddings, labels, k, weights)
    return labels, raw


def diarize(samples: Audio, speech: ChannelSpeech, encoder: Encoder, cfg: DiarizationConfig | None = None
            ) -> Diarization:
    """The voices of one track (see the module's rules)."""
    cfg = cfg or DiarizationConfig()
    empty = np.full(speech.frames, -1, dtype=np.int16)
    spoken = float(speech.own.sum()) * HOP_S
    if cfg.speakers < 2:
        return Diarization(False, "one speaker expected", empty, 0)
    if spoken < cfg.min_speech_s:
        return Diarization(False, f"too little speech to tell voices apart ({spoken:.1f} s)", empty, 0)
    spans = cut_segments(speech, cfg)
    pieces = [samples[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans]
    durations = np.array([b - a for a, b in spans], dtype=np.float64)
    with blas_threads(encoder.threads):
        mels = [encoder.features(x) for x in pieces]  # once, for the voiceprints and the profiles
        embeddings = encoder.embed_features(mels)
        profiles = spectral_profiles(mels, [encoder.level_gain(x) for x in pieces])
        labels, centroids = cluster(embeddings, durations, cfg, profiles)
    k = centroids.shape[0]
    scores = embeddings @ centroids.T  # raw similarity: margins mean the same on every call
    # a voice with too little speech is not a speaker: its segments join the nearest other voice
    talk = np.array([durations[labels == v].sum() for v in range(k)])
    small = [v for v in range(k) if talk[v] < cfg.min_voice_s]
    if small and k - len(small) >= 1:
        keep = [v for v in range(k) if v not in small]
        labels = np.array([keep[int(np.argmax(scores[i, keep]))] if labels[i] in small else labels[i]
                           for i in range(labels.size)], dtype=np.intp)
        remap = {v: i for i, v in enumerate(keep)}
        labels = np.array([remap[int(v)] for v in labels], dtype=np.intp)
        centroids = centroids[keep]
        k = len(keep)
        scores = embeddings @ centroids.T
    frame_labels = empty.copy()
    segments: list[Segment] = []
    for (a, b), v, row in zip(spans, labels, scores, strict=True):
        others = np.delete(row, int(v))
        margin = float(row[int(v)] - others.max()) if others.size else 0.0
        segments.append(Segment(round(a, 3), round(b, 3), int(v), round(margin, 4)))
        frame_labels[int(round(a / HOP_S)):int(round(b / HOP_S))] = int(v)
    frame_labels[~speech.own] = -1
    if k < 2:
        similarity = None
        if len(small):
            reason = "one voice: the other had too little speech to be a speaker"
        else:
            reason = "one voice: the speech sounds like a single speaker"
        return Diarization(False, reason, empty, 1, segments, similarity, 0.0)
    sim = centroids @ centroids.T
    np.fill_diagonal(sim, -1.0)
    similarity = float(sim.max())
    # confidence: how far apart the voices are, and how many segments clearly belong
    separation = float(np.clip((cfg.same_voice_similarity - similarity) / 0.25, 0.0, 1.0))
    clear = float(np.average([s.margin >= 0.05 for s in segments], weights=durations))
    confidence = round(separation * clear, 3)
    return Diarization(True, "", frame_labels, k, segments, similarity, confidence)


def word_voices(words: list[Word], diarization: Diarization) -> list[int]:
    """The voice of each word: the one most of its frames belong to (else the nearest frame's)."""
    labels = diarization.labels
    spoken = np.flatnonzero(labels >= 0)
    out = []
    for w in words:
        a = max(0, int(w.start / HOP_S))
        b = min(labels.size, max(a + 1, int(np.ceil(w.end / HOP_S))))
        window = labels[a:b]
        window = window[window >= 0]
        if window.size:
            out.append(int(np.bincount(window).argmax()))
        elif spoken.size:
            mid = int(((w.start + w.end) / 2) / HOP_S)
            at = int(np.searchsorted(spoken, mid))  # the nearest spoken frame: just before or at/after
            near = min((x for x in (at - 1, at) if 0 <= x < spoken.size), key=lambda x: abs(int(spoken[x]) - mid))
            out.append(int(labels[spoken[near]]))
        else:
            out.append(0)
    return out


def voice_speech(speech: ChannelSpeech, diarization: Diarization, voice: int) -> ChannelSpeech:
    """The track's speech activity limited to one voice: what the utterance builder reads. On a
    noisy track the voice's runs keep the fading endings heard after them (`ChannelSpeech.tails`)."""
    own = speech.own & diarization.voice_speech(voice)
    tails = None if speech.tails is None else extend_ends(own, speech.tails & ~speech.own, own.size)
    return ChannelSpeech(heard=speech.heard, own=own, noise_floor_db=speech.noise_floor_db, tails=tails)
