"""All sides' utterances in one time-ordered list, backchannels marked.

A backchannel ("yes", "uh-huh", "はい", "なるほど") is a short utterance of one speaker that
does not take the floor from the other. It is short (at most `backchannel_max_s`, and at
most `backchannel_max_words` English words or `backchannel_max_chars` Japanese characters),
and either

* said inside an utterance of the other speaker (starts after it started, ends before it
  ends), whatever its words; or
* said in a pause of the other speaker's turn (the other spoke within
  `backchannel_max_pause_s` before and speaks again within it after, nothing else said in
  between), made only of continuer words ("uh-huh", "right", "はい", "なるほど"), and not
  the answer to a question (the other's utterance before it does not end with a question).

A backchannel is neither an interruption nor a speaker switch (see docs/analytics.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.transcript import BACKCHANNEL, MIXED, UTTERANCE, Turn

CONTINUERS = {
    "en": {"yeah", "yes", "yep", "yup", "uh-huh", "uhhuh", "uh", "huh", "mm-hmm", "mmhmm", "mhm", "mm", "hmm", "um",
           "right", "okay", "ok", "alright", "all", "i", "see", "sure", "got", "it", "oh", "ah", "wow", "great",
           "good", "really", "exactly", "true", "cool", "fine", "gotcha", "indeed", "perfect", "absolutely"},
    "ja": ["はいはい", "はい", "ええ", "うんうん", "うん", "そうですね", "そうですか", "そうなんですね", "そうなんですか",
           "そうそう", "そうか", "そう", "なるほど", "ああ", "あー", "あぁ", "へえ", "へー", "ほう", "確かに", "ですね", "ね"],
}
_JA_CONTINUERS = re.compile("(?:" + "|".join(sorted(CONTINUERS["ja"], key=len, reverse=True)) + ")+")
_JA_QUESTION = re.compile(r"(か|かね|でしょうか|ですか|ますか|の)[?？]?$|[?？]$")


def _ja(language: str) -> bool:
    return language.lower().startswith("ja")


def _chars(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text)
                   if not unicodedata.category(c).startswith(("P", "Z", "S")))


def _short(turn: Turn, language: str, cfg: TimelineConfig) -> bool:
    if turn.end - turn.start > cfg.backchannel_max_s:
        return False
    if _ja(language):
        return len(_chars(turn.text)) <= cfg.backchannel_max_chars
    return len(turn.text.split()) <= cfg.backchannel_max_words


def is_continuer(text: str, language: str) -> bool:
    """Only words that say "go on" ("uh-huh", "right", "はい", "なるほど")."""
    if _ja(language):
        chars = _chars(text)
        return bool(chars) and _JA_CONTINUERS.fullmatch(chars) is not None
    words = [w.strip(".,!?;:\"'").lower() for w in text.split()]
    words = [w for w in words if w]
    return bool(words) and all(w in CONTINUERS["en"] for w in words)


def is_question(text: str, language: str) -> bool:
    text = text.strip()
    if _ja(language):
        return _JA_QUESTION.search(text) is not None
    return text.endswith("?")


def is_backchannel(turn: Turn, turns: list[Turn], language: str, cfg: TimelineConfig) -> bool:
    if turn.speaker == MIXED or not _short(turn, language, cfg):
        return False
    others = [t for t in turns if t.speaker not in (turn.speaker, MIXED)]
    if any(o.start < turn.start and turn.end < o.end for o in others):
        return True
    if not is_continuer(turn.text, language):
        return False
    before = [o for o in others if o.end <= turn.start + 1e-6 and turn.start - o.end <= cfg.backchannel_max_pause_s]
    after = [o for o in others if o.start >= turn.end - 1e-6 and o.start - turn.end <= cfg.backchannel_max_pause_s]
    if not before or not after:
        return False
    previous = max(before, key=lambda o: o.end)
    if is_question(previous.text, language):
        return False
    following = min(after, key=lambda o: o.start)
    # nothing else of this speaker between the other's two utterances
    return not any(t is not turn and t.speaker == turn.speaker and previous.end <= t.start < following.start
                   for t in turns)


def assemble(utterances: list[Turn], language: str, cfg: TimelineConfig) -> list[Turn]:
    """Every speaker's utterances, ordered by start, each with its kind."""
    ordered = sorted(utterances, key=lambda t: (t.start, t.end, t.speaker))
    return [replace(t, kind=BACKCHANNEL if is_backchannel(t, ordered, language, cfg) else UTTERANCE)
            for t in ordered]
