"""Call summaries: key sentences per speaker and keywords.

The default is extractive and offline: it quotes what was said, so it cannot invent
anything, and it runs in milliseconds without a model. Sentences are ranked by
TextRank (PageRank over TF-IDF cosine similarity between sentences of the whole
call), then the best few of each speaker are returned in call order. Keywords come
from YAKE for English and, for Japanese, from the most frequent content nouns
(compound nouns kept whole) found by MeCab with IPAdic.

A generative summary is possible through any OpenAI-compatible
`/v1/chat/completions` endpoint (a self-hosted model, typically). It is never the
default: it sends the transcript to a server, so an operator turns it on explicitly
(CALLSIGHT_SUMMARY_LLM_URL and _MODEL; the transcript sent is the redacted one when the
organisation redacts PII). When that endpoint fails, the extractive summary is kept and
the reason recorded with it (`with_fallback`).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from callsight.settings import SummarySettings
from callsight_worker.analysis._text import is_japanese, split_sentences, tokenize_ja
from callsight_worker.transcript import Transcript

log = logging.getLogger(__name__)

# Masks written by pii.py; never keywords.
_MASK_WORDS = {"card", "phone", "email", "number"}

_EN_STOPWORDS = frozenset(
    (
        "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
        "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
        "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during",
        "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
        "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "itself", "just", "let", "me", "more", "most", "my",
        "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or",
        "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should",
        "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "there", "these", "they", "this", "those", "through", "to",
        "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
        "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
        "yours", "yourself", "yourselves", "yes", "yeah", "okay", "ok", "oh", "um", "uh",
        "hmm", "right", "sure", "well", "please", "thank", "thanks", "hello", "hi", "bye",
        "one", "moment", "also", "get", "got", "go", "going", "like", "want", "need", "im",
        "youre", "thats", "dont", "cant", "ill", "ive", "id", "its", "lets", "calling",
        "help", "day", "great"
    )
)
# Nouns too generic to be a topic of a Japanese call.
_JA_STOP_NOUNS = frozenset(
    (
        "こと", "もの", "ため", "よう", "方", "ほう", "様", "さま", "者", "私",
        "わたくし", "僕", "お客", "お客様", "そちら", "こちら", "それ", "これ", "あれ",
        "どれ", "何", "なん", "ところ", "とき", "時", "今", "今日", "皆様", "はい",
        "いえ", "ええ", "うん", "少々", "感じ", "的", "さん", "御", "ご", "お",
        "おかけ", "電話", "お電話", "失礼"
    )
)
_JA_LIGHT_VERBS = ("する", "ある", "いる", "なる", "おる", "いただく", "くださる")
_JA_KEY_NOUN_TYPES = ("一般", "固有名詞", "サ変接続", "形容動詞語幹")


@dataclass(frozen=True)
class KeySentence:
    speaker: str
    turn_index: int
    start: float
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "turn_index": self.turn_index,
            "start": round(self.start, 3),
            "text": self.text,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Keyword:
    text: str
    score: float  # higher is more relevant; comparable within one call only

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "score": round(self.score, 4)}


@dataclass
class Summary:
    method: str
    key_sentences: dict[str, list[KeySentence]] = field(default_factory=dict)
    keywords: list[Keyword] = field(default_factory=list)
    overview: str | None = None  # free text, only from a generative summarizer
    error: str | None = None  # why the generative summarizer's overview is missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "overview": self.overview,
            "key_sentences": {
                spk: [s.to_dict() for s in sents] for spk, sents in self.key_sentences.items()
            },
            "keywords": [k.to_dict() for k in self.keywords],
        }


class Summarizer(Protocol):
    """Anything that turns a transcript into a `Summary`."""

    name: str

    def summarize(self, transcript: Transcript) -> Summary: ...


class SummarizerError(RuntimeError):
    """A summarizer could not produce a summary (server down, bad answer, no config)."""


# ---------------------------------------------------------------------------
# Tokens


def content_tokens(text: str, language: str) -> list[str]:
    """Words that carry meaning: no stopwords, particles, auxiliaries or numbers."""
    if is_japanese(language):
        out = []
        for tok in tokenize_ja(text):
            if tok.pos == "名詞" and tok.pos1 not in ("非自立", "代名詞", "数", "接尾", "副詞可能"):
                if tok.base not in _JA_STOP_NOUNS and not _is_single_kana(tok.base):
                    out.append(tok.base)
            elif (
                tok.pos in ("動詞", "形容詞")
                and tok.pos1 == "自立"
                and tok.base not in _JA_LIGHT_VERBS
            ):
                out.append(tok.base)
        return out
    words = re.findall(r"[a-z][a-z'’]*", text.lower())
    return [w.replace("'", "").replace("’", "") for w in words if _en_content(w)]


def _en_content(word: str) -> bool:
    w = word.replace("'", "").replace("’", "")
    return len(w) > 2 and w not in _EN_STOPWORDS and w not in _MASK_WORDS


def _is_single_kana(s: str) -> bool:
    return len(s) == 1 and ("\u3040" <= s <= "\u30ff")


# ---------------------------------------------------------------------------
# TextRank


def _tfidf(docs: list[list[str]]) -> list[dict[str, float]]:
    df = Counter(t for d in docs for t in set(d))
    n = len(docs)
    vecs = []
    for d in docs:
        tf = Counter(d)
        vec = {t: (c / len(d)) * (math.log((1 + n) / (1 + df[t])) + 1) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vecs.append({t: v / norm for t, v in vec.items()})
    return vecs


def textrank(docs: list[list[str]], damping: float = 0.85, iterations: int = 50) -> list[float]:
    """PageRank scores of sentences in the graph weighted by TF-IDF cosine similarity."""
    n = len(docs)
    if n == 0:
        return []
    vecs = _tfidf(docs)
    sim = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            small, big = (vecs[i], vecs[j]) if len(vecs[i]) < len(vecs[j]) else (vecs[j], vecs[i])
            s = sum(v * big.get(t, 0.0) for t, v in small.items())
            sim[i][j] = sim[j][i] = s
    out_weight = [sum(row) for row in sim]
    scores = [1.0 / n] * n
    for _ in range(iterations):
        new = []
        for i in range(n):
            acc = sum(sim[j][i] / out_weight[j] * scores[j] for j in range(n) if out_weight[j] > 0)
            new.append((1 - damping) / n + damping * acc)
        done = max(abs(a - b) for a, b in zip(new, scores, strict=True)) < 1e-6
        scores = new
        if done:
            break
    return scores


# ---------------------------------------------------------------------------
# Keywords


def keywords_en(text: str, top: int = 10) -> list[Keyword]:
    """YAKE keywords (up to two-word phrases); YAKE's lower-is-better score inverted."""
    import yake

    if not text.strip():
        return []
    extractor = yake.KeywordExtractor(lan="en", n=2, dedupLim=0.7, top=top * 2)
    out: list[Keyword] = []
    for phrase, score in extractor.extract_keywords(text):
        words = phrase.lower().split()
        if any(w in _MASK_WORDS for w in words) or not any(_en_content(w) for w in words):
            continue
        out.append(Keyword(phrase, 1.0 / (1.0 + float(score))))
        if len(out) == top:
            break
    return out


