"""The AmiVoice engine against a fake AmiVoice that behaves like the documentation."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from callsight_worker.engines.amivoice import AmiVoiceConfigError, AmiVoiceSettings, AmiVoiceTranscriber
from callsight_worker.engines.base import (
    ChannelTranscript,
    PermanentTranscriptionError,
    TranscribeOptions,
    TransientTranscriptionError,
    VocabularyTerm,
)
from tests.fakes.amivoice_recognizer import voice_track
from tests.fakes.amivoice_server import FakeAmiVoice, Token

pytestmark = pytest.mark.unit

KEY = "ak-SECRET-7f3c9e21d0b84a6f"
OPERATOR_HZ, CUSTOMER_HZ = 440.0, 620.0
OPERATOR_SAYS = [
    [Token("お電話", "おでんわ"), Token("ありがとう", "ありがとう"), Token("ございます", "ございます"), Token("。")],
    [Token("コールサイト", "こーるさいと", 0.62), Token("の", "の"), Token("佐藤", "さとう"), Token("です", "です"),
     Token("。")],
    [Token("ご用件", "ごようけん"), Token("を", "を"), Token("どうぞ", "どうぞ"), Token("。")],
]
OPERATOR_BURSTS = [(0.5, 2.0), (3.0, 4.6), (6.0, 7.2)]
CUSTOMER_SAYS = [
    [Token("Hello", "hello"), Token(","), Token("my", "my"), Token("router", "router"), Token("is", "is"),
     Token("broken", "broken"), Token(".")],
    [Token("Thanks", "thanks"), Token("!")],
]
CUSTOMER_BURSTS = [(1.0, 2.5), (4.0, 4.8)]


class MemoryJobs:
    """An EngineJobStore in memory (the worker's keeps them on the call row)."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        self.saves = 0

    def load(self, key: str) -> str | None:
        return self.jobs.get(key)

    def save(self, key: str, job_id: str) -> None:
        self.jobs[key] = job_id
        self.saves += 1

    def forget(self, key: str) -> None:
        self.jobs.pop(key, None)


@pytest.fixture
def fake() -> Iterator[FakeAmiVoice]:
    with FakeAmiVoice([KEY]) as server:
        server.voice(OPERATOR_HZ, OPERATOR_SAYS)
        server.voice(CUSTOMER_HZ, CUSTOMER_SAYS)
        yield server


def engine(fake: FakeAmiVoice, **overrides: Any) -> AmiVoiceTranscriber:
    values: dict[str, Any] = {"appkey": KEY, "sync_base_url": fake.sync_base_url, "async_url": fake.async_url,
                              "poll_min_interval_s": 0.05, "poll_interval_s": 0.1, "read_timeout_s": 10.0,
                              "wait_base_s": 20.0}
    values.update(overrides)
    return AmiVoiceTranscriber(AmiVoiceSettings(**values))


def operator_channel(seconds: float = 8.0, rate: int = 16000) -> np.ndarray:
    return voice_track(seconds, OPERATOR_BURSTS, OPERATOR_HZ, rate=rate, noise=0.002)


def words_of(result: ChannelTranscript) -> list[str]:
    return [w.text for s in result.segments for w in s.words]


def assert_inside(result: ChannelTranscript, bursts: list[tuple[float, float]]) -> None:
    for seg in result.segments:
        for w in seg.words:
            assert any(a - 0.05 <= w.start <= w.end <= b + 0.05 for a, b in bursts), (w, bursts)


# ---- synchronous: short audio ------------------------------------------------------------


def test_sync_channel_is_one_result_with_every_word_timed_inside_its_utterance(fake: FakeAmiVoice) -> None:
    result = engine(fake).transcribe(operator_channel(), "ja-JP")
    (req,) = fake.requests
    assert req.path == "/v1/nolog/recognize"  # no logging by default
    assert req.part_names == ["u", "d", "a"]  # the audio last: AmiVoice ignores parts after it
    assert req.options == {"grammarFileNames": "-a-general"}
    assert (req.decoded.codec, req.decoded.rate) == ("pcm_s16le", 16000)  # type: ignore[union-attr]  # the fake decoded this audio
    # the sync interface has no per-utterance timing: one result, the words carry the times
    assert len(result.segments) == 1
    assert words_of(result) == ["お電話", "ありがとう", "ございます。", "コールサイト", "の", "佐藤", "です。",
                                "ご用件", "を", "どうぞ。"]
    assert result.segments[0].text == "お電話ありがとうございます。コールサイトの佐藤です。ご用件をどうぞ。"
    assert_inside(result, OPERATOR_BURSTS)
    firsts = [next(w for w in result.segments[0].words if w.text == t) for t in ("お電話", "コールサイト", "ご用件")]
    assert [round(w.start, 1) for w in firsts] == [0.5, 3.0, 6.0]
    assert result.segments[0].words[3].confidence == pytest.approx(0.62)
    assert (result.engine, result.model, result.language) == ("amivoice", "-a-general", "ja-JP")


def test_english_channel_uses_the_english_engine_and_spaces(fake: FakeAmiVoice) -> None:
    audio = voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ)
    result = engine(fake).transcribe(audio, "en-US")
    assert fake.requests[0].options["grammarFileNames"] == "-a-general-en"
    assert result.segments[0].text == "Hello, my router is broken. Thanks!"
    assert_inside(result, CUSTOMER_BURSTS)


