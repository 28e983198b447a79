"""Analysing a call and storing the result: after its transcription (the transcription
worker) and again on demand (the analysis worker). The rules are the pure
`analyse_for_storage`; this is the shell around it that reads and writes PostgreSQL."""

from __future__ import annotations

import logging

from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.orgs_repo import OrgRepository
from callsight.db.records import CallRecord, OrgRecord
from callsight.status_cache import StatusCache
from callsight_worker.analysis import Summarizer
from callsight_worker.call_analysis import AnalysedCall, analyse_for_storage
from callsight_worker.timeline.role_swap import RolesNotSwappable, swap_roles
from callsight_worker.transcript import Transcript

log = logging.getLogger(__name__)


class CallAnalyser:
    def __init__(self, calls: CallRepository, orgs: OrgRepository, analyses: AnalysisRepository,
                 summarizer: Summarizer | None = None, cache: StatusCache | None = None) -> None:
        self.calls = calls
        self.orgs = orgs
        self.analyses = analyses
        self.summarizer = summarizer
        self.cache = cache  # the status service's cached calls: one whose roles change is dropped

    def analyse(self, transcript: Transcript, org: OrgRecord | None, analyse: bool) -> AnalysedCall:
        form = org.qa_form if org else None
        return analyse_for_storage(transcript, form, redact=bool(org and org.redact_pii), analyse=analyse,
                                   summarizer=self.summarizer)

    def store(self, call: CallRecord, analysed: AnalysedCall) -> None:
        if analysed.result is not None:
            self.analyses.upsert(call.uid, call.org_id, analysed.result)
        elif analysed.error is not None:
            log.warning("%s; the transcript is kept", analysed.error)
            self.analyses.record_error(call.uid, call.org_id, analysed.analysis_version, analysed.error)

    def analyse_again(self, call_uid: str) -> bool:
        """Analyse a Done call's stored transcript again with its organisation's current
        form; the call's status is not touched. False when there is nothing to analyse (the
        call is gone, or not Done). Raises on PostgreSQL trouble, so the job is retried."""
        call = self.calls.get_by_uid(call_uid)
        stored = self.calls.get_transcript(call.uid) if call and call.status == "Done" else None
        if call is None or stored is None:
            return False
        analysed = self.analyse(Transcript.from_dict(stored), self.orgs.get(call.org_id), analyse=True)
        redacted = analysed.transcript.to_dict()
        if redacted["turns"] != stored["turns"]:
            # redaction was switched on after this call was transcribed: mask the stored transcript too
            self.calls.replace_transcript_text(call.uid, redacted["text"], redacted["turns"])
        self.store(call, analysed)
        return True

    def set_operator_voice(self, call_uid: str, voice: str, requested_by: str) -> bool:
        """Name a voice of a diarized mono call the operator (a supervisor's swap), before its
        analysis runs again. False when there is nothing to change it on (the call is gone or
        not Done, or its speakers are not voices); raises on PostgreSQL trouble."""
        call = self.calls.get_by_uid(call_uid)
        stored = self.calls.get_transcript(call.uid) if call and call.status == "Done" else None
        if call is None or stored is None:
            return False
        transcript = Transcript.from_dict(stored)
        try:
            changed = swap_roles(transcript, voice, by="supervisor")
        except RolesNotSwappable as exc:
            log.warning("role swap refused: %s", exc)
            return False
        if changed:
            speakers = dict(transcript.meta["speakers"]) | {"changed_by": requested_by or None}
            transcript.meta["speakers"] = speakers
            # the supervisor decided: an "uncertain roles" warning no longer applies
            warnings = [w for w in call.warnings if w.get("code") != "roles_uncertain"]
            self.calls.set_speaker_roles(call.uid, transcript.to_dict(), speakers, warnings)
            if self.cache is not None:
                self.cache.forget(call.org_id, call.call_id)
            log.info("roles set by %s: voice %s is the operator", requested_by or "a supervisor", voice)
        return True
