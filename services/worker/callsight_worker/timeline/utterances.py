"""A side's words grouped into utterances at its pauses, bounded by its own speech.

Decoder segments are not utterances: Whisper can put five replies separated by seconds of
silence in one segment, or split one sentence in two. An utterance here is a run of the
side's words with no pause of `pause_s` or more between them, where a pause is either a
gap between the words' times or a stretch of the channel without own speech between
them (Whisper stretches a word over the silence after it). Its start and end are those
of the own speech under its words, which are more exact than word timings; on a noisy
line its end follows the voice's fading ending while Silero still hears it
(`ChannelSpeech.extent`).
"""

from __future__ import annotations

import numpy as np

from callsight_worker.engines.base import Word
from callsight_worker.speech.activity import HOP_S, runs
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import join_words
from callsight_worker.transcript import Turn


def _silent_run(speech: ChannelSpeech, start: float, end: float) -> float:
    """Longest stretch without own speech between two times, in seconds."""
    a, b = int(start / HOP_S), int(end / HOP_S)
    if b <= a:
        return 0.0
    window = speech.own[max(0, a):min(speech.frames, b)]
    if window.size == 0:
        return end - start
    starts, ends = runs(~window)
    return int(np.max(ends - starts, initial=0)) * HOP_S


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def group_words(words: list[Word], speech: ChannelSpeech | None, cfg: TimelineConfig) -> list[list[Word]]:
    """Words split where the side pauses: by its speech activity when known, else by word times.

    Word timings are loose (Whisper stretches a word over the silence after it, or glues two
    words across a pause), so with speech activity the pause is measured on the channel:
    the longest stretch without own speech between the middles of two consecutive words.
    """
    groups: list[list[Word]] = []
    for w in words:
        if groups:
            prev = groups[-1][-1]
            if speech is not None:
                split = _silent_run(speech, _mid(prev), _mid(w)) >= cfg.pause_s
            else:
                split = w.start - prev.end >= cfg.pause_s
            if not split:
                groups[-1].append(w)
                continue
        groups.append([w])
    return groups


def _bounds(group: list[Word], speech: ChannelSpeech | None, cfg: TimelineConfig,
            floor: float, ceiling: float) -> tuple[float, float]:
    """Start and end of a group: the own speech under its words, within [floor, ceiling]."""
    first, last = group[0].start, max(w.end for w in group)
    if speech is None:
        return first, last
    # own speech around the words, at most edge_slack_s beyond them, never into the
    # neighbouring utterances of the same side, and no further than a pause
    lo = max(0, int((first - cfg.edge_slack_s) / HOP_S), int(np.ceil(floor / HOP_S)))
    hi = min(speech.frames, int(np.ceil((last + cfg.edge_slack_s) / HOP_S)), int(min(ceiling, 1e7) / HOP_S))
    mids = [int(_mid(w) / HOP_S) for w in group]
    own = speech.extent
    anchors = [m for m in mids if lo <= m < hi and own[m]]
    if not anchors:
        return first, last
    a = min(anchors)
    while a > lo and own[a - 1]:
        a -= 1
    b = max(anchors)
    while b + 1 < hi and own[b + 1]:
        b += 1
    return a * HOP_S, (b + 1) * HOP_S


def build_utterances(speaker: str, words: list[Word], speech: ChannelSpeech | None, language: str,
                     cfg: TimelineConfig) -> list[Turn]:
    """One side's utterances in time order."""
    out: list[Turn] = []
    groups = group_words(sorted(words, key=lambda w: (w.start, w.end)), speech, cfg)
    for k, group in enumerate(groups):
        floor = out[-1].end if out else 0.0
        ceiling = _mid(groups[k + 1][0]) if k + 1 < len(groups) else float("inf")
        start, end = _bounds(group, speech, cfg, floor, ceiling)
        out.append(Turn(speaker=speaker, start=round(start, 3), end=round(max(end, start), 3),
                        text=join_words(group, language), words=tuple(group)))
    return out