def test_telephone_audio_goes_as_8khz_mulaw_to_an_8khz_engine(fake: FakeAmiVoice) -> None:
    audio = operator_channel()
    result = engine(fake).transcribe(audio, "ja-JP", TranscribeOptions(source_sample_rate=8000))
    req = fake.requests[0]
    assert (req.decoded.codec, req.decoded.rate) == ("pcm_mulaw", 8000)  # type: ignore[union-attr]  # the fake decoded this audio
    assert len(req.audio) < 8000 * 8 + 200  # type: ignore[arg-type]  # a quarter of 16 kHz PCM
    assert words_of(result)[:3] == ["お電話", "ありがとう", "ございます。"]
    assert_inside(result, OPERATOR_BURSTS)


def test_telephone_audio_can_go_as_alaw(fake: FakeAmiVoice) -> None:
    engine(fake, telephone_codec="alaw").transcribe(operator_channel(), "ja-JP", TranscribeOptions(source_sample_rate=8000))
    assert fake.requests[0].decoded.codec == "pcm_alaw"  # type: ignore[union-attr]  # the fake decoded this audio


def test_telephone_audio_to_an_engine_without_8khz_goes_as_16khz_pcm(fake: FakeAmiVoice) -> None:
    audio = voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ)
    result = engine(fake).transcribe(audio, "en-US", TranscribeOptions(source_sample_rate=8000))
    assert fake.requests[0].decoded.rate == 16000  # type: ignore[union-attr]  # the fake decoded this audio
    assert result.segments[0].text.startswith("Hello, my router")


def test_wideband_audio_goes_as_16khz_pcm(fake: FakeAmiVoice) -> None:
    engine(fake).transcribe(operator_channel(), "ja-JP", TranscribeOptions(source_sample_rate=44100))
    assert (fake.requests[0].decoded.codec, fake.requests[0].decoded.rate) == ("pcm_s16le", 16000)  # type: ignore[union-attr]  # the fake decoded this audio


def test_logging_allowed_by_the_organisation_uses_the_logging_endpoint(fake: FakeAmiVoice) -> None:
    engine(fake).transcribe(operator_channel(), "ja-JP", TranscribeOptions(engine_settings={"allow_logging": True}))
    assert fake.requests[0].path == "/v1/recognize"


def test_logging_allowed_by_the_deployment_can_be_refused_by_the_organisation(fake: FakeAmiVoice) -> None:
    engine(fake, allow_logging=True).transcribe(operator_channel(), "ja-JP",
                                                TranscribeOptions(engine_settings={"allow_logging": False}))
    assert fake.requests[0].path == "/v1/nolog/recognize"


def test_organisation_chooses_its_engine(fake: FakeAmiVoice) -> None:
    result = engine(fake).transcribe(operator_channel(), "ja-JP",
                                     TranscribeOptions(engine_settings={"engine_ja": "-a2-ja-general"}))
    assert fake.requests[0].options["grammarFileNames"] == "-a2-ja-general"
    assert result.model == "-a2-ja-general"


def test_malformed_organisation_settings_fail_the_call_with_a_reason(fake: FakeAmiVoice) -> None:
    with pytest.raises(AmiVoiceConfigError) as err:
        engine(fake).transcribe(operator_channel(), "ja-JP", TranscribeOptions(engine_settings={"engine_ja": "general"}))
    assert err.value.permanent and "engine_ja" in str(err.value) and "-a-general" in str(err.value)
    assert fake.requests == []


