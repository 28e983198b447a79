"""The organisation's vocabulary as AmiVoice profile words (docs: "単語登録の基本").

The documented request format is `profileWords=表記 よみ|表記 よみ`: the written form
and its reading (hiragana or katakana) separated by a half-width space, words by `|`.
A written form may not contain `|`, `:` or a half-width space; `_` in it comes out as a
space, so "Call sight" is registered as "Call_sight". English engines take no
registered words, so terms go only with Japanese calls to engines that take them. A
term that cannot be registered is left out with a log line, never fails the call: the
vocabulary is a hint, the call is the customer's.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..base import VocabularyTerm

log = logging.getLogger(__name__)

KANA_READING = re.compile(r"^[\u3041-\u3096\u309D\u309E\u30A1-\u30FA\u30FC\u30FD\u30FE]+$")
FORBIDDEN_IN_WRITTEN = ("|", ":")
MAX_WORDS = 1000  # a bound on the request, far above any organisation's list


@dataclass(frozen=True)
class ProfileWords:
    value: str  # the `profileWords` option; "" when nothing is sent
    sent: int
    skipped: tuple[str, ...]  # why each left-out term was left out


def written_form(text: str) -> str | None:
    written = unicodedata.normalize("NFC", text).strip()
    if not written or any(ch in written for ch in FORBIDDEN_IN_WRITTEN):
        return None
    return re.sub(r"[ \t\r\n]+", "_", written)


def reading_form(reading: str) -> str | None:
    # NFKC turns half-width katakana into full-width; spaces in a reading mean nothing
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", reading))
    return value if KANA_READING.match(value) else None


def profile_words(terms: Iterable[VocabularyTerm], *, language: str, engine_takes_words: bool) -> ProfileWords:
    terms = tuple(terms)
    if not terms:
        return ProfileWords("", 0, ())
    if not language.lower().startswith("ja") or not engine_takes_words:
        reason = "not a Japanese call" if engine_takes_words else "the engine takes no registered words"
        return ProfileWords("", 0, tuple(f"{t.text!r}: {reason}" for t in terms))
    words: list[str] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for term in terms:
        written = written_form(term.text)
        reading = reading_form(term.reading)
        if written is None:
            skipped.append(f"{term.text!r}: the written form is empty or contains | or :")
        elif reading is None:
            skipped.append(f"{term.text!r}: the reading {term.reading!r} is not hiragana or katakana")
        elif f"{written} {reading}" in seen:
            continue
        elif len(words) >= MAX_WORDS:
            skipped.append(f"{term.text!r}: more than {MAX_WORDS} words")
        else:
            seen.add(f"{written} {reading}")
            words.append(f"{written} {reading}")
    if skipped:
        log.warning("amivoice: %d vocabulary term(s) not registered: %s", len(skipped), "; ".join(skipped[:10]))
    return ProfileWords("|".join(words), len(words), tuple(skipped))
