"""An organisation's custom vocabulary: set over the API, refused when wrong, used by the worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.calls import render, sources
from bench.calls.script import OPERATOR, Placement, Script
from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e

TERMS = [{"text": "Digium", "reading": None, "language": "en-US"},
         {"text": "Inter-Asterisk Exchange", "reading": None, "language": "en-US"},
         {"text": "光回線プラス", "reading": "ひかりかいせんぷらす", "language": "ja-JP"}]


def put(api: Api, body: Any) -> requests.Response:
    return requests.put(f"{api.url}/api/settings/vocabulary", json=body, headers={"X-API-Key": api.key}, timeout=30)


@pytest.fixture
def vocabulary(api: Api) -> Iterator[None]:
    yield
    assert put(api, {"terms": []}).status_code == 200  # the shared demo organisation goes back to none


def test_terms_are_stored_and_read_back(api: Api, vocabulary: None) -> None:
    assert api.get("/api/settings/vocabulary").json()["terms"] == []
    r = put(api, {"terms": TERMS + [{"text": "Digium", "language": "en-US"}]})
    assert r.status_code == 200, r.text
    assert r.json()["terms"] == TERMS  # the repeated term is kept once
    assert api.get("/api/settings/vocabulary").json() == {"terms": TERMS, "max_terms": 500}


@pytest.mark.parametrize(("body", "message"), [
    ([], "send {\"terms\""),
    ({"terms": "Digium"}, "send a list of terms"),
    ({"terms": [{"text": ""}]}, "term 1: text is required"),
    ({"terms": [{"text": "ok", "language": "de-DE"}]}, "term 1: language must be"),
])
def test_a_bad_vocabulary_is_refused_and_the_stored_one_kept(api: Api, vocabulary: None, body: object,
                                                            message: str) -> None:
    assert put(api, {"terms": TERMS}).status_code == 200
    r = put(api, body)
    assert r.status_code == 400 and message in r.json()["message"], r.text
    assert api.get("/api/settings/vocabulary").json()["terms"] == TERMS


def test_the_worker_writes_the_organisations_terms(api: Api, vocabulary: None, tmp_path: Path) -> None:
    # Allison says "... an Inter-Asterisk Exchange connection to a demonstration server located at Digium";
    # without the terms Whisper base writes "Digim" and "Inter-Asterisk exchange"
    clip = sources.asterisk("demo-abouttotry")
    path, _ = render.render(Script("vocab", "en-US", [Placement(OPERATOR, clip, 0.3, "line")]),
                            render.Condition("ulaw"), tmp_path, seed=1, pause_s=0.6)
    assert put(api, {"terms": TERMS}).status_code == 200
    call_id = unique("vocab")
    assert api.upload(path, call_id=call_id, language="en-US").status_code == 201
    call = api.wait_final(call_id)
    assert call["status"] == "Done", call
    assert "Digium" in call["transcript_text"] and "Inter-Asterisk Exchange" in call["transcript_text"].replace(" -", "-")
