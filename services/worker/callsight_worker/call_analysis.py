"""The analysis step of a job: transcript + the organisation's choices in, what to store out.

Pure (no I/O), so the worker's edges stay thin and the rules are unit-tested:

* auto-generate on: `analyse_call` with the organisation's QA form (None = the default
  form of the call's language). A failing analysis does not lose the transcript: the
  error is returned and stored instead, and the call still ends Done.
* redact_pii on: the transcript to store is the redacted one, always, whether or not
  the analysis ran or succeeded. If redaction itself fails the step raises, so the job
  retries and the unredacted original is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callsight_worker.analysis import ANALYSIS_VERSION, Summarizer, analyse_call, redact_transcript
from callsight_worker.transcript import Transcript


@dataclass(frozen=True)
class AnalysedCall:
    transcript: Transcript  # what to store: redacted when the organisation redacts PII
    result: dict[str, Any] | None  # the analysis; None when not asked for or failed
    error: str | None = None  # why the analysis failed
    analysis_version: str = ANALYSIS_VERSION


def analyse_for_storage(
    transcript: Transcript, form: dict[str, Any] | None, redact: bool, analyse: bool,
    summarizer: Summarizer | None = None,
) -> AnalysedCall:
    stored = redact_transcript(transcript)[0] if redact else transcript
    if not analyse:
        return AnalysedCall(stored, None)
    try:
        result = analyse_call(transcript, form, redact=redact, summarizer=summarizer)
    except Exception as exc:  # any rule or form error: keep the transcript, report the reason
        return AnalysedCall(stored, None, f"analysis failed: {type(exc).__name__}: {exc}")
    # the stored transcript is the redacted one; no second copy inside the analysis
    result.pop("redacted_transcript", None)
    return AnalysedCall(stored, result)