def test_unknown_language_is_permanent(fake: FakeAmiVoice) -> None:
    with pytest.raises(PermanentTranscriptionError, match="fr-FR"):
        engine(fake).transcribe(operator_channel(), "fr-FR")


# ---- result codes -----------------------------------------------------------------------------


def test_sound_nobody_recognises_is_code_o_an_empty_channel_not_a_failure(fake: FakeAmiVoice) -> None:
    mumble = voice_track(5.0, [(1.0, 2.5)], 1500.0)  # no voice at 1500 Hz: rejected, low confidence
    result = engine(fake).transcribe(mumble, "ja-JP")
    assert fake.requests[0].path == "/v1/nolog/recognize"
    assert result.segments == [] and result.model == "-a-general"


def test_a_quiet_line_gives_an_empty_channel(fake: FakeAmiVoice) -> None:
    hiss = voice_track(5.0, [], OPERATOR_HZ, noise=0.003)
    assert engine(fake).transcribe(hiss, "ja-JP").segments == []
    assert len(fake.requests) == 1


def test_digital_silence_sends_nothing(fake: FakeAmiVoice) -> None:
    assert engine(fake).transcribe(np.zeros(16000, np.float32), "ja-JP").segments == []
    assert engine(fake).transcribe(np.zeros(0, np.float32), "ja-JP").segments == []
    assert fake.requests == []


def test_bad_appkey_is_permanent_with_a_message_an_admin_understands(fake: FakeAmiVoice,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = engine(fake, appkey="ak-WRONG-000000000000")
    with pytest.raises(PermanentTranscriptionError) as err:
        bad.transcribe(operator_channel(), "ja-JP")
    text = str(err.value)
    assert "APPKEY" in text and "CALLSIGHT_AMIVOICE_APPKEY" in text and "received illegal service authorization" in text
    assert "ak-WRONG" not in text + caplog.text + "".join(traceback.format_exception(err.value))


def test_bad_appkey_on_an_async_job_is_permanent(fake: FakeAmiVoice) -> None:
    with pytest.raises(PermanentTranscriptionError, match="APPKEY"):
        engine(fake, appkey="ak-WRONG-000000000000", sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP")


@pytest.mark.parametrize("code", [">", "+", "%"])
def test_documented_client_errors_are_permanent(fake: FakeAmiVoice, code: str) -> None:
    fake.reply_next({"results": [{"tokens": [], "tags": [], "rulename": "", "text": ""}], "text": "",
                     "code": code, "message": "received illegal something"})
    with pytest.raises(PermanentTranscriptionError) as err:
        engine(fake).transcribe(operator_channel(), "ja-JP")
    assert f"code {code!r}" in str(err.value) and "engine names" in str(err.value)


@pytest.mark.parametrize("code", ["!", "?", "#", "Z"])
def test_other_codes_are_logged_and_retried(fake: FakeAmiVoice, code: str, caplog: pytest.LogCaptureFixture) -> None:
    fake.reply_next({"results": [], "text": "", "code": code, "message": "recognizer server trouble"})
    with pytest.raises(TransientTranscriptionError, match="retried"):
        engine(fake).transcribe(operator_channel(), "ja-JP")
    assert f"code {code!r}" in caplog.text


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_http_overload_and_server_errors_are_transient(fake: FakeAmiVoice, status: int) -> None:
    fake.fail_next(status)
    with pytest.raises(TransientTranscriptionError, match=f"HTTP {status}"):
        engine(fake).transcribe(operator_channel(), "ja-JP")


def test_a_wrong_url_is_permanent(fake: FakeAmiVoice) -> None:
    with pytest.raises(PermanentTranscriptionError, match="HTTP 404"):
        engine(fake, sync_base_url=fake.base_url + "/nope").transcribe(operator_channel(), "ja-JP")


def test_unreachable_service_and_timeouts_are_transient(fake: FakeAmiVoice) -> None:
    with pytest.raises(TransientTranscriptionError, match="connection failed"):
        engine(fake, sync_base_url="http://127.0.0.1:9/v1").transcribe(operator_channel(), "ja-JP")
    fake.delay_next(2.0)
    with pytest.raises(TransientTranscriptionError, match="timed out"):
        engine(fake, read_timeout_s=0.5).transcribe(operator_channel(), "ja-JP")


def test_a_body_that_is_not_json_is_transient(fake: FakeAmiVoice) -> None:
    fake.fail_next(200)
    with pytest.raises(TransientTranscriptionError, match="not JSON"):
        engine(fake).transcribe(operator_channel(), "ja-JP")


# ---- asynchronous: long audio -----------------------------------------------------------


def test_long_audio_goes_to_async_v2_with_a_batch_engine_and_no_logging(fake: FakeAmiVoice) -> None:
    result = engine(fake, sync_max_duration_s=5.0).transcribe(operator_channel(), "ja-JP")
    create = fake.created_jobs()
    assert len(create) == 1 and create[0].part_names == ["u", "d", "a"]
    assert create[0].options == {"grammarFileNames": "-a2b-ja-general", "loggingOptOut": "True"}
    assert "compatibleWithSync" not in create[0].options
    assert create[0].decoded.codec == "flac"  # type: ignore[union-attr]  # lossless, half the bytes of PCM
    polls = fake.polls()
    assert polls and all(p.headers["authorization"] == f"Bearer {KEY}" for p in polls)
    # one segment per utterance, as AmiVoice grouped them
    assert [s.text for s in result.segments] == ["お電話ありがとうございます。", "コールサイトの佐藤です。",
                                                 "ご用件をどうぞ。"]
    for seg, (a, b) in zip(result.segments, OPERATOR_BURSTS, strict=True):
        assert seg.start == pytest.approx(a, abs=0.05) and seg.end == pytest.approx(b, abs=0.05)
    assert result.model == "-a2b-ja-general"


def test_async_english_uses_the_multilingual_batch_engine(fake: FakeAmiVoice) -> None:
    audio = voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ)
    result = engine(fake, sync_max_duration_s=1.0).transcribe(audio, "en-US", TranscribeOptions(source_sample_rate=8000))
    job = fake.created_jobs()[0]
    assert job.options["grammarFileNames"] == "-a2b-multi-general"
    assert (job.decoded.codec, job.decoded.rate) == ("pcm_mulaw", 8000)  # type: ignore[union-attr]  # the fake decoded this audio
    assert [s.text for s in result.segments] == ["Hello, my router is broken.", "Thanks!"]


def test_async_with_logging_allowed_sends_no_opt_out(fake: FakeAmiVoice) -> None:
    engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP",
                                                     TranscribeOptions(engine_settings={"allow_logging": True}))
    assert "loggingOptOut" not in fake.created_jobs()[0].options


