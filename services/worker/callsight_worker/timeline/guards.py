"""Guards between an engine's words and the transcript: keep only what the side really said.

Each guard drops words and counts them by reason, so nothing is dropped silently:

* `echo`: the words fall on frames where the channel carries only the other side's
  voice (see `callsight_worker.speech.crosstalk`).
* `non_speech`: the words fall where the channel carries no speech at all (Whisper's
  classic hallucination on silence, noise, hold music).
* `repetition_loop`: the decoder got stuck: a unit of up to `loop_max_unit` words repeated
  `loop_min_repeats`+ times in a row (one word: one more repeat). The first occurrence stays.
* `prompt_leak`: the organisation's vocabulary recited: two or more of its terms in a row,
  in the order the engine was given them. Whisper sometimes "transcribes" its hotword
  prompt after a short utterance; nobody lists product names back to back like that.
* `stock_phrase`: phrases Whisper emits on non-speech, learnt from subtitles. Phrases
  no caller says ("thanks for watching", "ご視聴ありがとうございました") are always dropped;
  plausible ones ("thank you", "ありがとうございました") only when the segment that holds
  nothing else has weak speech evidence (own speech under `stock_min_own_fraction` of its
  frames, or mean word probability under `stock_min_probability`).

Pure functions: segments and the channel's speech activity in, kept words and counts out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from callsight_worker.engines.base import Segment, Word
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.timeline.config import TimelineConfig

# Whisper learnt these from subtitles and video outros; a contact-centre caller does not say them.
NEVER_SAID = {
    "en": [
        "thanks for watching", "thank you for watching", "thank you so much for watching",
        "thank you very much for watching", "see you in the next video", "ill see you in the next video",
        "see you in the next one", "please subscribe", "dont forget to subscribe", "like and subscribe",
        "please like and subscribe", "subscribe to my channel", "subscribe to the channel",
        "subtitles by the amaraorg community", "subtitles by", "captions by", "transcribed by", "transcription by",
        "amaraorg", "translated by",
    ],
    "ja": [
        "ご視聴ありがとうございました", "ご視聴いただきありがとうございます", "ご視聴ありがとうございます",
        "チャンネル登録", "チャンネル登録お願いします", "チャンネル登録よろしくお願いします", "高評価",
        "次の動画でお会いしましょう", "最後までご視聴いただきありがとうございました", "字幕", "字幕作成",
    ],
}
# Real phrases in a call, but also what Whisper says over silence: kept only with speech evidence.
PLAUSIBLE = {
    "en": ["thank you", "thank you very much", "thanks", "bye", "bye bye", "goodbye", "you", "okay", "so", "oh",
           "hmm", "the end", "thank you bye"],
    "ja": ["ありがとうございました", "ありがとうございます", "はい", "うん", "えー", "お疲れ様でした", "おやすみなさい",
           "どうもありがとうございました"],
}


def normalise(text: str) -> str:
    """Lowercase letters and digits only (NFKC), for matching phrases across punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S", "C")))


def _lang(language: str) -> str:
    return "ja" if language.lower().startswith("ja") else "en"


@dataclass
class GuardReport:
    """Words dropped from one side, by reason, with a few examples for the log."""

    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    kept: int = 0

    def drop(self, reason: str, words: list[Word]) -> None:
        if not words:
            return
        self.dropped[reason] += len(words)
        examples = self.examples.setdefault(reason, [])
        if len(examples) < 3:
            examples.append(" ".join(w.text for w in words)[:80])

    def to_dict(self) -> dict[str, Any]:
        return {"kept_words": self.kept, "dropped_words": dict(self.dropped), "examples": self.examples}


def loop_spans(tokens: list[str], cfg: TimelineConfig) -> list[tuple[int, int]]:
    """Index ranges [a, b) of repeated copies of a unit (the first copy is not included)."""
    spans: list[tuple[int, int]] = []
    i = 0
    n = len(tokens)
    while i < n:
        found = None
        for unit in range(1, cfg.loop_max_unit + 1):
            need = cfg.loop_min_repeats + (1 if unit == 1 else 0)
            if i + unit * need > n:
                break
            pattern = tokens[i:i + unit]
            if not any(pattern):
                continue
            reps = 1
            while tokens[i + reps * unit:i + (reps + 1) * unit] == pattern:
                reps += 1
            if reps >= need:
                found = (unit, reps)
                break
        if found is None:
            i += 1
            continue
        unit, reps = found
        spans.append((i + unit, i + reps * unit))
        i += reps * unit
    return spans


