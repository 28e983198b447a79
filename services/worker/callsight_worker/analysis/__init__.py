"""Call analytics as a functional core: transcript in, JSON-ready results out.

No I/O (unless a caller passes a generative summarizer): the worker loads the
transcript and the organisation's form, calls `analyse_call`, and stores the dict.
`ANALYSIS_VERSION` and the form fingerprint are stored with every result, so calls
analysed under older rules can be found and analysed again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from callsight_worker.analysis.metrics import CallMetrics, MetricsConfig, compute_metrics
from callsight_worker.analysis.pii import PiiFinding, find_pii, redact_transcript
from callsight_worker.analysis.scorecard import (
    ScorecardForm,
    ScorecardResult,
    default_form,
    evaluate,
)
from callsight_worker.analysis.sentiment import (
    CallSentiment,
    SentimentConfig,
    analyse_sentiment,
)
from callsight_worker.analysis.summary import (
    ExtractiveSummarizer,
    OpenAICompatibleSummarizer,
    Summarizer,
    SummarizerError,
    Summary,
    WithFallback,
    configured_summarizer,
)
from callsight_worker.transcript import Transcript

# Bump when any rule, threshold or lexicon changes results for the same transcript.
ANALYSIS_VERSION = "1.0.0"

__all__ = [
    "ANALYSIS_VERSION",
    "CallMetrics",
    "CallSentiment",
    "ExtractiveSummarizer",
    "MetricsConfig",
    "OpenAICompatibleSummarizer",
    "PiiFinding",
    "ScorecardForm",
    "ScorecardResult",
    "SentimentConfig",
    "Summarizer",
    "SummarizerError",
    "Summary",
    "WithFallback",
    "analyse_call",
    "analyse_sentiment",
    "compute_metrics",
    "configured_summarizer",
    "default_form",
    "evaluate",
    "find_pii",
    "redact_transcript",
]


def analyse_call(
    transcript: Transcript,
    form: ScorecardForm | dict[str, Any] | None = None,
    redact: bool = False,
    *,
    summarizer: Summarizer | None = None,
    metrics_config: MetricsConfig | None = None,
    sentiment_config: SentimentConfig | None = None,
) -> dict[str, Any]:
    """Run every analysis on one call and return a JSON-serialisable dict.

    `form`: the organisation's QA form (a `ScorecardForm` or its dict); None uses the
    default form of the call's language. `redact`: analyse (and return) the redacted
    transcript, so no summary or evidence quotes a card or phone number; PII findings
    are reported either way. `summarizer`: defaults to the offline extractive one.
    """
    if isinstance(form, dict):
        form = ScorecardForm.from_dict(form)
    form = form or default_form(transcript.language)
    mcfg = metrics_config or MetricsConfig()
    scfg = sentiment_config or SentimentConfig()

    redacted, findings = redact_transcript(transcript)
    subject = redacted if redact else transcript

    metrics = compute_metrics(subject, mcfg)
    sentiment = analyse_sentiment(subject, scfg)
    summary = (summarizer or ExtractiveSummarizer()).summarize(subject)
    scorecard = evaluate(subject, form, metrics)

    result: dict[str, Any] = {
        "analysis_version": ANALYSIS_VERSION,
        "language": transcript.language,
        "speaker_mode": transcript.speaker_mode,
        "duration_s": round(metrics.duration_s, 3),
        "config": {
            "metrics": asdict(mcfg),
            "sentiment": asdict(scfg),
            "summarizer": summary.method,
            "form": {"name": form.name, "version": form.version, "fingerprint": form.fingerprint},
        },
        "metrics": metrics.to_dict(),
        "sentiment": sentiment.to_dict(),
        "summary": {
            "method": summary.method,
            "overview": summary.overview,
            "key_sentences": summary.to_dict()["key_sentences"],
            **({"error": summary.error} if summary.error else {}),
        },
        "keywords": [k.to_dict() for k in summary.keywords],
        "pii": {
            "redacted": redact,
            "counts": dict(Counter(f.type for f in findings)),
            "findings": [f.to_dict() for f in findings],
        },
        "scorecard": scorecard.to_dict(),
    }
    if redact:
        result["redacted_transcript"] = redacted.to_dict()
    return result
