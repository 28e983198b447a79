"""The AmiVoice client against a fake AmiVoice server on loopback."""

from __future__ import annotations

import io
import logging
import time
import traceback
import wave
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import requests

from callsight_worker.engines.amivoice import (
    AmiVoiceConfigError,
    AmiVoiceSettings,
    AmiVoiceTranscriber,
    build_d,
    needs_async,
    parse_segments,
    to_wav,
)
from callsight_worker.engines.base import (
    PermanentTranscriptionError,
    TranscriptionError,
    TransientTranscriptionError,
)
from tests.fakes.amivoice_server import FakeAmiVoice, Token, tone

pytestmark = pytest.mark.unit

KEY = "ak-SECRET-7f3c9e21d0b84a6f"
SR = 16_000

JA_UTTERANCES = [
    [
        Token("アドバンスト・メディア", 250, 1420, 0.93, "あどばんすとめでぃあ"),
        Token("は", 1420, 1540, 0.98),
        Token("、", 1540, 1560, 0.91, "_"),
        Token("音声", 1600, 1980, 0.88, "おんせい"),
        Token("認識", 1980, 2400, 0.95, "にんしき"),
        Token("です", 2400, 2700, 0.97),
        Token("。", 2700, 2720, 0.9, "_"),
    ],
    [Token("ありがとう", 3500, 4100, 0.81), Token("ございます", 4100, 4800, 0.79)],
]
EN_UTTERANCES = [
    [
        Token("Hello", 120, 480, 0.96),
        Token(",", 480, 500, 0.5),
        Token("how", 610, 790, 0.91),
        Token("are", 790, 900, 0.92),
        Token("you", 900, 1100, 0.94),
        Token("?", 1100, 1120, 0.5),
    ]
]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAmiVoice]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with FakeAmiVoice(appkeys=[KEY]) as server:
        yield server


def make_settings(fake: FakeAmiVoice, **overrides: object) -> AmiVoiceSettings:
    values: dict[str, object] = {
        "appkey": KEY,
        "sync_url": fake.sync_url,
        "async_url": fake.async_url,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 5.0,
        "poll_interval_s": 0.01,
        "max_wait_s": 5.0,
    }
    values.update(overrides)
    return AmiVoiceSettings(**values)  # type: ignore[arg-type]


def client(fake: FakeAmiVoice, **overrides: object) -> AmiVoiceTranscriber:
    return AmiVoiceTranscriber(make_settings(fake, **overrides))


def wav_samples(data: bytes) -> tuple[tuple[int, int, int], np.ndarray]:
    with wave.open(io.BytesIO(data), "rb") as w:
        params = (w.getnchannels(), w.getsampwidth(), w.getframerate())
        return params, np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def post_raw(url: str, parts: list[tuple[str, tuple[Any, ...]]]) -> Any:
    """Send a multipart request exactly as given (to probe the fake)."""
    resp = requests.post(url, files=parts, timeout=5)
    assert resp.status_code == 200
    return resp.json()


# -- sync ---------------------------------------------------------------------


def test_sync_japanese(fake: FakeAmiVoice) -> None:
    fake.script(SR * 5, JA_UTTERANCES)
    out = client(fake).transcribe(tone(SR * 5), "ja-JP")

    assert (out.language, out.engine, out.model) == ("ja-JP", "amivoice", "-a-general")
    assert [s.text for s in out.segments] == [
        "アドバンスト・メディアは、音声認識です。",
        "ありがとうございます",
    ]
    assert " " not in out.text
    first = out.segments[0]
    assert (first.start, first.end) == (0.25, 2.72)
    assert [w.text for w in first.words] == [
        "アドバンスト・メディア",
        "は、",
        "音声",
        "認識",
        "です。",
    ]
    w0 = first.words[0]
    assert (w0.start, w0.end, w0.confidence) == (0.25, 1.42, 0.93)
    assert out.segments[1].words[1].start == pytest.approx(4.1)
    assert all(0.0 <= w.confidence <= 1.0 for s in out.segments for w in s.words)


