"""The body of a delivery: the event, and the call as GET /api/calls/{call_id} shows it
(with its transcript's text when Done; with its analysis for analysis.done).

Made at the first attempt and frozen (DeliveryRepository.freeze_payload), so retries and
redeliveries send the same bytes and the signature of one body never changes. A call
deleted before the first attempt has no body: the delivery is cancelled.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from callsight.call_document import call_document
from callsight.convert import call_to_proto
from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.deliveries_repo import DueDelivery


class CallGone(Exception):
    """The delivery's call was deleted: there is nothing to send."""


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class PayloadBuilder:
    def __init__(self, calls: CallRepository, analyses: AnalysisRepository) -> None:
        self.calls = calls
        self.analyses = analyses

    def build(self, delivery: DueDelivery) -> str:
        record = self.calls.get_by_uid(delivery.call_uid)
        if record is None:
            raise CallGone(delivery.call_uid)
        text = None
        if record.status == "Done":
            stored = self.calls.get_transcript(record.uid)
            text = stored["text"] if stored else None
        body: dict[str, Any] = {
            "id": delivery.event_id,
            "event": delivery.event,
            "created_at": iso(delivery.created_at),
            "call": call_document(call_to_proto(record), transcript_text=text),
        }
        if delivery.event == "analysis.done":
            analysis = self.analyses.get(record.org_id, record.uid)
            if analysis is not None and analysis.error is None:
                body["analysis"] = {"call_id": record.call_id, "updated_at": iso(analysis.updated_at), **analysis.result}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
