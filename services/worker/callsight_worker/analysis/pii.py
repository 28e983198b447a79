"""Redaction of card numbers, phone numbers, e-mail addresses and spoken digit strings.

Transcripts are stored and shown to supervisors; payment-card and contact details
must not be (PCI DSS, APPI/GDPR). Detection is rule-based so that it is auditable:

* card: 13-19 digits, optionally grouped by single spaces or dashes, that pass the
  Luhn check. A number failing Luhn is left alone: order and reference numbers are
  data the supervisor needs.
* phone: Japanese (0X-XXXX-XXXX, 090-..., 0120-..., +81 ...) and US/NANP
  ((555) 123-4567, 555-123-4567, +1 ...) shapes.
* email: the usual local@domain.tld shape.
* spoken digits: runs of digit *words* ("four five six ...", "double seven";
  いち に さん よん ご ... ゼロ, 〇, kanji numerals) and full-width digits, as ASR
  writes them when the caller reads out a number. A run of at least
  `min_spoken_digits` digits is masked as [CARD] / [PHONE] if it has that shape,
  otherwise [NUMBER]; a shorter run (a date, a quantity) stays.

Full-width digits are matched like ASCII digits everywhere (they are folded 1:1,
so spans stay valid).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from callsight_worker.analysis._text import is_japanese, time_at_offset, word_spans
from callsight_worker.engines.base import Word
from callsight_worker.transcript import Transcript, Turn

CARD, PHONE, EMAIL, NUMBER = "CARD", "PHONE", "EMAIL", "NUMBER"
MASKS = {CARD: "[CARD]", PHONE: "[PHONE]", EMAIL: "[EMAIL]", NUMBER: "[NUMBER]"}

_FULLWIDTH = str.maketrans("０１２３４５６７８９－（）＋　", "0123456789-()+ ")


@dataclass(frozen=True)
class PiiFinding:
    type: str  # CARD, PHONE, EMAIL or NUMBER
    turn_index: int  # -1 for free text
    start: int  # character span in the original turn text
    end: int
    time: float | None = None  # when it was said, when known

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.time is not None:
            d["time"] = round(self.time, 3)
        return d


def luhn_ok(digits: str) -> bool:
    """The Luhn mod-10 check every payment card number satisfies."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Not preceded/followed by a digit or by a digit plus one separator: a longer
# number is never cut into a shorter one that happens to have a phone's shape.
# ASCII classes, not \w: in Japanese the number is glued to kana (番号は03-...です).
_B = r"(?<![A-Za-z0-9_@+])(?<!\d[ \-.])"
_E = r"(?![A-Za-z0-9_@])(?![ \-.]\d)"

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_CARD_RE = re.compile(_B + r"\d(?:[ \-]?\d){12,18}" + _E)
_PHONE_RES = (
    # Japanese international form: +81 3-1234-5678, +81 90 1234 5678, +81(0)3...
    re.compile(
        r"(?<![A-Za-z0-9_+])\+81[ \-]?(?:\(0\)[ \-]?)?\d{1,4}[ \-]?\d{1,4}[ \-]?\d{3,4}" + _E
    ),
    # Japanese domestic: 03-1234-5678, 090-1234-5678, 0120-123-456, 0312345678
    re.compile(_B + r"0\d{1,4}[ \-]?\d{1,4}[ \-]?\d{3,4}" + _E),
    # NANP: +1 555 123 4567, (555) 123-4567, 555-123-4567, 555.123.4567
    re.compile(
        r"(?<![A-Za-z0-9_+])(?<!\d[ \-.])(?:\+?1[ \-.]?)?"
        r"(?:\(\d{3}\)|\d{3})[ \-.]?\d{3}[ \-.]?\d{4}" + _E
    ),
)


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _phone_shape(digits: str, raw: str) -> bool:
    raw = raw.strip()
    if raw.startswith("+81"):
        return 9 <= len(digits) - 2 <= 11
    if raw.startswith("+1") or (raw.startswith("1") and len(digits) == 11):
        return len(digits) == 11 and digits[1] not in "01"
    if digits.startswith("0"):
        return len(digits) in (10, 11)
    return len(digits) == 10 and digits[0] not in "01"


# ---------------------------------------------------------------------------
# Spoken digits

_EN_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_EN_MULT = {"double": 2, "triple": 3}
_EN_TOKEN = (
    r"\b(?:(?:double|triple)[ \-]+)?"
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|o|\d)\b"
)
_EN_RUN_RE = re.compile(_EN_TOKEN + r"(?:(?:[ ,.\-]+|\s+and\s+)" + _EN_TOKEN + r")+", re.I)

# Longest readings first so that きゅう wins over く and よん over よ.
_JA_DIGIT_WORDS = {
    "ゼロ": "0", "ぜろ": "0", "れい": "0", "レイ": "0",
    "まる": "0", "マル": "0", "〇": "0", "零": "0",
    "いち": "1", "イチ": "1", "一": "1",
    "に": "2", "ニ": "2", "二": "2",
    "さん": "3", "サン": "3", "三": "3",
    "よん": "4", "ヨン": "4", "し": "4", "シ": "4", "四": "4",
    "ご": "5", "ゴ": "5", "五": "5",
    "ろく": "6", "ロク": "6", "六": "6",
    "なな": "7", "ナナ": "7", "しち": "7", "シチ": "7", "七": "7",
    "はち": "8", "ハチ": "8", "八": "8",
    "きゅう": "9", "キュウ": "9", "きゅー": "9", "キュー": "9", "く": "9", "ク": "9", "九": "9",
}  # fmt: skip
_JA_TOKEN = (
    "(?:"
    + "|".join(re.escape(k) for k in sorted(_JA_DIGIT_WORDS, key=len, reverse=True))
    + r"|[0-9０-９])"
)
# Between digits a reader says の, pauses (、 space) or lengthens a vowel (ー).
_JA_RUN_RE = re.compile(_JA_TOKEN + r"(?:[\s、,・ー\-の－]*" + _JA_TOKEN + r")+")


