"""Call scripts: who says which clip when, with the turn-taking of real calls.

A script is built from pools of real speech clips by a seeded generator, so a set is the
same on every run and on every machine. Each call has short replies, backchannels inside
the other's turn, interruptions with 1-2 s of overlap, a long silence (3-10 s), pauses
within one speaker's turn, and ends with the operator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bench.calls.sources import Clip, speech_regions
from callsight_worker.timeline.turns import is_continuer

OPERATOR = "operator"
CUSTOMER = "customer"


@dataclass(frozen=True)
class Placement:
    speaker: str
    clip: Clip
    start: float
    kind: str  # "line" | "reply" | "backchannel" | "interruption"
    interrupts: int | None = None  # index of the placement it cuts into

    @property
    def end(self) -> float:
        return self.start + self.clip.duration


@dataclass
class Script:
    name: str
    language: str
    placements: list[Placement] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(p.end for p in self.placements) + 1.0


@dataclass
class Pools:
    language: str
    operator_lines: list[Clip]
    customer_lines: list[Clip]
    customer_backchannels: list[Clip]
    operator_backchannels: list[Clip]
    customer_replies: list[Clip] = field(default_factory=list)  # short answers, said as a turn of their own
    operator_hold: Clip | None = None  # "one moment, please": before the long silence


def generate(name: str, pools: Pools, seed: int, lines: int = 16) -> Script:
    """One call: `lines` main lines alternating speakers, with the events above mixed in."""
    rng = random.Random(seed)
    script = Script(name, pools.language)
    op_lines = pools.operator_lines[:]
    cu_lines = pools.customer_lines[:]
    rng.shuffle(op_lines)
    rng.shuffle(cu_lines)
    # a reply is an answer; a clip of continuer words only ("alright", "はい") would be a
    # backchannel by the product's definition, so it cannot be labelled a reply
    replies = [c for c in pools.customer_replies if not is_continuer(c.text, pools.language)]
    rng.shuffle(replies)
    # where the events go (indexes of main lines), spread over the call
    interrupt_at = set(rng.sample(range(3, lines - 3), 2))
    silence_at = rng.choice([i for i in range(4, lines - 3) if i not in interrupt_at and i - 1 not in interrupt_at])
    reply_at = {i for i in range(2, lines - 1) if i % 5 == 2 and i not in interrupt_at} if replies else set()
    backchannels_left = 3
    said = {OPERATOR: 0, CUSTOMER: 0, "reply": 0}
    t = 0.5
    speaker = OPERATOR
    last: Placement | None = None
    interrupts_due = 0
    for i in range(lines):
        if i == silence_at and pools.operator_hold is not None:
            # the operator puts the customer on hold: "one moment, please", then dead air
            hold = Placement(OPERATOR, pools.operator_hold, t, "line")
            script.placements.append(hold)
            t = hold.end + rng.uniform(3.5, 9.5)
            speaker, last = OPERATOR, hold
        interrupts_due += i in interrupt_at
        # cut into the other's line (at least 3 s long), never right after an interruption:
        # the interrupter must have been silent for a while, or it is one continuing turn
        interrupting = bool(interrupts_due and last is not None and last.clip.duration >= 3.0
                            and last.kind != "interruption")
        if interrupting and last is not None:
            speaker = OTHER[last.speaker]
        reply = speaker == CUSTOMER and i in reply_at and not interrupting
        if speaker == OPERATOR:
            clip = op_lines[said[OPERATOR] % len(op_lines)]
        elif reply:
            clip = replies[said["reply"] % len(replies)]
        else:
            clip = cu_lines[said[CUSTOMER] % len(cu_lines)]
        said["reply" if reply else speaker] += 1
        if interrupting and last is not None:
            current = Placement(speaker, clip, last.end - rng.uniform(1.0, 2.0), "interruption",
                                script.placements.index(last))
            interrupts_due -= 1
        else:
            current = Placement(speaker, clip, t, "reply" if reply else "line")
        script.placements.append(current)
        # a backchannel of the listener inside a long line, unless the listener cuts into that
        # line next: the interruption would start while its own backchannel still sounds
        listener_pool = pools.customer_backchannels if speaker == OPERATOR else pools.operator_backchannels
        interrupted_next = bool(interrupts_due) or i + 1 in interrupt_at
        if (backchannels_left and listener_pool and clip.duration >= 4.0 and not interrupting and rng.random() < 0.8
                and not interrupted_next):
            bc = listener_pool[backchannels_left % len(listener_pool)]
            at = _inside_speech(clip, bc.duration, rng)
            if at is not None:
                script.placements.append(Placement(OTHER[speaker], bc, current.start + at, "backchannel"))
                backchannels_left -= 1
        t = max(t, current.end) + rng.uniform(0.25, 0.9)
        last = current
        # mostly alternate; sometimes the same speaker goes on after a pause
        if rng.random() < 0.85:
            speaker = OTHER[speaker]
        else:
            t += rng.uniform(0.7, 1.6)
    script.placements.sort(key=lambda p: p.start)
    return script


OTHER = {OPERATOR: CUSTOMER, CUSTOMER: OPERATOR}


def _inside_speech(clip: Clip, length: float, rng: random.Random) -> float | None:
    """An offset where the clip's speaker is talking for `length` s plus margins, away from its ends."""
    margin = 0.3
    spans = []
    for a, b in speech_regions(clip.samples, pause_s=0.25):
        lo, hi = max(a + margin, 0.8), min(b - margin - length, clip.duration - 0.8 - length)
        if lo <= hi:
            spans.append((lo, hi))
    if not spans:
        return None
    lo, hi = rng.choice(spans)
    return rng.uniform(lo, hi)
