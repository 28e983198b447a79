"""How far a transcript and its metrics are from a call's known timeline.

Every figure is defined on what happened (the truth of `render.truth`), never on what the
pipeline found easy: words on the wrong side are words a side "said" while only the other
side was talking; hallucinated words are words said while nobody was talking.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bench.calls.script import CUSTOMER, OPERATOR

SIDES = (OPERATOR, CUSTOMER)
MARGIN_S = 0.3  # word timings of any engine are this loose at their edges


def normalise(text: str, language: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if language.startswith("ja"):
        return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S")))
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    # hesitations are not words (the usual scoring of conversational speech), and spelling
    # variants of one word count once
    return " ".join(SPELLING.get(w, w) for w in text.split() if w not in HESITATIONS)


HESITATIONS = {"uh", "um", "hm", "hmm", "mm", "er", "ah", "eh", "erm"}
SPELLING = {"gonna": "going to", "wanna": "want to", "alright": "all right", "yknow": "you know", "ok": "okay",
            "mr": "mister", "mrs": "missus", "represenatives": "representatives"}


def error_rate(ref: str, hyp: str, language: str) -> float:
    import jiwer  # a bench dependency (requirements/bench.txt): tests import this module without it

    r, h = normalise(ref, language), normalise(hyp, language)
    if not r:
        return 0.0 if not h else 1.0
    if language.startswith("ja"):
        return float(jiwer.cer(r, h))
    return float(jiwer.wer(r, h))


def _inside(t: float, spans: list[tuple[float, float]], margin: float) -> bool:
    return any(a - margin <= t <= b + margin for a, b in spans)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _length(spans: list[tuple[float, float]]) -> float:
    return sum(b - a for a, b in spans)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def repetition_loop(text: str, language: str, times: int = 4) -> bool:
    """A unit of 1-6 tokens (characters for Japanese) repeated `times`+ times in a row."""
    tokens = list(normalise(text, language)) if language.startswith("ja") else normalise(text, language).split()
    for n in range(1, 7):
        for i in range(0, max(0, len(tokens) - n * times) + 1):
            unit = tokens[i:i + n]
            if all(tokens[i + k * n:i + (k + 1) * n] == unit for k in range(1, times)):
                if language.startswith("ja") and n == 1:
                    continue  # ーーーー, っっっ: single characters repeat in real Japanese
                return True
    return False


@dataclass
class CallScore:
    name: str
    condition: str
    language: str
    error_rate: dict[str, float] = field(default_factory=dict)  # WER (en) / CER (ja) per side
    words: int = 0
    leaked_words: int = 0  # words on a side while only the other side was talking
    hallucinated_words: int = 0  # words while nobody was talking
    truth_turns: dict[str, int] = field(default_factory=dict)
    found_turns: dict[str, int] = field(default_factory=dict)
    boundary_error_s: float = 0.0  # mean |start|+|end| error / 2 over matched utterances
    backchannels: tuple[int, int, int] = (0, 0, 0)  # (true positives, found, truth)
    interruptions: tuple[int, int, int] = (0, 0, 0)
    silences: tuple[int, int, int] = (0, 0, 0)
    talk_share_error: float = 0.0  # |found - truth| operator talk share, in points
    loops: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def score_call(truth: dict[str, Any], transcript: dict[str, Any], metrics: dict[str, Any]) -> CallScore:
    """`transcript`: Transcript.to_dict(); `metrics`: compute_metrics(...).to_dict()."""
    lang = truth["language"]
    s = CallScore(truth["name"], truth.get("condition", ""), lang)
    spans = {side: [(u["start"], u["end"]) for u in truth["utterances"] if u["speaker"] == side] for side in SIDES}
    turns = transcript["turns"]
    joiner = "" if lang.startswith("ja") else " "
    for side in SIDES:
        hyp = joiner.join(t["text"] for t in turns if t["speaker"] == side)
        s.error_rate[side] = error_rate(truth["text"][side], hyp, lang)
        s.loops += repetition_loop(hyp, lang)
        s.truth_turns[side] = len(spans[side])
        s.found_turns[side] = sum(1 for t in turns if t["speaker"] == side)
    leaks, ghosts = [], []
    for t in turns:
        side = t["speaker"]
        other = CUSTOMER if side == OPERATOR else OPERATOR
        for w in t.get("words") or []:
            s.words += 1
            mid = (w["start"] + w["end"]) / 2
            mine = _inside(mid, spans.get(side, []), MARGIN_S)
            theirs = _inside(mid, spans.get(other, []), MARGIN_S)
            if not mine and theirs:
                leaks.append((side, round(mid, 2), w["text"]))
            elif not mine and not theirs:
                ghosts.append((side, round(mid, 2), w["text"]))
    s.leaked_words, s.hallucinated_words = len(leaks), len(ghosts)
    s.details["leaks"], s.details["hallucinations"] = leaks[:40], ghosts[:40]

    # utterance boundaries: each truth utterance against the found turn of its side that overlaps it most
    errors = []
    for side in SIDES:
        found = [(t["start"], t["end"]) for t in turns if t["speaker"] == side]
        for u in spans[side]:
            best = max(found, key=lambda f: _overlap(f, u), default=None)
            if best is not None and _overlap(best, u) > 0:
                errors.append((abs(best[0] - u[0]) + abs(best[1] - u[1])) / 2)
    s.boundary_error_s = sum(errors) / len(errors) if errors else 0.0

    found_bc = [(t["speaker"], t["start"], t["end"]) for t in turns if t.get("kind") == "backchannel"]
    truth_bc = [(b["speaker"], b["start"], b["end"]) for b in truth["backchannels"]]
    s.backchannels = _match(found_bc, truth_bc, lambda f, r: f[0] == r[0] and _overlap(f[1:], r[1:]) > 0)
    found_int = [(i["by"], i["at"]) for i in metrics.get("interruptions", [])]
    truth_int = [(i["by"], i["at"]) for i in truth["interruptions"]]
    s.interruptions = _match(found_int, truth_int, lambda f, r: f[0] == r[0] and abs(f[1] - r[1]) <= 0.7)

    everyone = _union([x for side in SIDES for x in spans[side]])
    truth_sil = [(a[1], b[0]) for a, b in zip(everyone, everyone[1:], strict=False) if b[0] - a[1] >= 3.0]
    found_sil = [(g["start"], g["end"]) for g in metrics.get("silences", [])]
    s.silences = _match(found_sil, truth_sil,
                        lambda f, r: _overlap(f, r) >= 0.5 * min(f[1] - f[0], r[1] - r[0]))
    s.details["silences"] = {"truth": truth_sil, "found": found_sil}

    talk = {side: _length(_union(spans[side])) for side in SIDES}
    truth_share = talk[OPERATOR] / max(1e-9, talk[OPERATOR] + talk[CUSTOMER])
    found_share = (metrics.get("speakers", {}).get(OPERATOR) or {}).get("talk_share", 0.0)
    s.talk_share_error = abs(found_share - truth_share) * 100
    s.details["talk_share"] = {"truth": round(truth_share, 3), "found": found_share}
    return s


def _match(found: list[Any], truth: list[Any], same: Any) -> tuple[int, int, int]:
    """Greedy one-to-one matching: (true positives, found, truth)."""
    used: set[int] = set()
    tp = 0
    for f in found:
        for k, r in enumerate(truth):
            if k not in used and same(f, r):
                used.add(k)
                tp += 1
                break
    return tp, len(found), len(truth)


def precision_recall(counts: list[tuple[int, int, int]]) -> tuple[float, float]:
    tp = sum(c[0] for c in counts)
    found = sum(c[1] for c in counts)
    truth = sum(c[2] for c in counts)
    return (tp / found if found else 1.0), (tp / truth if truth else 1.0)
