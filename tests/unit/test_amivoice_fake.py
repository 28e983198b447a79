"""The fake AmiVoice itself, used the way the official samples and the docs' curl examples use the API."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from tests import audio
from tests.fakes.amivoice_recognizer import voice_track
from tests.fakes.amivoice_server import FakeAmiVoice, Token

pytestmark = pytest.mark.unit

KEY = "ak-fake-test"
SAYS = [[Token("もしもし", "もしもし"), Token("。")], [Token("はい", "はい"), Token("。")]]
BURSTS = [(0.3, 1.2), (2.2, 2.8)]


@pytest.fixture
def fake() -> Iterator[FakeAmiVoice]:
    with FakeAmiVoice([KEY]) as server:
        server.voice(500.0, SAYS)
        yield server


def wav_bytes(path: Path, kind: str = "wav", rate: int = 16000, right_only: bool = False) -> bytes:
    voice = voice_track(3.5, BURSTS, 500.0, rate=16000)
    quiet = np.zeros_like(voice)
    channels = [quiet, voice] if right_only else ([voice, quiet] if kind != "wav-mono" else [voice])
    if rate != 16000:
        channels = [np.interp(np.arange(0, voice.size, 16000 / rate), np.arange(voice.size), c).astype(np.float32)
                    for c in channels]
    return audio.encode(path, channels, "wav" if kind == "wav-mono" else kind, rate=rate).read_bytes()


def post(fake: FakeAmiVoice, data: bytes, d: str = "grammarFileNames=-a-general", path: str = "/v1/nolog/recognize",
         **extra: tuple[str | None, str]) -> dict:
    files: list[tuple[str, Any]] = [("u", (None, KEY)), ("d", (None, d)), *extra.items(), ("a", ("a.wav", data))]
    r = requests.post(fake.base_url + path, files=files, timeout=10)
    assert r.status_code == 200
    return r.json()


def test_sync_answer_is_one_result_shaped_like_the_documented_example(fake: FakeAmiVoice, tmp_path: Path) -> None:
    body = post(fake, wav_bytes(tmp_path / "a.wav", "wav-mono"))
    assert set(body) == {"results", "utteranceid", "text", "code", "message"}
    assert (body["code"], body["message"]) == ("", "")
    (result,) = body["results"]
    assert set(result) == {"tokens", "confidence", "starttime", "endtime", "tags", "rulename", "text"}
    assert result["text"] == body["text"] == "もしもし。はい。"
    assert set(result["tokens"][0]) == {"written", "confidence", "starttime", "endtime", "spoken"}
    assert result["tokens"][1]["spoken"] == "_"  # inserted punctuation


def test_curl_examples_of_the_docs_work(fake: FakeAmiVoice, tmp_path: Path) -> None:
    data = wav_bytes(tmp_path / "a.wav", "wav-mono")
    # `-F d=-a-general` (short form) and parameters in the query string (the Hrp curl sample)
    assert post(fake, data, d="-a-general")["text"] == "もしもし。はい。"
    r = requests.post(f"{fake.base_url}/v1/recognize?d=-a-general&u={KEY}", files={"a": ("a.wav", data)}, timeout=10)
    assert r.json()["code"] == ""


def test_parameters_after_the_audio_are_ignored(fake: FakeAmiVoice, tmp_path: Path) -> None:
    files: list[tuple[str, Any]] = [("d", (None, "grammarFileNames=-a-general")), ("a", ("a.wav", wav_bytes(tmp_path / "a.wav"))),
             ("u", (None, KEY))]
    body = requests.post(fake.base_url + "/v1/recognize", files=files, timeout=10).json()
    assert (body["code"], body["message"]) == ("-", "received illegal service authorization")
    assert body["results"] == [{"tokens": [], "tags": [], "rulename": "", "text": ""}]


@pytest.mark.parametrize("kind", ["wav", "mp3", "ogg-opus", "ogg-vorbis"])
def test_documented_formats_are_accepted_and_only_the_first_channel_is_heard(fake: FakeAmiVoice, tmp_path: Path,
                                                                          kind: str) -> None:
    assert post(fake, wav_bytes(tmp_path / f"a.{kind}", kind))["text"] == "もしもし。はい。"
    body = post(fake, wav_bytes(tmp_path / f"b.{kind}", kind, right_only=True))
    assert (body["code"], body["text"]) == ("", "")


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_pcm_at_documented_rates(fake: FakeAmiVoice, tmp_path: Path, rate: int) -> None:
    assert post(fake, wav_bytes(tmp_path / "a.wav", "wav-mono", rate=rate))["text"] == "もしもし。はい。"


def test_formats_amivoice_does_not_take_are_code_plus(fake: FakeAmiVoice, tmp_path: Path) -> None:
    mulaw16k = audio.encode(tmp_path / "m.wav", [voice_track(2.0, BURSTS, 500.0)], "wav-mulaw", rate=16000)
    assert post(fake, mulaw16k.read_bytes())["code"] == "+"  # G.711 only at 8 kHz
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)  # 8-bit PCM
        w.setframerate(16000)
        w.writeframes(bytes(16000))
    assert post(fake, buf.getvalue())["code"] == "+"
    eight_k = wav_bytes(tmp_path / "e.wav", "wav-mono", rate=8000)
    assert post(fake, eight_k, d="grammarFileNames=-a-general-en")["code"] == "+"  # a 16 kHz-only engine


def test_headerless_pcm_per_the_c_parameter(fake: FakeAmiVoice) -> None:
    pcm = (voice_track(3.5, BURSTS, 500.0, rate=8000) * 32767).astype("<i2").tobytes()
    assert post(fake, pcm, c=(None, "LSB8K"))["text"] == "もしもし。はい。"


def test_malformed_profile_words_are_code_percent(fake: FakeAmiVoice, tmp_path: Path) -> None:
    data = wav_bytes(tmp_path / "a.wav", "wav-mono")
    assert post(fake, data, d="grammarFileNames=-a-general profileWords=AMI")["code"] == "%"
    assert post(fake, data, d="grammarFileNames=-a-general profileWords=AMI%20ami")["code"] == "%"
    ok = post(fake, data, d="grammarFileNames=-a-general profileWords=MOSHI%20%E3%82%82%E3%81%97%E3%82%82%E3%81%97")
    assert ok["results"][0]["tokens"][0]["written"] == "MOSHI"


def test_async_job_goes_through_the_documented_states(fake: FakeAmiVoice, tmp_path: Path) -> None:
    fake.processing_s = 1.0
    created = post(fake, wav_bytes(tmp_path / "a.wav", "wav-mono"), d="grammarFileNames=-a2b-ja-general loggingOptOut=True",
                   path="/v2/recognitions")
    assert set(created) == {"sessionid", "text"} and created["text"] == "..."
    url = f"{fake.async_url}/{created['sessionid']}"
    assert requests.get(url, timeout=5).status_code == 401
    seen: list[str] = []
    while not seen or seen[-1] not in ("completed", "error"):
        body = requests.get(url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5).json()
        if not seen or seen[-1] != body["status"]:
            seen.append(body["status"])
        time.sleep(0.02)
    assert seen == ["queued", "started", "processing", "completed"]
    assert {"audio_md5", "audio_size", "service_id", "session_id", "utteranceid", "segments", "code"} <= set(body)
    assert [s["text"] for s in body["segments"]] == ["もしもし。", "はい。"]
    assert requests.get(f"{fake.async_url}/nope", headers={"Authorization": f"Bearer {KEY}"}, timeout=5).status_code == 404