def keywords_ja(text: str, top: int = 10) -> list[Keyword]:
    """Most frequent content nouns; runs of nouns (住所 変更 → 住所変更) are kept whole."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    run: list[str] = []

    def flush() -> None:
        if run:
            word = "".join(run)
            if word not in _JA_STOP_NOUNS and not _is_single_kana(word) and not word.isdigit():
                counts[word] += 1
                first_seen.setdefault(word, len(first_seen))
            run.clear()

    for tok in tokenize_ja(text.replace("[", " ").replace("]", " ")):
        noun_head = tok.pos == "名詞" and tok.pos1 in _JA_KEY_NOUN_TYPES
        suffix = tok.pos == "名詞" and tok.pos1 == "接尾" and run
        # 再起動, 未払い: a prefix starts a compound; honorific お/ご/御 do not
        prefix = tok.pos == "接頭詞" and tok.pos1 == "名詞接続" and tok.surface not in "おご御"
        if prefix and not run:
            run.append(tok.surface)
            continue
        if (noun_head or suffix) and tok.surface.lower() not in _MASK_WORDS:
            run.append(tok.surface)
            continue
        flush()
    flush()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], -len(kv[0]), first_seen[kv[0]]))
    return [Keyword(w, float(c)) for w, c in ranked[:top]]


def keywords(text: str, language: str, top: int = 10) -> list[Keyword]:
    return keywords_ja(text, top) if is_japanese(language) else keywords_en(text, top)


# ---------------------------------------------------------------------------
# Summarizers


@dataclass
class ExtractiveSummarizer:
    """Offline default: TextRank key sentences per speaker and keywords."""

    sentences_per_speaker: int = 3
    top_keywords: int = 10
    min_tokens: int = 2  # shorter sentences ("yes", "はい") are never key sentences
    name: str = "extractive"

    def summarize(self, transcript: Transcript) -> Summary:
        lang = transcript.language
        sents: list[tuple[str, int, float, str]] = []
        docs: list[list[str]] = []
        for i, turn in enumerate(transcript.turns):
            for _offset, sentence in split_sentences(turn.text, lang):
                toks = content_tokens(sentence, lang)
                if len(toks) >= self.min_tokens:
                    sents.append((turn.speaker, i, turn.start, sentence))
                    docs.append(toks)
        scores = textrank(docs)
        key: dict[str, list[KeySentence]] = {}
        for spk in sorted({s[0] for s in sents}):
            mine = [
                KeySentence(s[0], s[1], s[2], s[3], sc)
                for s, sc in zip(sents, scores, strict=True)
                if s[0] == spk
            ]
            best = sorted(mine, key=lambda k: (-k.score, k.start))[: self.sentences_per_speaker]
            key[spk] = sorted(best, key=lambda k: (k.start, k.turn_index))
        joiner = "\n" if is_japanese(lang) else " "
        text = joiner.join(t.text for t in transcript.turns)
        return Summary(
            method=self.name, key_sentences=key, keywords=keywords(text, lang, self.top_keywords)
        )


@dataclass
class OpenAICompatibleSummarizer:
    """Overview from an OpenAI-compatible chat endpoint; key sentences and keywords stay
    extractive so they remain quotes. Raises `SummarizerError` on any failure: the
    caller decides whether to fall back to the extractive summary."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    max_tokens: int = 400
    extractive: ExtractiveSummarizer = field(default_factory=ExtractiveSummarizer)
    name: str = "openai-compatible"

    @classmethod
    def from_settings(cls, settings: SummarySettings) -> OpenAICompatibleSummarizer:
        """The summarizer a worker's settings configure (CALLSIGHT_SUMMARY_LLM_*)."""
        if not settings.summary_llm_url or not settings.summary_llm_model:
            raise SummarizerError("the LLM summarizer needs CALLSIGHT_SUMMARY_LLM_URL and CALLSIGHT_SUMMARY_LLM_MODEL")
        return cls(
            base_url=settings.summary_llm_url,
            model=settings.summary_llm_model,
            api_key=settings.summary_llm_api_key.get_secret_value() if settings.summary_llm_api_key else None,
            timeout_s=settings.summary_llm_timeout_s,
        )

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        if base.endswith("/chat/completions"):
            return base
        if base.endswith("/v1"):
            return base + "/chat/completions"
        return base + "/v1/chat/completions"

    def _prompt(self, transcript: Transcript) -> list[dict[str, str]]:
        ja = is_japanese(transcript.language)
        system = (
            "あなたはコールセンターの品質管理担当者です。通話の書き起こしを読み、"
            "用件・対応内容・結果・次のアクションを日本語で3〜5文に要約してください。"
            if ja
            else "You are a contact-centre QA analyst. Summarise the call transcript in 3-5 "
            "sentences: the customer's reason for calling, what the agent did, the outcome "
            "and any follow-up."
        )
        lines = [f"[{t.start:.0f}s] {t.speaker}: {t.text}" for t in transcript.turns if t.text]
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": "\n".join(lines)},
        ]

    def summarize(self, transcript: Transcript) -> Summary:
        import requests

        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": self._prompt(transcript),
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }
        try:
            resp = requests.post(
                self.url,
                json=payload,
                headers=headers,
                timeout=(self.connect_timeout_s, self.timeout_s),
            )
        except requests.Timeout as exc:
            raise SummarizerError(f"LLM endpoint {self.url} timed out") from exc
        except requests.RequestException as exc:
            raise SummarizerError(f"LLM endpoint {self.url} unreachable: {exc}") from exc
        if resp.status_code != 200:
            raise SummarizerError(
                f"LLM endpoint {self.url} answered HTTP {resp.status_code}: {resp.text[:200]}"
            )
        try:
            content = resp.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise SummarizerError(f"LLM endpoint {self.url} gave an unexpected answer") from exc
        if not isinstance(content, str) or not content.strip():
            raise SummarizerError(f"LLM endpoint {self.url} returned an empty summary")
        base = self.extractive.summarize(transcript)
        return Summary(
            method=f"{self.name}:{self.model}",
            key_sentences=base.key_sentences,
            keywords=base.keywords,
            overview=content.strip(),
        )


@dataclass
class WithFallback:
    """A generative summarizer that never costs the call its summary: when it fails, the
    extractive summary is returned with the reason in `error`."""

    generative: Summarizer
    extractive: ExtractiveSummarizer = field(default_factory=ExtractiveSummarizer)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.generative.name

    def summarize(self, transcript: Transcript) -> Summary:
        try:
            return self.generative.summarize(transcript)
        except SummarizerError as exc:
            log.warning("generative summary failed, the extractive one is kept: %s", exc)
            summary = self.extractive.summarize(transcript)
            summary.error = str(exc)
            return summary


def configured_summarizer(settings: SummarySettings) -> Summarizer | None:
    """The generative summarizer when the settings name an endpoint; None (the extractive
    default) otherwise."""
    if not settings.summary_llm_url:
        return None
    return WithFallback(OpenAICompatibleSummarizer.from_settings(settings))
