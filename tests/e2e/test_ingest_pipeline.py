"""The product's story: upload real speech through the Ingest API and read it back Done."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import audio
from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind", ["wav", "mp3", "m4a", "ogg-opus", "ogg-vorbis"])
def test_real_speech_in_each_format_ends_done_with_the_words(api: Api, tmp_path: Path, kind: str) -> None:
    ext = {"ogg-opus": "ogg", "ogg-vorbis": "ogg"}.get(kind, kind)
    path = audio.encode(tmp_path / f"speech.{ext}", [audio.speech("dashwood")], kind)
    call_id = unique(f"fmt-{kind}")
    r = api.upload(path, call_id=call_id, language="en-US", operator_id="op-7", department="sales")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "Queued"
    assert body["call_id"] == call_id
    assert body["format"] == ext

    call = api.wait_final(call_id)
    assert call["status"] == "Done", call
    assert call["error"] is None
    assert 6.5 < call["duration_s"] < 7.6
    text = call["transcript_text"].lower()
    for word in audio.SPEECH["dashwood"][1]:
        assert word in text, (word, text)
    assert call["transcript_url"].endswith(f"/api/calls/{call_id}/transcript")


def test_status_moves_queued_processing_done(api: Api, tmp_path: Path) -> None:
    """A client polling the API sees each status in order, Processing included (a late
    Queued from the gateway once hid it for the whole transcription)."""
    clips = [audio.speech("dashwood"), audio.speech("selfish"), audio.speech("dashwood")]
    path = audio.encode(tmp_path / "long.wav", [__import__("numpy").concatenate(clips)], "wav")
    call_id = unique("lifecycle")
    assert api.upload(path, call_id=call_id, language="en-US").json()["status"] == "Queued"
    call = api.wait_final(call_id)
    assert call["status"] == "Done"
    seen = ["Queued", *call["_seen"]]
    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == ["Queued", "Processing", "Done"], seen


def test_stereo_call_is_split_into_operator_and_customer_turns(api: Api, tmp_path: Path) -> None:
    path = audio.stereo_call(tmp_path / "call.wav")
    call_id = unique("stereo")
    assert api.upload(path, call_id=call_id, language="en-US").status_code == 201
    call = api.wait_final(call_id)
    assert call["status"] == "Done", call
    assert call["channels"] == 2
    transcript = api.get(f"/api/calls/{call_id}/transcript").json()
    assert transcript["speaker_mode"] == "stereo"
    speakers = [t["speaker"] for t in transcript["turns"]]
    assert speakers[0] == "operator" and "customer" in speakers
    customer_text = " ".join(t["text"] for t in transcript["turns"] if t["speaker"] == "customer").lower()
    assert "young" in customer_text and "dashwood" not in customer_text
    first = transcript["turns"][0]
    assert first["words"] and all(w["start"] <= w["end"] for w in first["words"])


def test_mono_recording_says_it_has_one_track(api: Api, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "mono.wav", [audio.speech("amiable")], "wav")
    call_id = unique("mono")
    api.upload(path, call_id=call_id, language="en-US")
    assert api.wait_final(call_id)["status"] == "Done"
    transcript = api.get(f"/api/calls/{call_id}/transcript").json()
    assert transcript["speaker_mode"] == "mono"
    assert {t["speaker"] for t in transcript["turns"]} == {"mixed"}


def test_silence_and_noise_produce_no_invented_words(api: Api, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "quiet.wav", [audio.silence(8), audio.noise(8)], "wav")
    call_id = unique("silence")
    api.upload(path, call_id=call_id, language="en-US")
    call = api.wait_final(call_id)
    assert call["status"] == "Done"
    assert call["transcript_text"] == ""


def test_undecodable_audio_ends_failed_with_a_reason(api: Api, tmp_path: Path) -> None:
    call_id = unique("broken")
    r = api.upload(audio.corrupt_wav(tmp_path / "broken.wav"), call_id=call_id, language="en-US")
    assert r.status_code == 201, r.text
    call = api.wait_final(call_id, timeout_s=60)
    assert call["status"] == "Failed"
    assert "could not be decoded" in call["error"]
    assert call["attempts"] == 1  # permanent: not retried


def test_call_id_defaults_to_the_file_name(api: Api, tmp_path: Path) -> None:
    name = unique("recording") + ".wav"
    path = audio.encode(tmp_path / name, [audio.speech("selfish")], "wav")
    r = api.upload(path, language="en-US")
    assert r.status_code == 201, r.text
    assert r.json()["call_id"] == name
    assert api.wait_final(name)["status"] == "Done"


def test_language_defaults_to_the_organisation_and_date_to_today(api: Api, tmp_path: Path) -> None:
    import datetime as dt

    path = audio.encode(tmp_path / "x.wav", [audio.speech("selfish")], "wav")
    body = api.upload(path, call_id=unique("defaults")).json()
    assert body["language"] == "ja-JP"  # the demo organisation's default
    assert body["call_date"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_transcript_exports(api: Api, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "e.wav", [audio.speech("dashwood")], "wav")
    call_id = unique("export")
    api.upload(path, call_id=call_id, language="en-US")
    assert api.wait_final(call_id)["status"] == "Done"
    txt = api.get(f"/api/calls/{call_id}/transcript", format="txt")
    assert txt.status_code == 200 and "Speaker:" in txt.text and "Dashwood" in txt.text
    srt = api.get(f"/api/calls/{call_id}/transcript", format="srt").text
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    vtt = api.get(f"/api/calls/{call_id}/transcript", format="vtt").text
    assert vtt.startswith("WEBVTT")
    assert api.get(f"/api/calls/{call_id}/transcript", format="pdf").status_code == 400


def test_list_calls_filters_and_pages(api: Api, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "l.wav", [audio.speech("selfish")], "wav")
    dept = unique("dept")
    ids = [unique("list") for _ in range(3)]
    for i, call_id in enumerate(ids):
        assert api.upload(path, call_id=call_id, department=dept, operator_id=f"op-{i % 2}",
                          call_date=f"2025-01-0{i + 1}", language="en-US").status_code == 201
    page = api.get("/api/calls", department=dept, page_size=2).json()
    assert page["total_count"] == 3 and len(page["calls"]) == 2 and page["next_page_token"]
    rest = api.get("/api/calls", department=dept, page_size=2, page_token=page["next_page_token"]).json()
    assert {c["call_id"] for c in page["calls"] + rest["calls"]} == set(ids)
    assert rest["next_page_token"] is None
    assert {c["call_id"] for c in api.get("/api/calls", department=dept, operator_id="op-1").json()["calls"]} == {ids[1]}
    dated = api.get("/api/calls", department=dept, date_from="2025-01-02", date_to="2025-01-03").json()
    assert {c["call_id"] for c in dated["calls"]} == set(ids[1:])
    assert api.get("/api/calls", status="Nope").status_code == 400
    assert api.get("/api/calls", date_from="yesterday").status_code == 400
    assert api.get("/api/calls", page_token="garbage").status_code == 400
