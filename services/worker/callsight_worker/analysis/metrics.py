"""Conversation metrics computed from the turn timeline alone.

A turn is one utterance (speech between pauses, from the side's own speech activity;
see `callsight_worker.timeline`). Stereo recordings give each speaker their own channel,
so utterances of the operator and the customer may overlap in time; that is what makes
overlap and interruption measurable at all. Mono recordings have one "mixed" speaker:
talk time, silence and rate still mean something, overlap and interruptions do not
(they are reported as 0).

All times are seconds from the start of the recording. Definitions are in
docs/analytics.md; the thresholds are in `MetricsConfig` so a run can be repeated
with the rules it used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from callsight_worker.analysis._text import count_spoken_units, is_japanese
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.turns import is_backchannel
from callsight_worker.transcript import CUSTOMER, MIXED, OPERATOR, Transcript, Turn

Interval = tuple[float, float]


@dataclass(frozen=True)
class MetricsConfig:
    """Thresholds behind the definitions (seconds)."""

    # A pause between speech of at least this long is a "silence" (dead air).
    # 3 s is MiiTel's 沈黙 threshold, so counts are comparable.
    silence_min_s: float = 3.0
    # The interrupted speaker must keep talking at least this long after the other
    # starts; otherwise the other merely started as the first one was finishing.
    interruption_min_remaining_s: float = 0.5
    # Backchannels ("yes", "はい", "うん" inside the other's utterance) are defined once, by
    # the timeline (`TimelineConfig`): they neither interrupt nor end a monologue.
    # Overlap episodes shorter than this are not counted (their time still is).
    # 1 s is MiiTel's 被り threshold; brief backchannel overlaps are not "kaburi".
    overlap_min_s: float = 1.0
    # Consecutive turns of one speaker separated by at most this pause, with no
    # non-backchannel turn of the other speaker in between, form one monologue.
    monologue_max_pause_s: float = 2.0


@dataclass(frozen=True)
class Gap:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, float]:
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "duration_s": round(self.duration, 3),
        }


@dataclass(frozen=True)
class Interruption:
    by: str  # the speaker who started talking
    interrupted: str  # the speaker who was mid-turn
    at: float  # when the interrupter started
    overlap_s: float  # how long both talked at once
    turn_index: int  # index of the interrupting turn in transcript.turns
    interrupted_turn_index: int

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = round(self.at, 3)
        d["overlap_s"] = round(self.overlap_s, 3)
        return d


@dataclass
class SpeakerMetrics:
    speaker: str
    turns: int = 0
    talk_time_s: float = 0.0
    talk_share: float = 0.0  # of all talk time (sum over speakers)
    units: int = 0  # words (en) or characters without punctuation (ja)
    rate: float = 0.0  # units per minute of this speaker's talk time
    rate_unit: str = "wpm"  # "wpm" or "cpm"
    longest_monologue_s: float = 0.0
    longest_monologue_start: float | None = None
    interruptions_made: int = 0
    times_interrupted: int = 0
    backchannels: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass
class CallMetrics:
    duration_s: float
    speaker_mode: str
    speakers: dict[str, SpeakerMetrics] = field(default_factory=dict)
    talk_time_s: float = 0.0  # time at least one speaker talks
    non_talk_time_s: float = 0.0  # time nobody talks, start and end included
    non_talk_start_s: float = 0.0  # before the first word
    non_talk_end_s: float = 0.0  # after the last word
    silences: list[Gap] = field(default_factory=list)  # inner gaps >= silence_min_s
    longest_gap: Gap | None = None  # longest inner gap of any length
    overlap_time_s: float = 0.0
    overlap_count: int = 0
    interruptions: list[Interruption] = field(default_factory=list)
    speaker_switches: int = 0  # floor changes between speakers (MiiTel's ラリー回数)
    talk_listen_ratio: float | None = None  # operator talk / customer talk

    @property
    def silence_count(self) -> int:
        return len(self.silences)

    @property
    def silence_time_s(self) -> float:
        return sum(g.duration for g in self.silences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3),
            "speaker_mode": self.speaker_mode,
            "speakers": {k: v.to_dict() for k, v in self.speakers.items()},
            "talk_time_s": round(self.talk_time_s, 3),
            "non_talk_time_s": round(self.non_talk_time_s, 3),
            "non_talk_start_s": round(self.non_talk_start_s, 3),
            "non_talk_end_s": round(self.non_talk_end_s, 3),
            "silence_count": self.silence_count,
            "silence_time_s": round(self.silence_time_s, 3),
            "silences": [g.to_dict() for g in self.silences],
            "longest_gap": self.longest_gap.to_dict() if self.longest_gap else None,
            "overlap_time_s": round(self.overlap_time_s, 3),
            "overlap_count": self.overlap_count,
            "interruption_count": len(self.interruptions),
            "interruptions": [i.to_dict() for i in self.interruptions],
            "speaker_switches": self.speaker_switches,
            "talk_listen_ratio": (
                round(self.talk_listen_ratio, 3) if self.talk_listen_ratio is not None else None
            ),
        }


# ---------------------------------------------------------------------------
# Interval arithmetic


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Union of intervals as sorted, disjoint intervals."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def total(intervals: list[Interval]) -> float:
    return sum(e - s for s, e in intervals)


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Intersection of two unions (each sorted and disjoint)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if e > s:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# ---------------------------------------------------------------------------
# Metrics


def backchannel_indexes(turns: list[Turn], language: str) -> set[int]:
    """Turns that are backchannels, by the timeline's definition (recomputed, so transcripts
    stored before turns carried their kind are judged by the same rule)."""
    cfg = TimelineConfig()
    return {i for i, t in enumerate(turns) if is_backchannel(t, turns, language, cfg)}


def find_interruptions(turns: list[Turn], cfg: MetricsConfig, backchannels: set[int] | None = None) -> list[Interruption]:
    """Interruptions in time order.

    Speaker B interrupts speaker A when an utterance of B that is not a backchannel starts
    strictly after an utterance of A started and while it is still running, and A keeps
    talking for at least `interruption_min_remaining_s` after B started.
    """
    backchannels = backchannels or set()
    found: list[Interruption] = []
    indexed = sorted(enumerate(turns), key=lambda it: (it[1].start, it[1].end))
    for bi, b in indexed:
        if b.speaker == MIXED or bi in backchannels:
            continue
        running = [(ai, a) for ai, a in indexed
                   if a.speaker not in (b.speaker, MIXED) and a.start < b.start < a.end and ai not in backchannels]
        if not running:
            continue
        ai, a = max(running, key=lambda it: it[1].end)
        if a.end - b.start >= cfg.interruption_min_remaining_s:
            found.append(Interruption(by=b.speaker, interrupted=a.speaker, at=b.start,
                                      overlap_s=min(a.end, b.end) - b.start, turn_index=bi, interrupted_turn_index=ai))
    return found


def longest_monologue(
    turns: list[Turn], speaker: str, cfg: MetricsConfig, backchannels: set[int] | None = None
) -> tuple[float, float | None]:
    """(duration, start) of the speaker's longest stretch of talk without yielding the floor.

    Consecutive turns of the speaker join when the pause between them is at most
    `monologue_max_pause_s` and the other speaker said nothing but backchannels
    from the run's start until the next turn.
    """
    backchannels = backchannels or set()
    mine = sorted((t for t in turns if t.speaker == speaker), key=lambda t: t.start)
    others = [t for i, t in enumerate(turns) if t.speaker != speaker and i not in backchannels]
    best, best_start = 0.0, None
    run_start = run_end = None
    for t in mine:
        if run_start is not None and run_end is not None:
            pause = t.start - run_end
            blocked = any(run_start < o.start <= t.start for o in others)
            if pause <= cfg.monologue_max_pause_s and not blocked:
                run_end = max(run_end, t.end)
            else:
                run_start, run_end = t.start, t.end
        else:
            run_start, run_end = t.start, t.end
        if run_end - run_start > best:
            best, best_start = run_end - run_start, run_start
    return best, best_start


def compute_metrics(transcript: Transcript, config: MetricsConfig | None = None) -> CallMetrics:
    """All conversation metrics of a call (see docs/analytics.md for definitions)."""
    cfg = config or MetricsConfig()
    turns = list(transcript.turns)
    last_end = max((t.end for t in turns), default=0.0)
    duration = max(transcript.duration_s, last_end)
    ja = is_japanese(transcript.language)

    speakers = sorted({t.speaker for t in turns})
    if transcript.speakers_separated:
        speakers = sorted(set(speakers) | {OPERATOR, CUSTOMER})
    per: dict[str, list[Interval]] = {
        s: merge_intervals([(t.start, t.end) for t in turns if t.speaker == s]) for s in speakers
    }
    everyone = merge_intervals([iv for ivs in per.values() for iv in ivs])
    talk_sum = sum(total(ivs) for ivs in per.values())

    m = CallMetrics(duration_s=duration, speaker_mode=transcript.speaker_mode)
    m.talk_time_s = total(everyone)
    m.non_talk_time_s = max(0.0, duration - m.talk_time_s)
    if everyone:
        m.non_talk_start_s = everyone[0][0]
        m.non_talk_end_s = max(0.0, duration - everyone[-1][1])
    else:
        m.non_talk_start_s = duration
    gaps = [Gap(a[1], b[0]) for a, b in zip(everyone, everyone[1:], strict=False)]
    m.silences = [g for g in gaps if g.duration >= cfg.silence_min_s]
    m.longest_gap = max(gaps, key=lambda g: (g.duration, -g.start), default=None)

    if OPERATOR in per and CUSTOMER in per:
        overlaps = intersect(per[OPERATOR], per[CUSTOMER])
        m.overlap_time_s = total(overlaps)
        m.overlap_count = sum(1 for s, e in overlaps if e - s >= cfg.overlap_min_s)
        customer_talk = total(per[CUSTOMER])
        if customer_talk > 0:
            m.talk_listen_ratio = total(per[OPERATOR]) / customer_talk

    backchannel_idx = backchannel_indexes(turns, transcript.language)
    m.interruptions = find_interruptions(turns, cfg, backchannel_idx)
    floor = [
        t.speaker
        for i, t in sorted(enumerate(turns), key=lambda it: (it[1].start, it[1].end))
        if i not in backchannel_idx and t.speaker != MIXED
    ]
    m.speaker_switches = sum(1 for a, b in zip(floor, floor[1:], strict=False) if a != b)

    for s in speakers:
        sm = SpeakerMetrics(speaker=s, rate_unit="cpm" if ja else "wpm")
        mine = [t for t in turns if t.speaker == s]
        sm.turns = len(mine)
        sm.talk_time_s = total(per[s])
        sm.talk_share = sm.talk_time_s / talk_sum if talk_sum > 0 else 0.0
        sm.units = sum(count_spoken_units(t.text, transcript.language) for t in mine)
        sm.rate = sm.units / (sm.talk_time_s / 60.0) if sm.talk_time_s > 0 else 0.0
        sm.longest_monologue_s, sm.longest_monologue_start = longest_monologue(turns, s, cfg, backchannel_idx)
        sm.interruptions_made = sum(1 for i in m.interruptions if i.by == s)
        sm.times_interrupted = sum(1 for i in m.interruptions if i.interrupted == s)
        sm.backchannels = sum(1 for i in backchannel_idx if turns[i].speaker == s)
        m.speakers[s] = sm
    return m
