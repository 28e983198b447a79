"""An organisation's custom vocabulary: product names and terms the engines should prefer.

One list per organisation, shared by the gateway (which validates what an admin saves)
and the worker (which passes the terms of a call's language to the engine: Whisper as
hotwords, AmiVoice as profile words). A term is

    {"text": "光回線プラス", "reading": "ひかりかいせんぷらす", "language": "ja-JP"}

`text` is how it is written in transcripts; `reading` how it is said (AmiVoice needs it
for Japanese; optional otherwise); `language` limits it to calls in that language (null:
every call).
"""

from __future__ import annotations

import unicodedata
from typing import Any

MAX_TERMS = 500
MAX_TEXT = 100
LANGUAGES = ("ja-JP", "en-US")
LINE_HELP = "one term per line: written form, then optionally | reading | ja-JP or en-US"


class VocabularyError(ValueError):
    """A term breaks a rule; the message says which term and which rule."""


def _clean(value: Any, what: str, index: int, required: bool) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise VocabularyError(f"term {index + 1}: {what} is required")
        return ""
    if not isinstance(value, str):
        raise VocabularyError(f"term {index + 1}: {what} must be text")
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > MAX_TEXT:
        raise VocabularyError(f"term {index + 1}: {what} is longer than {MAX_TEXT} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text):
        raise VocabularyError(f"term {index + 1}: {what} must not contain control or invisible characters")
    return text


def parse_terms(body: Any) -> list[dict[str, Any]]:
    """Validate a list of terms (the API's JSON); duplicates (same text and language) are kept once."""
    if not isinstance(body, list):
        raise VocabularyError('send a list of terms such as [{"text": "Callsight", "language": "en-US"}]')
    if len(body) > MAX_TERMS:
        raise VocabularyError(f"at most {MAX_TERMS} terms per organisation ({len(body)} sent)")
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    for i, raw in enumerate(body):
        if isinstance(raw, str):
            raw = {"text": raw}
        if not isinstance(raw, dict):
            raise VocabularyError(f"term {i + 1}: must be an object with 'text' (and optional 'reading', 'language')")
        unknown = set(raw) - {"text", "reading", "language"}
        if unknown:
            raise VocabularyError(f"term {i + 1}: unknown field(s) {', '.join(sorted(unknown))}")
        text = _clean(raw.get("text"), "text", i, required=True)
        reading = _clean(raw.get("reading"), "reading", i, required=False)
        language = raw.get("language") or None
        if language is not None and language not in LANGUAGES:
            raise VocabularyError(f"term {i + 1}: language must be ja-JP, en-US or null (got {str(language)[:20]!r})")
        if (text, language) in seen:
            continue
        seen.add((text, language))
        out.append({"text": text, "reading": reading or None, "language": language})
    return out


def parse_lines(text: str) -> list[dict[str, Any]]:
    """The Settings page's text box: `written | reading | language` per line, blank lines ignored."""
    terms: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3:
            raise VocabularyError(f"{line.strip()[:40]!r}: {LINE_HELP}")
        terms.append({"text": parts[0], "reading": parts[1] if len(parts) > 1 else None,
                      "language": parts[2] if len(parts) > 2 and parts[2] else None})
    return parse_terms(terms)


def to_lines(terms: list[dict[str, Any]]) -> str:
    """The inverse of `parse_lines`, for showing the stored list in the text box."""
    lines = []
    for t in terms:
        parts = [t["text"], t.get("reading") or "", t.get("language") or ""]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts).replace("|  |", "| |"))
    return "\n".join(lines)