def test_audio_over_the_sync_size_limit_goes_async(fake: FakeAmiVoice) -> None:
    engine(fake, sync_max_bytes=10_000).transcribe(operator_channel(), "ja-JP")
    assert len(fake.created_jobs()) == 1 and not [r for r in fake.requests if "recognize" in r.path]


def test_async_silent_channel_job_ends_in_code_o_and_gives_an_empty_channel(fake: FakeAmiVoice) -> None:
    hiss = voice_track(8.0, [], OPERATOR_HZ, noise=0.003)
    jobs = MemoryJobs()
    result = engine(fake, sync_max_duration_s=1.0).transcribe(hiss, "ja-JP", TranscribeOptions(job_store=jobs))
    assert result.segments == [] and len(fake.created_jobs()) == 1


def test_async_job_failing_at_amivoice_is_retried_with_a_new_job(fake: FakeAmiVoice) -> None:
    fake.job_errors.append("ERROR: Failed to transcribe in recognition process - amineth_result=0, "
                           "amineth_code='!', amineth_message='failed to connect to recognizer server'")
    jobs = MemoryJobs()
    ami = engine(fake, sync_max_duration_s=1.0)
    with pytest.raises(TransientTranscriptionError, match="retried"):
        ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    assert jobs.jobs == {}  # the failed job is forgotten: the next attempt submits again
    result = ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    assert len(fake.created_jobs()) == 2 and len(result.segments) == 3


def test_async_job_with_a_client_error_is_permanent(fake: FakeAmiVoice) -> None:
    fake.job_errors.append("ERROR: Failed to transcribe in recognition process - amineth_result=0, "
                           "amineth_code='+', amineth_message='received unsupported audio format'")
    with pytest.raises(PermanentTranscriptionError, match="code '\\+'"):
        engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP")


def test_async_bad_key_on_poll_is_permanent(fake: FakeAmiVoice) -> None:
    fake.processing_s = 1.0
    ami = engine(fake, sync_max_duration_s=1.0)
    threading.Timer(0.3, lambda: fake.appkeys.clear()).start()  # the key is revoked while the job runs
    with pytest.raises(PermanentTranscriptionError, match="APPKEY"):
        ami.transcribe(operator_channel(), "ja-JP")


