"""AmiVoice result JSON -> timed words, grouped as AmiVoice grouped them.

Two documented shapes (and the official samples read them the same way):
* synchronous: `results[0]` holds every token of the whole audio; there is no
  per-utterance timing ("受け取る JSON の中では、各発話区間の認識結果の区別はありません"),
  so the channel is one segment and utterances are built from the word times;
* asynchronous (default format): `segments[]`, one per utterance, each with
  `results[0].tokens`; one segment each.
Token times are milliseconds from the start of the audio. Punctuation tokens (often
without times, `spoken` "_") join the word before them; `%えー%` filler marks lose
their `%`; `_` in a written form is a space.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ..base import Segment, Word


def parse(body: Mapping[str, Any], language: str) -> list[Segment]:
    segments = body.get("segments")
    if isinstance(segments, list):
        results = [_first_result(s) for s in segments if isinstance(s, Mapping)]
    else:
        results = [_first_result(body)]
    joiner = "" if language.lower().startswith("ja") else " "
    out = [seg for r in results if r is not None and (seg := _segment(r, joiner)) is not None]
    out.sort(key=lambda s: s.start)
    return out


def _first_result(container: Mapping[str, Any]) -> Mapping[str, Any] | None:
    results = container.get("results")
    if isinstance(results, list) and results and isinstance(results[0], Mapping):
        return results[0]
    return None


def _segment(result: Mapping[str, Any], joiner: str) -> Segment | None:
    tokens = [t for t in result.get("tokens") or [] if isinstance(t, Mapping)]
    start_hint = _seconds(result.get("starttime"))
    words = _words(tokens, start_hint or 0.0, _confidence(result.get("confidence"), 0.0))
    if not words:
        return None
    text = joiner.join(w.text for w in words).strip()
    end_hint = _seconds(result.get("endtime"))
    start = min(words[0].start, start_hint if start_hint is not None else words[0].start)
    end = max(words[-1].end, end_hint if end_hint is not None else words[-1].end)
    return Segment(start=start, end=end, text=text, words=tuple(words))


def _words(tokens: Sequence[Mapping[str, Any]], cursor: float, fallback_confidence: float) -> list[Word]:
    words: list[Word] = []
    opening = ""
    for token in tokens:
        text = _written(token)
        if not text:
            continue
        if _is_punctuation(text):
            if all(unicodedata.category(ch) in ("Ps", "Pi") for ch in text):
                opening += text
            elif words:
                last = words[-1]
                words[-1] = Word(last.text + text, last.start, last.end, last.confidence)
            continue
        start = _seconds(token.get("starttime"))
        end = _seconds(token.get("endtime"))
        start = cursor if start is None else start
        end = start if end is None else max(end, start)
        cursor = end
        words.append(Word(opening + text, start, end, _confidence(token.get("confidence"), fallback_confidence)))
        opening = ""
    return words


def _written(token: Mapping[str, Any]) -> str:
    text = str(token.get("written") or "").strip()
    if len(text) > 2 and text.startswith("%") and text.endswith("%"):
        text = text[1:-1]
    return text.replace("_", " ").strip()


def _is_punctuation(text: str) -> bool:
    return all(unicodedata.category(ch)[0] == "P" for ch in text)


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return max(0.0, float(value) / 1000.0)


def _confidence(value: Any, fallback: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return fallback
    return min(1.0, max(0.0, float(value)))
