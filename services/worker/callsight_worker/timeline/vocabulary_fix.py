"""Japanese custom vocabulary by sound: a misheard product name is written as the organisation writes it.

Whisper base mishears Japanese product names as ordinary words that sound alike
(光回線 → ひかり改善, マイページ → 毎ページ), and a hotword prompt makes its Japanese
worse, not better (measured in bench/vocabulary.py). So for Japanese the terms are
matched by *reading*: each utterance is read with MeCab (IPAdic), and a run of its
morphemes whose reading is within `max_distance` edits of a term's reading (given with
the term, or read from its written form) is replaced by the term. Its words become one
word spanning their times.

Only terms of at least `min_reading` kana are matched, and a run must read about as long
as the term, so an ordinary word is not "corrected" into a product name by chance.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from callsight_worker.engines.base import VocabularyTerm, Word
from callsight_worker.transcript import Turn

MIN_READING = 4  # kana


def hiragana(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def _is_kana(text: str) -> bool:
    return bool(text) and all("ぁ" <= ch <= "ゖ" or ch == "ー" for ch in text)


@dataclass(frozen=True)
class Morpheme:
    surface: str
    reading: str  # hiragana; "" when MeCab knows no reading (punctuation, unknown kanji)


@lru_cache(maxsize=4096)
def read(text: str) -> tuple[Morpheme, ...]:
    """Morphemes of a Japanese text with their readings in hiragana."""
    from callsight_worker.analysis._text import _tagger

    out: list[Morpheme] = []
    node = _tagger().parseToNode(text)
    while node:
        if node.surface:
            feat = node.feature.split(",")
            reading = hiragana(feat[7]) if len(feat) > 7 and feat[7] != "*" else hiragana(node.surface)
            if feat[0] == "記号" or not _is_kana(reading):
                reading = "" if feat[0] == "記号" else reading
            out.append(Morpheme(node.surface, reading if _is_kana(reading) else ""))
        node = node.next
    return tuple(out)


def term_reading(term: VocabularyTerm) -> str:
    if term.reading:
        return hiragana(term.reading).replace(" ", "")
    reading = "".join(m.reading for m in read(term.text))
    return reading if _is_kana(reading) else ""


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def max_distance(reading: str) -> int:
    return max(1, len(reading) // 6)


def _best_run(morphemes: tuple[Morpheme, ...], reading: str) -> tuple[int, int] | None:
    """The run of morphemes [a, b) that reads closest to `reading`, if close enough."""
    best: tuple[int, int, int] | None = None
    limit = max_distance(reading)
    for a in range(len(morphemes)):
        if not morphemes[a].reading:
            continue
        said = ""
        for b in range(a, len(morphemes)):
            if not morphemes[b].reading:
                break
            said += morphemes[b].reading
            if len(said) > len(reading) + limit:
                break
            if abs(len(said) - len(reading)) > limit:
                continue
            d = _distance(said, reading)
            if d <= limit and (best is None or d < best[0]):
                best = (d, a, b + 1)
    return (best[1], best[2]) if best else None


def _replace_words(words: tuple[Word, ...], start: int, end: int, term: str) -> tuple[Word, ...]:
    """Words covering characters [start, end) of their joined text become one word, the term.

    A word only partly inside keeps its outside part as a word of its own (same times).
    """
    out: list[Word] = []
    merged: list[Word] = []
    tail: list[Word] = []
    pos = 0
    for w in words:
        a, b = pos, pos + len(w.text)
        pos = b
        if b <= start:
            out.append(w)
        elif a >= end:
            tail.append(w)
        else:
            if a < start:
                out.append(replace(w, text=w.text[: start - a]))
            merged.append(w)
            if b > end:
                tail.append(replace(w, text=w.text[end - a:]))
    if merged:
        out.append(Word(term, merged[0].start, merged[-1].end, min(x.confidence for x in merged)))
    return tuple(out + tail)


def apply_japanese_vocabulary(turn: Turn, terms: tuple[VocabularyTerm, ...]) -> Turn:
    """The turn with every term that was misheard by sound written as the term."""
    for term in terms:
        reading = term_reading(term)
        if len(reading) < MIN_READING or term.text in turn.text:
            continue
        text = "".join(w.text for w in turn.words) if turn.words else turn.text
        morphemes = read(text)
        run = _best_run(morphemes, reading)
        if run is None:
            continue
        start = sum(len(m.surface) for m in morphemes[:run[0]])
        end = start + sum(len(m.surface) for m in morphemes[run[0]:run[1]])
        if text[start:end] == term.text:
            continue
        words = _replace_words(turn.words, start, end, term.text) if turn.words else ()
        new_text = text[:start] + term.text + text[end:]
        turn = replace(turn, text=new_text, words=words)
    return turn