def test_failed_polls_are_tolerated(fake: FakeAmiVoice) -> None:
    fake.processing_s = 0.5
    fake.fail_next(503, path="/v2/recognitions/", times=3)
    result = engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP")
    assert len(result.segments) == 3 and len(fake.created_jobs()) == 1


def test_undocumented_status_is_waited_on(fake: FakeAmiVoice, caplog: pytest.LogCaptureFixture) -> None:
    fake.processing_s = 0.5
    fake.reply_next({"status": "reticulating", "session_id": "x"}, path="/v2/recognitions/")
    result = engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP")
    assert len(result.segments) == 3 and "reticulating" in caplog.text


# ---- long jobs: resume instead of resubmitting -----------------------------------------------


def test_interrupted_job_is_resumed_by_the_next_attempt_without_a_second_submission(fake: FakeAmiVoice) -> None:
    fake.processing_s = 2.0
    jobs = MemoryJobs()
    impatient = engine(fake, sync_max_duration_s=1.0, wait_base_s=0.3, wait_per_audio_s=0.01)
    with pytest.raises(TransientTranscriptionError, match="resumes it"):
        impatient.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    (session_id,) = jobs.jobs.values()
    # a new worker process: a new engine, the same call row
    result = engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP",
                                                              TranscribeOptions(job_store=jobs))
    assert len(fake.created_jobs()) == 1 and jobs.saves == 1
    assert len(fake.polls(session_id)) >= 2 and len(result.segments) == 3


def test_a_job_amivoice_no_longer_knows_is_submitted_again(fake: FakeAmiVoice) -> None:
    jobs = MemoryJobs()
    ami = engine(fake, sync_max_duration_s=1.0)
    ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    fake.jobs.clear()  # expired at AmiVoice
    result = ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    assert len(fake.created_jobs()) == 2 and len(result.segments) == 3


def test_a_stored_job_refused_after_an_appkey_rotation_is_submitted_again(fake: FakeAmiVoice) -> None:
    jobs = MemoryJobs()
    ami = engine(fake, sync_max_duration_s=1.0)
    ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    fake.reply_next({"code": "-", "message": "received illegal service authorization"}, status=401,
                    path="/v2/recognitions/")
    result = ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    assert len(fake.created_jobs()) == 2 and len(result.segments) == 3


def test_different_audio_or_options_never_resume_anothers_job(fake: FakeAmiVoice) -> None:
    jobs = MemoryJobs()
    ami = engine(fake, sync_max_duration_s=1.0)
    ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs))
    other = voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ)
    result = ami.transcribe(other, "ja-JP", TranscribeOptions(job_store=jobs))
    ami.transcribe(operator_channel(), "ja-JP", TranscribeOptions(job_store=jobs, engine_settings={"allow_logging": True}))
    assert len(fake.created_jobs()) == 3 and len(jobs.jobs) == 3
    assert result.segments[0].words[0].text == "Hello,"


def test_the_wait_for_a_job_grows_with_the_audio(fake: FakeAmiVoice) -> None:
    settings = AmiVoiceSettings.from_env({"CALLSIGHT_AMIVOICE_APPKEY": KEY})
    assert settings.max_wait_s(4 * 3600) - settings.max_wait_s(60) == pytest.approx((4 * 3600 - 60) * 1.0)
    fake.processing_s = lambda audio_s: audio_s * 0.1  # 0.8 s for 8 s of audio
    waits_by_length = engine(fake, sync_max_duration_s=1.0, wait_base_s=0.2, wait_per_audio_s=0.2)
    assert len(waits_by_length.transcribe(operator_channel(), "ja-JP").segments) == 3
    fixed = engine(fake, sync_max_duration_s=1.0, wait_base_s=0.2, wait_per_audio_s=0.001)
    with pytest.raises(TransientTranscriptionError, match="still"):
        fixed.transcribe(operator_channel(), "ja-JP")


# ---- vocabulary -------------------------------------------------------------------------------

VOCABULARY = (VocabularyTerm("Callsight", "こーるさいと"), VocabularyTerm("光回線 プラス", "ヒカリカイセンプラス"),
              VocabularyTerm("A|B", "えーびー"), VocabularyTerm("Zoom", "zoom"), VocabularyTerm("佐藤", ""))


