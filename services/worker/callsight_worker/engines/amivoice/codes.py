"""AmiVoice result codes, as documented ("レスポンスコードとメッセージ").

A failed request answers HTTP 200 with a one-character `code` and a `message`; success
has both empty. The documented client errors are `>`, `o`, `+`, `-` and `%`: the same
request fails again, so retrying only bills again. Of these, `o` is not a failure of
the call: "recognition result is rejected because confidence is below the threshold"
means nothing was recognised on this channel, an honest empty result. `-` is the
APPKEY. Any other code is on AmiVoice's side and may pass: it is retried, and logged
so that a code nobody has seen before is noticed.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

NOTHING_RECOGNISED = "o"
AUTHENTICATION = "-"
CLIENT_ERRORS = frozenset({">", "o", "+", "-", "%"})
APPKEY_HINT = ("an administrator must check CALLSIGHT_AMIVOICE_APPKEY on the workers against the APPKEY "
               "shown on the AmiVoice MyPage")
REQUEST_HINT = ("the same request would fail again; an administrator should check the AmiVoice engine names "
                "configured for this organisation and the deployment, its vocabulary, and the recording")
# error_message of a failed async job: "... amineth_code='o', amineth_message='...'"
_EMBEDDED = re.compile(r"(amineth_code|dsrh_code)\s*=\s*'([^']*)'")


class Outcome(enum.Enum):
    OK = "ok"
    NOTHING_RECOGNISED = "nothing recognised"
    PERMANENT = "permanent"
    TRANSIENT = "transient"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""  # for a person: what happened and what to do


def classify(code: str, message: str, what: str) -> Verdict:
    """The verdict on a top-level `code`/`message` pair of a response."""
    if code == "" and not message:
        return Verdict(Outcome.OK)
    detail = f"code {code!r}: {message}" if message else f"code {code!r}"
    if code == NOTHING_RECOGNISED:
        return Verdict(Outcome.NOTHING_RECOGNISED, f"AmiVoice recognised nothing on this channel ({detail})")
    if code == AUTHENTICATION:
        return Verdict(Outcome.PERMANENT, f"AmiVoice did not accept the APPKEY ({detail}); {APPKEY_HINT}")
    if code in CLIENT_ERRORS:
        return Verdict(Outcome.PERMANENT, f"AmiVoice rejected the {what} ({detail}); {REQUEST_HINT}")
    log.warning("amivoice: %s answered code %r (%s), not a documented client error: treated as a "
                "passing server-side failure", what, code, message)
    return Verdict(Outcome.TRANSIENT, f"AmiVoice could not complete the {what} ({detail}); it will be retried")


def classify_job_error(error_message: str) -> Verdict:
    """The verdict on a failed async job, from the codes embedded in its `error_message`."""
    codes = dict(_EMBEDDED.findall(error_message))
    code = codes.get("amineth_code") or codes.get("dsrh_code") or ""
    if code:
        verdict = classify(code, error_message, "recognition job")
        if verdict.outcome is not Outcome.OK:
            return verdict
    log.warning("amivoice: a recognition job failed without a documented code: %s", error_message)
    return Verdict(Outcome.TRANSIENT, f"AmiVoice recognition job failed ({error_message}); it will be retried")
