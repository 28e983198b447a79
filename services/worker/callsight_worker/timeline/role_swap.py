"""A supervisor's role swap on a diarized mono call: which voice is the operator.

Light on purpose (transcripts only, no audio, no model): the analysis workers apply it.
"""

from __future__ import annotations

from dataclasses import replace

from callsight_worker.transcript import CUSTOMER, OPERATOR, Transcript


class RolesNotSwappable(ValueError):
    """The call's speakers were not separated by voice (stereo channels, or one mixed voice)."""


def swap_roles(transcript: Transcript, operator_voice: str, by: str = "supervisor") -> bool:
    """Name `operator_voice` the operator (and every other voice a customer), in place.

    Idempotent: asking for the assignment the transcript already has changes nothing
    (returns False). Raises `RolesNotSwappable` for a call without diarized voices.
    """
    speakers = transcript.meta.get("speakers") or {}
    if speakers.get("method") != "diarization" or not speakers.get("separated"):
        raise RolesNotSwappable("the roles of this call come from its channels or were not separated")
    voices = [v["voice"] for v in speakers.get("voices") or []]
    if operator_voice not in voices:
        raise RolesNotSwappable(f"no voice {operator_voice!r} on this call (voices: {', '.join(voices)})")
    old = {v["voice"]: v["role"] for v in speakers["voices"]}
    new = {v: OPERATOR if v == operator_voice else CUSTOMER for v in voices}
    if old == new:
        return False
    if any(t.voice not in new for t in transcript.turns):
        raise RolesNotSwappable("this call's turns do not record their voices")
    turns = [replace(t, speaker=new[t.voice]) for t in transcript.turns]
    transcript.turns = turns
    speakers = dict(speakers)
    speakers["voices"] = [{"voice": v, "role": new[v]} for v in voices]
    speakers["operator_voice"] = operator_voice
    speakers["source"] = by
    speakers["talk_s"] = {role: round(sum(t.end - t.start for t in turns if t.speaker == role), 2)
                          for role in (OPERATOR, CUSTOMER)}
    transcript.meta = dict(transcript.meta) | {"speakers": speakers}
    return True