def _en_run_digits(run: str) -> str:
    out: list[str] = []
    mult = 1
    for tok in re.findall(r"[A-Za-z]+|\d", run):
        low = tok.lower()
        if low in _EN_MULT:
            mult = _EN_MULT[low]
            continue
        if low == "and":
            continue
        d = tok if tok.isdigit() else _EN_DIGIT_WORDS.get(low, "")
        out.append(d * mult)
        mult = 1
    return "".join(out)


def _ja_run_digits(run: str) -> str:
    pattern = re.compile(_JA_TOKEN)
    out = []
    for tok in pattern.findall(run):
        out.append(_JA_DIGIT_WORDS.get(tok, tok.translate(_FULLWIDTH)))
    return "".join(out)


def _trim_run(text: str, start: int, end: int, token: re.Pattern[str]) -> tuple[int, int]:
    """Shrink [start, end) to begin and end on a digit token (separators dropped)."""
    run = text[start:end]
    hits = list(token.finditer(run))
    return start + hits[0].start(), start + hits[-1].end()


# ---------------------------------------------------------------------------
# Detection


def find_pii(text: str, language: str = "en-US", min_spoken_digits: int = 7) -> list[PiiFinding]:
    """PII spans in `text`, non-overlapping, in order (turn_index -1)."""
    folded = text.translate(_FULLWIDTH)  # 1:1, so spans stay valid
    found: list[PiiFinding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int) -> None:
        if any(start < b and a < end for a, b in taken):
            return
        taken.append((start, end))
        found.append(PiiFinding(kind, -1, start, end))

    for m in _EMAIL_RE.finditer(folded):
        add(EMAIL, m.start(), m.end())
    for m in _CARD_RE.finditer(folded):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            add(CARD, m.start(), m.end())
    for pattern in _PHONE_RES:
        for m in pattern.finditer(folded):
            if _phone_shape(_digits(m.group()), m.group()):
                add(PHONE, m.start(), m.end())

    ja = is_japanese(language)
    run_re, token_re = (
        (_JA_RUN_RE, re.compile(_JA_TOKEN)) if ja else (_EN_RUN_RE, re.compile(_EN_TOKEN, re.I))
    )
    for m in run_re.finditer(text):
        start, end = _trim_run(text, m.start(), m.end(), token_re)
        raw = text[start:end]
        digits = _ja_run_digits(raw) if ja else _en_run_digits(raw)
        written = re.fullmatch(r"[0-9０-９ \-]+", raw) is not None
        if written:
            continue  # plain digits were judged above: a non-Luhn number stays
        if len(digits) < min_spoken_digits:
            continue
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            add(CARD, start, end)
        elif _phone_shape(digits, digits):
            add(PHONE, start, end)
        else:
            add(NUMBER, start, end)
    return sorted(found, key=lambda f: f.start)


def redact_text(text: str, findings: list[PiiFinding]) -> str:
    out = []
    pos = 0
    for f in sorted(findings, key=lambda f: f.start):
        out.append(text[pos : f.start])
        out.append(MASKS[f.type])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _redact_words(turn: Turn, findings: list[PiiFinding]) -> tuple[Word, ...]:
    """Words of the turn with each finding's words collapsed into one mask word."""
    if not turn.words:
        return ()
    spans = word_spans(turn)
    out: list[Word] = []
    consumed: set[int] = set()
    for f in findings:
        hit = [i for i, (a, b) in enumerate(spans) if a < f.end and f.start < b]
        if not hit:
            continue
        first, last = turn.words[hit[0]], turn.words[hit[-1]]
        mask = Word(
            text=(" " if first.text.startswith(" ") else "") + MASKS[f.type],
            start=first.start,
            end=last.end,
            confidence=min(turn.words[i].confidence for i in hit),
        )
        for i in hit:
            consumed.add(i)
        out.append(mask)
    keep = [(w.start, w) for i, w in enumerate(turn.words) if i not in consumed]
    merged = sorted(keep + [(w.start, w) for w in out], key=lambda it: it[0])
    return tuple(w for _, w in merged)


def redact_transcript(
    transcript: Transcript, min_spoken_digits: int = 7
) -> tuple[Transcript, list[PiiFinding]]:
    """A redacted copy of the transcript (text and words) and what was found where.

    The input is not modified. Finding spans refer to the original turn text.
    """
    findings: list[PiiFinding] = []
    turns: list[Turn] = []
    for i, turn in enumerate(transcript.turns):
        local = [
            replace(f, turn_index=i, time=time_at_offset(turn, f.start))
            for f in find_pii(turn.text, transcript.language, min_spoken_digits)
        ]
        findings.extend(local)
        if not local:
            turns.append(turn)
            continue
        turns.append(
            replace(turn, text=redact_text(turn.text, local), words=_redact_words(turn, local))
        )
    return replace(transcript, turns=turns), findings