def test_sync_english(fake: FakeAmiVoice) -> None:
    fake.script(SR * 2, EN_UTTERANCES)
    out = client(fake).transcribe(tone(SR * 2), "en-US")

    assert out.model == "-a-general-en"
    assert out.text == "Hello, how are you?"
    seg = out.segments[0]
    assert [w.text for w in seg.words] == ["Hello,", "how", "are", "you?"]
    assert (seg.words[1].start, seg.words[1].end) == (0.61, 0.79)
    assert fake.requests[-1].fields["d"] == "grammarFileNames=-a-general-en"


def test_sync_request_shape(fake: FakeAmiVoice) -> None:
    audio = tone(SR)
    audio[:4] = [1.5, -2.0, 0.5, np.nan]  # out of range and NaN are clipped/zeroed
    client(fake).transcribe(audio, "ja-JP")

    (rec,) = fake.requests
    assert (rec.method, rec.path) == ("POST", "/v1/recognize")
    assert rec.part_names == ["u", "d", "a"]  # the audio last
    assert rec.fields == {"u": KEY, "d": "grammarFileNames=-a-general"}
    assert "authorization" not in rec.headers
    assert rec.audio is not None
    params, pcm = wav_samples(rec.audio)
    assert params == (1, 2, 16_000)
    assert rec.wav is not None and rec.wav.n_frames == SR
    assert pcm[:4].tolist() == [32767, -32767, 16384, 0]
    expected = np.round(np.clip(audio[4:], -1, 1) * 32767).astype(np.int16)
    assert np.array_equal(pcm[4:], expected)


def test_d_options_are_url_encoded(fake: FakeAmiVoice) -> None:
    options = (("keepFillerToken", "1"), ("profileWords", "www とりぷるだぶる"))
    client(fake, d_options=options).transcribe(tone(SR), "ja-JP")
    d = fake.requests[-1].fields["d"]
    assert d.startswith("grammarFileNames=-a-general keepFillerToken=1 profileWords=")
    assert len(d.split(" ")) == 3
    assert (
        build_d("-a-general", [("a", "b c")]) == "grammarFileNames=-a-general a=b%20c"
    )


def test_silence_gives_no_segments(fake: FakeAmiVoice) -> None:
    out = client(fake).transcribe(np.zeros(SR, dtype=np.float32), "ja-JP")
    assert out.segments == [] and out.text == ""
    assert len(fake.requests) == 1


def test_empty_audio_sends_nothing(fake: FakeAmiVoice) -> None:
    out = client(fake).transcribe(np.zeros(0, dtype=np.float32), "en-US")
    assert out.segments == [] and out.model == "-a-general-en"
    assert fake.requests == []


def test_column_vector_is_mono_but_stereo_is_refused(fake: FakeAmiVoice) -> None:
    fake.script(SR * 2, EN_UTTERANCES)
    out = client(fake).transcribe(tone(SR * 2).reshape(-1, 1), "en-US")
    assert out.text == "Hello, how are you?"
    with pytest.raises(PermanentTranscriptionError, match="mono"):
        client(fake).transcribe(np.zeros((2, SR), dtype=np.float32), "en-US")


def test_unknown_language_is_permanent(fake: FakeAmiVoice) -> None:
    with pytest.raises(PermanentTranscriptionError, match="fr-FR"):
        client(fake).transcribe(tone(SR), "fr-FR")
    assert fake.requests == []


# -- errors -------------------------------------------------------------------


def test_auth_failure_is_permanent_and_clear(fake: FakeAmiVoice) -> None:
    wrong = "ak-WRONG-0000-secret-value"
    with pytest.raises(PermanentTranscriptionError) as info:
        client(fake, appkey=wrong).transcribe(tone(SR), "ja-JP")
    text = str(info.value)
    assert "authentication failed" in text
    assert "received illegal service authorization" in text
    assert "CALLSIGHT_AMIVOICE_APPKEY" in text
    assert wrong not in text and wrong not in repr(info.value)
    assert info.value.permanent is True


def test_http_5xx_is_transient(fake: FakeAmiVoice) -> None:
    fake.fail_next(503)
    with pytest.raises(TransientTranscriptionError, match="HTTP 503"):
        client(fake).transcribe(tone(SR), "ja-JP")


