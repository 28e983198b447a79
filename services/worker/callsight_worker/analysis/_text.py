"""Text helpers shared by the analysis modules: language checks, sentence splitting,
the Japanese tokenizer, normalisation with an index map back to the original text,
and mapping a character offset in a turn to a time.

Everything here is a pure function of its input, except that the MeCab tagger is
built once per process (it reads its dictionary from the `ipadic` PyPI package,
so nothing is fetched at run time).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from callsight_worker.transcript import Turn


def is_japanese(language: str) -> bool:
    return language.lower().startswith("ja")


def joiner(language: str) -> str:
    """Japanese text is written without spaces between words and segments."""
    return "" if is_japanese(language) else " "


_JA_SENT_END = re.compile(r"(?<=[。！？!?])|\n+")
_EN_SENT_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_sentences(text: str, language: str) -> list[tuple[int, str]]:
    """Sentences with their character offset in `text` (Japanese: 。！？, English: .!?)."""
    pattern = _JA_SENT_END if is_japanese(language) else _EN_SENT_END
    out: list[tuple[int, str]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.end() == 0:
            continue
        chunk = text[pos : m.start()]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            out.append((pos + lead, chunk.strip()))
        pos = m.end()
    tail = text[pos:]
    if tail.strip():
        lead = len(tail) - len(tail.lstrip())
        out.append((pos + lead, tail.strip()))
    return out


def count_spoken_units(text: str, language: str) -> int:
    """Words (English) or characters without punctuation and spaces (Japanese).

    Japanese has no spaces, so speech rate there is conventionally counted in
    characters (mora would be better but needs readings for every kanji).
    """
    if is_japanese(language):
        return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")
    return len(re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text))


# ---------------------------------------------------------------------------
# Japanese tokenizer


@dataclass(frozen=True)
class Token:
    surface: str
    base: str  # dictionary form ("*" in IPAdic becomes the surface)
    pos: str  # 名詞, 動詞, ...
    pos1: str  # 一般, 固有名詞, サ変接続, 非自立, ...


@lru_cache(maxsize=1)
def mecab_args() -> str:
    """Tagger arguments pointing at the IPAdic that ships in the `ipadic` wheel."""
    import ipadic

    return str(ipadic.MECAB_ARGS)


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import MeCab

    tagger = MeCab.Tagger(mecab_args())
    tagger.parse("")
    return tagger


def tokenize_ja(text: str) -> list[Token]:
    tokens: list[Token] = []
    node = _tagger().parseToNode(text)
    while node:
        if node.surface:
            feat = node.feature.split(",")
            base = feat[6] if len(feat) > 6 and feat[6] != "*" else node.surface
            tokens.append(Token(node.surface, base, feat[0], feat[1] if len(feat) > 1 else ""))
        node = node.next
    return tokens


# ---------------------------------------------------------------------------
# Normalisation for fuzzy matching

# Honorific and kanji/kana spelling variants that mean the same thing on a call.
# Applied after katakana->hiragana, so keys and values are in hiragana where kana.
JA_VARIANTS: tuple[tuple[str, str], ...] = (
    ("ござります", "ございます"),
    ("御座います", "ございます"),
    ("御座いました", "ございました"),
    ("致します", "いたします"),
    ("致しました", "いたしました"),
    ("致しかねます", "いたしかねます"),
    ("致し", "いたし"),
    ("下さいませ", "くださいませ"),
    ("下さい", "ください"),
    ("有難う", "ありがとう"),
    ("有り難う", "ありがとう"),
    ("宜しく", "よろしく"),
    ("宜しい", "よろしい"),
    ("頂きます", "いただきます"),
    ("頂き", "いただき"),
    ("頂け", "いただけ"),
    ("戴き", "いただき"),
    ("畏まりました", "かしこまりました"),
    ("恐れ入ります", "おそれいります"),
    ("恐れ入り", "おそれいり"),
    ("申し訳御座いません", "申し訳ございません"),
    ("申しわけ", "申し訳"),
    ("もうしわけ", "申し訳"),
    ("申します", "もうします"),
    ("申し上げ", "もうしあげ"),
    ("承ります", "うけたまわります"),
    ("承りました", "うけたまわりました"),
    ("承り", "うけたまわり"),
    ("御電話", "お電話"),
    ("おでんわ", "お電話"),
    ("御待たせ", "お待たせ"),
    ("おまたせ", "お待たせ"),
    ("御本人", "ご本人"),
    ("ごほんにん", "ご本人"),
    ("御確認", "ご確認"),
    ("ごかくにん", "ご確認"),
    ("失礼致します", "失礼いたします"),
    ("しつれい", "失礼"),
    ("様", "さま"),
    ("出来", "でき"),
    ("分かり", "わかり"),
    ("願い", "ねがい"),
    ("伺い", "うかがい"),
    ("頂戴", "ちょうだい"),
    ("只今", "ただいま"),
    ("先程", "さきほど"),
    ("此方", "こちら"),
    ("其方", "そちら"),
    ("何卒", "なにとぞ"),
    ("誠に", "まことに"),
    ("易い", "やすい"),
    ("判り", "わかり"),
    ("解り", "わかり"),
)

_KATA_START, _KATA_END = 0x30A1, 0x30F6


def _kata_to_hira(ch: str) -> str:
    code = ord(ch)
    if _KATA_START <= code <= _KATA_END:
        return chr(code - 0x60)
    return ch


def normalise_with_map(text: str, language: str) -> tuple[str, list[int]]:
    """Normalised text plus, for each of its characters, the index in `text` it came from.

    NFKC, lowercase; Japanese: katakana to hiragana, punctuation and spaces dropped and
    honorific/kanji-kana variants folded; English: punctuation dropped, spaces collapsed.
    The map lets evidence quote the caller's original words.
    """
    normalised, index = _normalised(text, language)
    return normalised, list(index)


@lru_cache(maxsize=4096)
def _normalised(text: str, language: str) -> tuple[str, tuple[int, ...]]:
    """`normalise_with_map`, remembered: every phrase of a QA form is matched against every
    turn, and the operator decision of a mono call does it again for each voice."""
    text_n, index = _normalise_with_map(text, language)
    return text_n, tuple(index)


def _normalise_with_map(text: str, language: str) -> tuple[str, list[int]]:
    chars: list[str] = []
    index: list[int] = []
    ja = is_japanese(language)
    for i, raw in enumerate(text):
        for ch in unicodedata.normalize("NFKC", raw).lower():
            cat = unicodedata.category(ch)
            if ja:
                if cat[0] in "PZSC":
                    continue
                chars.append(_kata_to_hira(ch))
                index.append(i)
            else:
                if cat[0] in "PSC" and ch != "'":
                    ch = " "
                if ch == "'":
                    continue
                if ch.isspace():
                    if not chars or chars[-1] == " ":
                        continue
                    ch = " "
                chars.append(ch)
                index.append(i)
    if not ja:
        while chars and chars[-1] == " ":
            chars.pop()
            index.pop()
        return "".join(chars), index
    return _apply_variants("".join(chars), index)


def _apply_variants(text: str, index: list[int]) -> tuple[str, list[int]]:
    for src, dst in JA_VARIANTS:
        src_n = "".join(_kata_to_hira(c) for c in src)
        dst_n = "".join(_kata_to_hira(c) for c in dst)
        if src_n not in text:
            continue
        out: list[str] = []
        out_idx: list[int] = []
        pos = 0
        while True:
            hit = text.find(src_n, pos)
            if hit < 0:
                break
            out.append(text[pos:hit])
            out_idx.extend(index[pos:hit])
            out.append(dst_n)
            # every new character points at the original span it replaces
            span = index[hit : hit + len(src_n)]
            out_idx.extend(span[min(k, len(span) - 1)] for k in range(len(dst_n)))
            pos = hit + len(src_n)
        out.append(text[pos:])
        out_idx.extend(index[pos:])
        text, index = "".join(out), out_idx
    return text, index


def normalise(text: str, language: str) -> str:
    return normalise_with_map(text, language)[0]


# ---------------------------------------------------------------------------
# Offsets to times


def word_spans(turn: Turn) -> list[tuple[int, int]]:
    """Character span of each of the turn's words in `turn.text` (best effort).

    Words are found left to right; a word that cannot be found gets a span
    interpolated from its time inside the turn, so redaction still reaches it.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    text = turn.text
    dur = max(turn.end - turn.start, 1e-9)
    for w in turn.words:
        needle = w.text.strip()
        hit = text.find(needle, cursor) if needle else -1
        if hit < 0 or (hit - cursor) > max(8, len(needle) * 3):
            a = int(round((w.start - turn.start) / dur * len(text)))
            b = int(round((w.end - turn.start) / dur * len(text)))
            a = max(0, min(len(text), a))
            spans.append((a, max(a, min(len(text), b))))
            continue
        spans.append((hit, hit + len(needle)))
        cursor = hit + len(needle)
    return spans


def time_at_offset(turn: Turn, offset: int) -> float:
    """The time at which the character at `offset` of `turn.text` was spoken."""
    if turn.words:
        spans = word_spans(turn)
        for (a, b), w in zip(spans, turn.words, strict=True):
            if offset < b or offset < a:
                return w.start
        return turn.words[-1].start
    if not turn.text:
        return turn.start
    frac = max(0.0, min(1.0, offset / len(turn.text)))
    return turn.start + frac * (turn.end - turn.start)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