def test_vocabulary_goes_as_documented_profile_words_and_changes_the_result(fake: FakeAmiVoice) -> None:
    result = engine(fake).transcribe(operator_channel(), "ja-JP", TranscribeOptions(vocabulary=VOCABULARY))
    options = fake.requests[0].options
    assert options["profileWords"] == "Callsight こーるさいと|光回線_プラス ヒカリカイセンプラス"
    assert "Callsight" in words_of(result) and "コールサイト" not in words_of(result)


def test_vocabulary_is_not_sent_with_english_calls(fake: FakeAmiVoice) -> None:
    engine(fake).transcribe(voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ), "en-US",
                            TranscribeOptions(vocabulary=VOCABULARY))
    assert "profileWords" not in fake.requests[0].options


def test_vocabulary_is_sent_per_engine_on_async_too(fake: FakeAmiVoice) -> None:
    result = engine(fake, sync_max_duration_s=1.0).transcribe(operator_channel(), "ja-JP",
                                                              TranscribeOptions(vocabulary=VOCABULARY))
    assert fake.created_jobs()[0].options["profileWords"].startswith("Callsight こーるさいと")
    assert result.segments[1].words[0].text == "Callsight"


# ---- secrets --------------------------------------------------------------------------------


def test_appkey_never_shows_in_reprs_logs_or_errors(fake: FakeAmiVoice, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ami = engine(fake, sync_max_duration_s=1.0)
    assert KEY not in repr(ami) + repr(ami.settings)
    ami.transcribe(operator_channel(), "ja-JP")
    fake.reply_next({"code": "!", "message": f"echo {KEY}"})
    with pytest.raises(TransientTranscriptionError) as err:
        engine(fake).transcribe(operator_channel(), "ja-JP")
    assert KEY not in caplog.text + "".join(traceback.format_exception(err.value))


def test_settings_from_the_environment() -> None:
    with pytest.raises(AmiVoiceConfigError, match="CALLSIGHT_AMIVOICE_APPKEY"):
        AmiVoiceSettings.from_env({})
    s = AmiVoiceSettings.from_env({"CALLSIGHT_AMIVOICE_APPKEY": KEY, "CALLSIGHT_AMIVOICE_ENGINE_JA": "-a2-ja-general",
                                   "CALLSIGHT_AMIVOICE_D_OPTIONS": "keepFillerToken=1",
                                   "CALLSIGHT_AMIVOICE_8K_ENGINES": "-a-bizfinance"})
    assert (s.engine_ja, s.batch_engine_ja, s.allow_logging) == ("-a2-ja-general", "-a2b-ja-general", False)
    assert s.async_url.endswith("/v2/recognitions") and s.d_options == (("keepFillerToken", "1"),)
    for bad in ({"CALLSIGHT_AMIVOICE_D_OPTIONS": "loggingOptOut=False"}, {"CALLSIGHT_AMIVOICE_ENGINE_EN": "english"},
                {"CALLSIGHT_AMIVOICE_TELEPHONE_CODEC": "opus"}, {"CALLSIGHT_AMIVOICE_WAIT_BASE_S": "-1"}):
        with pytest.raises(AmiVoiceConfigError):
            AmiVoiceSettings.from_env({"CALLSIGHT_AMIVOICE_APPKEY": KEY, **bad})


def test_extra_options_are_sent(fake: FakeAmiVoice) -> None:
    engine(fake, d_options=(("keepFillerToken", "1"),)).transcribe(operator_channel(), "ja-JP")
    assert fake.requests[0].options["keepFillerToken"] == "1"


def test_two_channels_in_parallel_threads(fake: FakeAmiVoice) -> None:
    """One engine serves several jobs' channels at once (a worker may run threads)."""
    ami = engine(fake, sync_max_duration_s=1.0)
    out: dict[str, Any] = {}

    def run(name: str, audio: np.ndarray, lang: str) -> None:
        out[name] = ami.transcribe(audio, lang, TranscribeOptions(job_store=MemoryJobs()))

    threads = [threading.Thread(target=run, args=("op", operator_channel(), "ja-JP")),
               threading.Thread(target=run, args=("cu", voice_track(6.0, CUSTOMER_BURSTS, CUSTOMER_HZ), "en-US"))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert time.monotonic() - t0 < 15
    assert len(out["op"].segments) == 3 and len(out["cu"].segments) == 2