def test_http_404_is_permanent(fake: FakeAmiVoice) -> None:
    bad = client(fake, sync_url=fake.base_url + "/v1/nowhere")
    with pytest.raises(PermanentTranscriptionError, match="HTTP 404"):
        bad.transcribe(tone(SR), "ja-JP")


def test_timeout_is_transient(fake: FakeAmiVoice) -> None:
    fake.delay_next(3.0)
    started = time.monotonic()
    with pytest.raises(TransientTranscriptionError, match="timed out"):
        client(fake, read_timeout_s=0.3).transcribe(tone(SR), "ja-JP")
    assert time.monotonic() - started < 2.0


def test_connection_refused_is_transient(fake: FakeAmiVoice) -> None:
    url = fake.sync_url
    fake.stop()
    with pytest.raises(TransientTranscriptionError, match="connection failed"):
        client(fake, sync_url=url).transcribe(tone(SR), "ja-JP")


def test_non_json_200_is_transient(fake: FakeAmiVoice) -> None:
    fake.fail_next(200)  # an HTML page with status 200, as a broken proxy might send
    with pytest.raises(TransientTranscriptionError, match="not JSON"):
        client(fake).transcribe(tone(SR), "ja-JP")


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("-", "received illegal service authorization", PermanentTranscriptionError),
        ("+", "received unsupported audio format", PermanentTranscriptionError),
        ("o", "received too large audio data", PermanentTranscriptionError),
        ("#", "bad parameter", PermanentTranscriptionError),
        ("!", "failed to connect to recognizer server", TransientTranscriptionError),
        (">", "failed to send audio data", TransientTranscriptionError),
        ("b", "busy", TransientTranscriptionError),
        ("Z", "something new", TransientTranscriptionError),
        (None, "received illegal service authorization", PermanentTranscriptionError),
    ],
)
def test_result_codes(
    fake: FakeAmiVoice, code: str | None, message: str, expected: type[Exception]
) -> None:
    body: dict[str, object] = {"results": [], "text": "", "message": message}
    if code is not None:
        body["code"] = code
    fake.reply_next(body)
    with pytest.raises(expected) as info:
        client(fake).transcribe(tone(SR), "ja-JP")
    assert type(info.value) is expected
    assert message in str(info.value)


def test_empty_code_is_success(fake: FakeAmiVoice) -> None:
    fake.reply_next({"results": [], "text": "", "code": "", "message": ""})
    assert client(fake).transcribe(tone(SR), "ja-JP").segments == []


# -- async --------------------------------------------------------------------


def test_async_for_audio_over_the_sync_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    limit = 64_000  # small stand-in for 16,777,215 to keep the test fast
    with FakeAmiVoice(appkeys=[KEY], sync_max_bytes=limit) as fake:
        n = SR * 3  # 96,044 bytes of WAV
        fake.script(n, EN_UTTERANCES)
        # The fake's sync endpoint refuses this audio, as the real one would.
        wav = to_wav(tone(n))
        refused = post_raw(
            fake.sync_url,
            [("u", (None, KEY)), ("d", (None, "-a-general-en")), ("a", ("a.wav", wav))],
        )
        assert refused["code"] == "o"
        fake.requests.clear()

        out = client(fake, sync_max_bytes=limit).transcribe(tone(n), "en-US")

    assert out.text == "Hello, how are you?"
    post, *polls = fake.requests
    assert (post.method, post.path) == ("POST", "/v1/recognitions")
    assert post.part_names == ["u", "d", "a"]
    assert post.fields["u"] == KEY
    assert post.fields["d"] == "grammarFileNames=-a-general-en compatibleWithSync=True"
    assert post.wav is not None
    assert (post.wav.channels, post.wav.sample_width, post.wav.frame_rate) == (
        1,
        2,
        16_000,
    )
    assert [p.method for p in polls] == ["GET"] * len(polls)
    sid = polls[0].path.rsplit("/", 1)[1]
    assert all(p.path == f"/v1/recognitions/{sid}" for p in polls)
    assert all(p.headers["authorization"] == f"Bearer {KEY}" for p in polls)


