"""Full-text search of an organisation's transcripts, Japanese included (no word spaces)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e


def _done_call(admin: Any, text: str, language: str) -> str:
    uid, call_id = str(uuid.uuid4()), unique("search")
    admin.outbox.create(uid=uid, org_id="demo", call_id=call_id, language=language, call_date=dt.date.today(),
                       audio_format="wav", size_bytes=1, audio_key=f"orgs/demo/calls/{uid}/audio")
    turns = [{"speaker": "customer", "start": 0.0, "end": 3.0, "text": text, "words": []}]
    transcript = {"language": language, "engine": "test", "model": "none", "speaker_mode": "stereo",
                  "duration_s": 3.0, "text": text, "turns": turns}
    assert admin.calls.complete(uid, 1, transcript, f"orgs/demo/calls/{uid}/transcript.json") is not None
    return call_id


def test_search_finds_japanese_and_english_words_in_transcripts(api: Api, admin: Any) -> None:
    ja = _done_call(admin, "解約の手続きをしたいのですが、どうすればいいですか。", "ja-JP")
    en = _done_call(admin, "I would like to cancel my subscription today.", "en-US")
    assert ja in {c["call_id"] for c in api.get("/api/calls", q="解約の手続き").json()["calls"]}
    assert en not in {c["call_id"] for c in api.get("/api/calls", q="解約").json()["calls"]}
    found = {c["call_id"] for c in api.get("/api/calls", q="Cancel My Subscription").json()["calls"]}
    assert en in found and ja not in found
    assert api.get("/api/calls", q="100%_\\").status_code == 200  # LIKE metacharacters are escaped