def _phrase_span(keys: list[str], phrase: str) -> tuple[int, int] | None:
    """The words whose joined text is exactly `phrase` (normalised), if any."""
    for a in range(len(keys)):
        joined = ""
        for b in range(a, len(keys)):
            joined += keys[b]
            if joined == phrase:
                return a, b + 1
            if not phrase.startswith(joined):
                break
    return None


def _stock_phrases(words: list[Word], speech: ChannelSpeech | None, language: str, cfg: TimelineConfig) -> set[int]:
    """Indexes (into `words`) of stock phrases to drop from this segment."""
    keys = [normalise(w.text) for w in words]
    drop: set[int] = set()
    for phrase in NEVER_SAID[_lang(language)]:
        span = _phrase_span(keys, normalise(phrase))
        while span is not None:
            drop.update(range(*span))
            rest = [k if i not in drop else "\0" for i, k in enumerate(keys)]
            span = _phrase_span(rest, normalise(phrase))
    whole = "".join(k for i, k in enumerate(keys) if i not in drop)
    if whole and whole in {normalise(p) for p in PLAUSIBLE[_lang(language)]}:
        kept = [w for i, w in enumerate(words) if i not in drop]
        own = speech.own_fraction(kept[0].start, kept[-1].end) if speech is not None else 1.0
        probability = sum(w.confidence for w in kept) / len(kept)
        # (Whisper's no-speech probability is no evidence here: it is high on any short chunk)
        if own < cfg.stock_min_own_fraction or probability < cfg.stock_min_probability:
            drop.update(i for i in range(len(words)) if i not in drop)
    return drop


def _prompt_leak(keys: list[str], vocabulary: tuple[str, ...]) -> set[int]:
    """Indexes of words that recite two or more vocabulary terms in a row, in the given order."""
    terms = [normalise(t) for t in vocabulary if normalise(t)]
    if len(terms) < 2:
        return set()
    drop: set[int] = set()
    i = 0
    while i < len(keys):
        run: list[tuple[int, int, int]] = []  # (term index, first word, end word)
        j = i
        while j < len(keys):
            match = None
            for k, term in enumerate(terms):
                if run and k <= run[-1][0]:
                    continue
                span = _phrase_span(keys[j:], term)
                if span is not None and span[0] == 0:
                    match = (k, j, j + span[1])
                    break
            if match is None:
                break
            run.append(match)
            j = match[2]
        if len(run) >= 2:
            drop.update(range(run[0][1], run[-1][2]))
            i = run[-1][2]
        else:
            i += 1
    return drop


def guard_words(segments: list[Segment], speech: ChannelSpeech | None, language: str,
                cfg: TimelineConfig, vocabulary: tuple[str, ...] = ()) -> tuple[list[Word], GuardReport]:
    """The words of one side that survive every guard, in time order, and what was dropped.

    `vocabulary`: the terms the engine was given, in that order (for `prompt_leak`).
    """
    report = GuardReport()
    kept: list[Word] = []
    for segment in segments:
        words = [w for w in segment.words if w.text.strip()]
        if not words:
            continue
        # 1. decoder loops, within the segment
        keys = [normalise(w.text) for w in words]
        looped: set[int] = set()
        for a, b in loop_spans(keys, cfg):
            looped.update(range(a, b))
        report.drop("repetition_loop", [w for i, w in enumerate(words) if i in looped])
        words = [w for i, w in enumerate(words) if i not in looped]
        # 2. the engine's prompt recited
        leaked = _prompt_leak([normalise(w.text) for w in words], vocabulary)
        report.drop("prompt_leak", [w for i, w in enumerate(words) if i in leaked])
        words = [w for i, w in enumerate(words) if i not in leaked]
        # 3. stock phrases
        stock = _stock_phrases(words, speech, language, cfg) if words else set()
        report.drop("stock_phrase", [w for i, w in enumerate(words) if i in stock])
        words = [w for i, w in enumerate(words) if i not in stock]
        # 4. words on frames that are not this side's own speech
        for w in words:
            if speech is None:
                kept.append(w)
                continue
            lo, hi = w.start - cfg.word_slack_s, max(w.end, w.start) + cfg.word_slack_s
            if speech.own_fraction(lo, hi) >= cfg.min_own_fraction:
                kept.append(w)
            elif speech.echo_fraction(lo, hi) >= 0.5:
                report.drop("echo", [w])
            else:
                report.drop("non_speech", [w])
    kept.sort(key=lambda w: (w.start, w.end))
    report.kept = len(kept)
    return kept, report


_SPACES = re.compile(r"\s+")


def join_words(words: list[Word], language: str) -> str:
    """The text of a run of words: Japanese without spaces, English with single spaces."""
    if _lang(language) == "ja":
        return "".join(w.text.strip() for w in words)
    return _SPACES.sub(" ", " ".join(w.text.strip() for w in words)).strip()