def test_async_for_long_audio(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, JA_UTTERANCES)
    out = client(fake, sync_max_duration_s=2.0).transcribe(tone(SR * 3), "ja-JP")
    assert out.segments[0].text == "アドバンスト・メディアは、音声認識です。"
    assert fake.requests[0].path == "/v1/recognitions"


def test_routing_rule_defaults() -> None:
    s = AmiVoiceSettings(appkey=KEY)
    assert s.sync_max_bytes == 16_777_215
    assert not needs_async(16_777_215, 60.0, s)
    assert needs_async(16_777_216, 60.0, s)
    assert needs_async(1000, s.sync_max_duration_s + 1, s)


def test_async_slow_job_completes(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, JA_UTTERANCES, processing_polls=6)
    out = client(fake, sync_max_duration_s=1.0).transcribe(tone(SR * 3), "ja-JP")
    assert len(out.segments) == 2
    polls = [r for r in fake.requests if r.method == "GET"]
    assert len(polls) == 1 + 1 + 6 + 1  # queued, started, 6 x processing, completed


def test_async_poll_survives_a_passing_5xx(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, EN_UTTERANCES)
    fake.fail_next(502, path="/v1/recognitions/")
    out = client(fake, sync_max_duration_s=1.0).transcribe(tone(SR * 3), "en-US")
    assert out.text == "Hello, how are you?"


def test_async_poll_gives_up_after_repeated_failures(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, EN_UTTERANCES)
    fake.fail_next(502, path="/v1/recognitions/", times=4)
    t = client(fake, sync_max_duration_s=1.0, poll_error_tolerance=3)
    with pytest.raises(TransientTranscriptionError, match="HTTP 502"):
        t.transcribe(tone(SR * 3), "en-US")
    assert len([r for r in fake.requests if r.method == "GET"]) == 4


def test_async_error_status(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, JA_UTTERANCES, error_message="failed to recognize audio data")
    with pytest.raises(TransientTranscriptionError) as info:
        client(fake, sync_max_duration_s=1.0).transcribe(tone(SR * 3), "ja-JP")
    assert "ended in error" in str(info.value)
    assert "failed to recognize audio data" in str(info.value)


def test_async_error_status_permanent_message(fake: FakeAmiVoice) -> None:
    msg = "dsrh_code=+ amineth_message=received unsupported audio format"
    fake.script(SR * 3, JA_UTTERANCES, error_message=msg)
    with pytest.raises(PermanentTranscriptionError, match="unsupported audio format"):
        client(fake, sync_max_duration_s=1.0).transcribe(tone(SR * 3), "ja-JP")


def test_async_gives_up_after_max_wait(fake: FakeAmiVoice) -> None:
    fake.script(SR * 3, JA_UTTERANCES, processing_polls=1_000_000)
    slow = client(fake, sync_max_duration_s=1.0, max_wait_s=0.3, poll_interval_s=0.02)
    started = time.monotonic()
    with pytest.raises(TransientTranscriptionError, match="gave up") as info:
        slow.transcribe(tone(SR * 3), "ja-JP")
    assert "processing" in str(info.value)
    assert time.monotonic() - started < 2.0


def test_async_creation_auth_failure(fake: FakeAmiVoice) -> None:
    wrong = "ak-WRONG-async-secret"
    bad = client(fake, appkey=wrong, sync_max_duration_s=1.0)
    with pytest.raises(PermanentTranscriptionError, match="authentication") as info:
        bad.transcribe(tone(SR * 3), "ja-JP")
    assert wrong not in str(info.value)
    assert [r.method for r in fake.requests] == ["POST"]


def test_async_default_result_format_is_understood(fake: FakeAmiVoice) -> None:
    """Without compatibleWithSync the job answers with `segments`; same transcript."""
    n = SR * 3
    fake.script(n, JA_UTTERANCES, processing_polls=0)
    wav = to_wav(tone(n))
    created = post_raw(
        fake.async_url,
        [
            ("u", (None, KEY)),
            ("d", (None, "grammarFileNames=-a-general")),
            ("a", ("x", wav)),
        ],
    )
    sid = created["sessionid"]
    url = f"{fake.async_url}/{sid}"
    auth = {"Authorization": f"Bearer {KEY}"}
    statuses = []
    for _ in range(5):
        body = requests.get(url, headers=auth, timeout=5).json()
        statuses.append(body["status"])
        if body["status"] == "completed":
            break
    assert statuses == ["queued", "started", "completed"]
    assert "segments" in body
    segs = parse_segments(body, "ja-JP")
    assert [s.text for s in segs] == [
        "アドバンスト・メディアは、音声認識です。",
        "ありがとうございます",
    ]


# -- the fake itself rejects what the real service rejects ---------------------


def test_fake_rejects_audio_before_u(fake: FakeAmiVoice) -> None:
    wav = to_wav(tone(SR))
    body = post_raw(
        fake.sync_url,
        [("d", (None, "-a-general")), ("a", ("a.wav", wav)), ("u", (None, KEY))],
    )
    assert (body["code"], body["message"]) == (
        "-",
        "received illegal service authorization",
    )


def test_fake_rejects_non_wav_and_wrong_formats(fake: FakeAmiVoice) -> None:
    def wav(rate: int, channels: int) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(b"\0\0" * channels * 800)
        return buf.getvalue()

    for audio in (b"this is not audio", wav(8000, 1), wav(16000, 2)):
        body = post_raw(
            fake.sync_url,
            [("u", (None, KEY)), ("d", (None, "-a-general")), ("a", ("a", audio))],
        )
        assert body["code"] == "+", audio[:20]


def test_fake_enforces_the_documented_sync_limit(fake: FakeAmiVoice) -> None:
    big = b"RIFF" + b"\0" * (16_777_216 - 4)
    body = post_raw(
        fake.sync_url,
        [("u", (None, KEY)), ("d", (None, "-a-general")), ("a", ("a", big))],
    )
    assert body["code"] == "o"


def test_fake_polling_needs_bearer(fake: FakeAmiVoice) -> None:
    created = post_raw(
        fake.async_url,
        [
            ("u", (None, KEY)),
            ("d", (None, "-a-general")),
            ("a", ("a", to_wav(tone(SR)))),
        ],
    )
    url = f"{fake.async_url}/{created['sessionid']}"
    assert requests.get(url, timeout=5).status_code == 401
    assert (
        requests.get(
            url, headers={"Authorization": "Bearer nope"}, timeout=5
        ).status_code
        == 401
    )
    ok = requests.get(url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert ok.json()["status"] == "queued"


# -- configuration and secrecy ------------------------------------------------


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "CALLSIGHT_AMIVOICE_APPKEY": KEY,
        "CALLSIGHT_AMIVOICE_SYNC_URL": "http://sync.example/v1/nolog/recognize",
        "CALLSIGHT_AMIVOICE_ASYNC_URL": "http://async.example/v1/recognitions",
        "CALLSIGHT_AMIVOICE_ENGINE_JA": "-a-medgeneral",
        "CALLSIGHT_AMIVOICE_ENGINE_EN": "-a-general-en",
        "CALLSIGHT_AMIVOICE_POLL_INTERVAL_S": "2.5",
        "CALLSIGHT_AMIVOICE_MAX_WAIT_S": "900",
    }
    s = AmiVoiceSettings.from_env(env)
    assert s.appkey == KEY
    assert s.sync_url.endswith("/nolog/recognize")
    assert s.async_url == "http://async.example/v1/recognitions"
    assert (s.engine_ja, s.engine_en) == ("-a-medgeneral", "-a-general-en")
    assert (s.poll_interval_s, s.max_wait_s) == (2.5, 900.0)

    defaults = AmiVoiceSettings.from_env({"CALLSIGHT_AMIVOICE_APPKEY": KEY})
    assert defaults.sync_url == "https://acp-api.amivoice.com/v1/recognize"
    assert defaults.async_url == "https://acp-api-async.amivoice.com/v1/recognitions"
    assert (defaults.engine_ja, defaults.engine_en) == ("-a-general", "-a-general-en")

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert AmiVoiceTranscriber().settings.engine_ja == "-a-medgeneral"


def test_missing_appkey_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSIGHT_AMIVOICE_APPKEY", raising=False)
    with pytest.raises(AmiVoiceConfigError, match="CALLSIGHT_AMIVOICE_APPKEY"):
        AmiVoiceTranscriber()
    with pytest.raises(AmiVoiceConfigError, match="CALLSIGHT_AMIVOICE_APPKEY"):
        AmiVoiceSettings.from_env({"CALLSIGHT_AMIVOICE_APPKEY": "  "})
    with pytest.raises(AmiVoiceConfigError, match="CALLSIGHT_AMIVOICE_MAX_WAIT_S"):
        AmiVoiceSettings.from_env(
            {"CALLSIGHT_AMIVOICE_APPKEY": KEY, "CALLSIGHT_AMIVOICE_MAX_WAIT_S": "soon"}
        )


def test_appkey_not_in_reprs(fake: FakeAmiVoice) -> None:
    t = client(fake)
    assert KEY not in repr(t) and KEY not in str(t)
    assert KEY not in repr(t.settings)


def _scenarios(fake: FakeAmiVoice) -> list[Callable[[], object]]:
    long = SR * 3

    def sync_5xx_echoing_key() -> object:
        fake.reply_next({"message": f"bad key {KEY}"}, status=500)
        return client(fake).transcribe(tone(SR), "ja-JP")

    def code_echoing_key() -> object:
        fake.reply_next({"code": "!", "message": f"upstream refused {KEY}"})
        return client(fake).transcribe(tone(SR), "ja-JP")

    def sync_timeout() -> object:
        fake.delay_next(1.0)
        return client(fake, read_timeout_s=0.2).transcribe(tone(SR), "ja-JP")

    def async_error() -> object:
        fake.script(long, JA_UTTERANCES, error_message=f"failed for {KEY}")
        return client(fake, sync_max_duration_s=1.0).transcribe(tone(long), "ja-JP")

    def async_give_up() -> object:
        fake.script(long + 1, JA_UTTERANCES, processing_polls=1_000_000)
        t = client(fake, sync_max_duration_s=1.0, max_wait_s=0.1)
        return t.transcribe(tone(long + 1), "ja-JP")

    def async_poll_401() -> object:
        fake.script(long + 2, JA_UTTERANCES)
        fake.reply_next(
            {"message": f"who is {KEY}"}, status=401, path="/v1/recognitions/"
        )
        return client(fake, sync_max_duration_s=1.0).transcribe(tone(long + 2), "ja-JP")

    return [
        sync_5xx_echoing_key,
        code_echoing_key,
        sync_timeout,
        async_error,
        async_give_up,
        async_poll_401,
    ]


def test_appkey_never_in_errors_or_logs(
    fake: FakeAmiVoice, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client(fake).transcribe(tone(SR), "ja-JP")  # a success, for the logs
    for scenario in _scenarios(fake):
        with pytest.raises(TranscriptionError) as info:
            scenario()
        exc = info.value
        rendered = "".join(traceback.format_exception(exc))
        assert KEY not in str(exc), scenario.__name__
        assert KEY not in repr(exc), scenario.__name__
        assert KEY not in rendered, scenario.__name__
    assert "amivoice" in caplog.text
    assert KEY not in caplog.text


def test_parse_fillers_brackets_and_missing_times() -> None:
    body = {
        "results": [
            {
                "starttime": 1000,
                "endtime": 2000,
                "confidence": 0.8,
                "tokens": [
                    {"written": "%えー%", "starttime": 1000, "endtime": 1200},
                    {"written": "「", "starttime": 1200, "endtime": 1200},
                    {"written": "はい", "confidence": 1.7},
                    {"written": "」"},
                ],
            },
            {"tokens": [], "text": ""},
        ]
    }
    (seg,) = parse_segments(body, "ja-JP")
    assert seg.text == "えー「はい」"
    assert [w.text for w in seg.words] == ["えー", "「はい」"]
    assert (seg.words[1].start, seg.words[1].end) == (1.2, 1.2)
    assert seg.words[0].confidence == 0.8 and seg.words[1].confidence == 1.0
    assert (seg.start, seg.end) == (1.0, 2.0)
