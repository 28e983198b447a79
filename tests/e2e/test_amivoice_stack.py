"""Calls through the whole system with the AmiVoice engine: real worker processes, fake AmiVoice.

A stack of its own (its workers use AmiVoice, the shared stack's use Whisper), with a
fake AmiVoice that behaves like the documentation on loopback. The recordings are what
PBXs store: stereo G.711 mu-law at 8 kHz, operator left, customer right, of real human
speech (Allison's prompts and a LibriVox reader), because the worker keeps only words said
over a side's own speech: the fake tells the two voices apart by their pitch and answers
each utterance with the Japanese tokens the test registered for that voice.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from bench.calls import render, sources
from callsight_stack.stack import Stack
from tests.conftest import Api, unique
from tests.fakes.amivoice_server import FakeAmiVoice, Token

pytestmark = pytest.mark.e2e

KEY = "ak-e2e-5d1c0f7a9b"
OPERATOR = [[Token("お電話", "おでんわ"), Token("ありがとう", "ありがとう"), Token("ございます", "ございます"), Token("。")],
            [Token("ご用件", "ごようけん"), Token("を", "を"), Token("どうぞ", "どうぞ"), Token("。")],
            [Token("かしこまりました", "かしこまりました"), Token("。")]]
CUSTOMER = [[Token("ネット", "ねっと"), Token("が", "が"), Token("つながらない", "つながらない"), Token("です", "です"),
             Token("。")],
            [Token("はい", "はい"), Token("。")]]
# who says which real clip when (seconds): three operator utterances, two customer ones
OPERATOR_CLIPS = [(0.5, "one-moment-please"), (6.2, "queue-thankyou"), (12.2, "auth-thankyou")]
CUSTOMER_CLIPS = [(2.6, "sense_and_sensibility_01_austen_64kb-0880"), (8.3, "sense_and_sensibility_01_austen_64kb-0930")]
CALL_S = 14.0


def _track(clips: list[tuple[float, np.ndarray]], seconds: float = CALL_S) -> np.ndarray:
    track = np.zeros(int(seconds * 16000), np.float32)
    for start, samples in clips:
        a = int(start * 16000)
        track[a:a + samples.size] += samples[: track.size - a] * 0.5
    return track


def operator_track() -> np.ndarray:
    return _track([(t, sources.asterisk(name).samples) for t, name in OPERATOR_CLIPS])


def customer_track() -> np.ndarray:
    return _track([(t, sources.librivox(name).samples) for t, name in CUSTOMER_CLIPS])


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAmiVoice]:
    with FakeAmiVoice([KEY]) as server:
        server.real_voice(operator_track(), 16000, OPERATOR)
        server.real_voice(customer_track(), 16000, CUSTOMER)
        yield server


@pytest.fixture(scope="module")
def astack(fake: FakeAmiVoice) -> Iterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-amivoice-", dir="/tmp"))
    run_dir.chmod(0o755)
    stack = Stack(run_dir, workers=1, random_ports=True, env_overrides={
        "CALLSIGHT_ENGINE": "amivoice",
        "CALLSIGHT_AMIVOICE_APPKEY": KEY,
        "CALLSIGHT_AMIVOICE_SYNC_BASE_URL": fake.sync_base_url,
        "CALLSIGHT_AMIVOICE_ASYNC_URL": fake.async_url,
        "CALLSIGHT_AMIVOICE_SYNC_MAX_S": "5",  # these short calls take the long-audio (async) path
        "CALLSIGHT_AMIVOICE_POLL_INTERVAL_S": "0.5",
        "CALLSIGHT_VISIBILITY_TIMEOUT_S": "8",
        "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0",
    })
    try:
        stack.start()
    except Exception:
        for log in sorted((run_dir / "logs").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    stack.start_supervisor()
    yield stack
    stack.stop()
    if not os.environ.get("CALLSIGHT_KEEP_TEST_STACK"):
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def aapi(astack: Stack) -> Api:
    return Api(astack.env["CALLSIGHT_URL"], astack.env["CALLSIGHT_API_KEY"])


@pytest.fixture(scope="module")
def db(astack: Stack) -> Any:
    from callsight.db.engine import make_engine

    return make_engine(astack.env["CALLSIGHT_DATABASE_URL"], pool_size=1)


@pytest.fixture(autouse=True)
def fresh_fake(fake: FakeAmiVoice) -> Iterator[None]:
    fake.requests.clear()
    fake.processing_s = 0.3
    yield
    fake.appkeys = {KEY}


def pbx_recording(path: Path, customer: np.ndarray | None = None) -> Path:
    """Stereo G.711 mu-law at 8 kHz, as a PBX stores calls; line noise on both sides."""
    rng = np.random.default_rng(1)
    left = operator_track() + rng.standard_normal(int(CALL_S * 16000)).astype(np.float32) * 0.002
    right = (customer_track() if customer is None else customer) \
        + rng.standard_normal(int(CALL_S * 16000)).astype(np.float32) * 0.002
    return render.encode(path, [left, right], "ulaw", rate=8000)  # 16 kHz tracks, resampled by FFmpeg


def turns_of(api: Api, call_id: str) -> list[tuple[str, str]]:
    transcript = api.get(f"/api/calls/{call_id}/transcript").json()
    return [(t["speaker"], t["text"]) for t in transcript["turns"]]


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_channel_telephone_call_with_several_utterances_per_side(aapi: Api, fake: FakeAmiVoice,
                                                                     tmp_path: Path) -> None:
    call_id = unique("ami-call")
    assert aapi.upload(pbx_recording(tmp_path / "call.wav"), call_id=call_id, language="ja-JP").status_code == 201
    call = aapi.wait_final(call_id, timeout_s=120)
    assert call["status"] == "Done", call
    turns = turns_of(aapi, call_id)
    speakers = [s for s, _ in turns]
    assert speakers[0] == "operator" and speakers.count("customer") >= 2 and speakers.count("operator") >= 3
    said = " ".join(t for _, t in turns)
    for words in ("お電話ありがとうございます", "ネットがつながらないです", "ご用件をどうぞ", "かしこまりました"):
        assert words in said.replace(" ", ""), (words, turns)
    customer_text = "".join(t for s, t in turns if s == "customer")
    assert "お電話" not in customer_text and "つながらない" in customer_text
    jobs = fake.created_jobs()
    assert len(jobs) == 2
    for job in jobs:  # telephone audio as 8 kHz mu-law to the batch engine, no logging
        assert (job.decoded.codec, job.decoded.rate) == ("pcm_mulaw", 8000)  # type: ignore[union-attr]  # the fake decoded this audio
        assert job.options == {"grammarFileNames": "-a2b-ja-general", "loggingOptOut": "True"}


def test_silent_customer_channel_is_an_empty_side_not_a_failure(aapi: Api, tmp_path: Path) -> None:
    hiss = np.zeros(int(CALL_S * 16000), np.float32)
    call_id = unique("ami-silent")
    aapi.upload(pbx_recording(tmp_path / "quiet.wav", customer=hiss), call_id=call_id, language="ja-JP")
    call = aapi.wait_final(call_id, timeout_s=120)
    assert call["status"] == "Done", call
    turns = turns_of(aapi, call_id)
    assert {s for s, _ in turns} == {"operator"} and len(turns) >= 1


def test_worker_killed_mid_poll_resumes_the_same_amivoice_job(aapi: Api, astack: Stack, fake: FakeAmiVoice, db: Any,
                                                              tmp_path: Path) -> None:
    fake.processing_s = 12.0  # a long job: the worker is polling when it dies
    call_id = unique("ami-restart")
    aapi.upload(pbx_recording(tmp_path / "long.wav"), call_id=call_id, language="ja-JP")
    wait_for(lambda: len(fake.created_jobs()) == 1 and len(fake.polls()) >= 2, 60, "the first job to be polled")
    first_job = next(iter(s for s in list(fake.jobs) if fake.polls(s)))
    with db.connect() as conn:
        stored = conn.execute(text("SELECT engine_jobs FROM calls WHERE call_id = :c"), {"c": call_id}).scalar_one()
    assert [v["job_id"] for v in stored.values()] == [first_job]  # kept with the call before the worker died
    polls_before = len(fake.polls(first_job))
    os.kill(astack.pid("worker-1"), signal.SIGKILL)

    call = aapi.wait_final(call_id, timeout_s=150)
    assert call["status"] == "Done", call
    assert call["attempts"] == 2
    # the restarted worker polled the job it found on the call; the audio was submitted once per channel
    assert len(fake.polls(first_job)) > polls_before
    assert len(fake.created_jobs()) == 2
    said = "".join(t for _, t in turns_of(aapi, call_id))
    assert "お電話ありがとうございます" in said and "ネットがつながらない" in said
    with db.connect() as conn:
        assert conn.execute(text("SELECT engine_jobs FROM calls WHERE call_id = :c"), {"c": call_id}).scalar_one() == {}


def test_organisation_settings_choose_the_engine_and_allow_logging(aapi: Api, astack: Stack, fake: FakeAmiVoice,
                                                                  db: Any, tmp_path: Path) -> None:
    from callsight.db.orgs_repo import OrgRepository

    orgs = OrgRepository(db, [astack.env["CALLSIGHT_API_KEY_PEPPER"]])
    orgs.set_engine_settings("demo", "amivoice", {"batch_engine_ja": "-a2b-multi-general", "allow_logging": True})
    try:
        call_id = unique("ami-org")
        aapi.upload(pbx_recording(tmp_path / "o.wav"), call_id=call_id, language="ja-JP")
        assert aapi.wait_final(call_id, timeout_s=120)["status"] == "Done"
        assert [j.options for j in fake.created_jobs()] == [{"grammarFileNames": "-a2b-multi-general"}] * 2
    finally:
        orgs.set_engine_settings("demo", "amivoice", None)
    assert (orgs.get("demo").engine_settings or {}).get("amivoice") is None  # type: ignore[union-attr]  # the demo organisation exists


def test_bad_credentials_fail_the_call_at_once_with_a_reason_an_admin_can_act_on(aapi: Api, fake: FakeAmiVoice,
                                                                                tmp_path: Path) -> None:
    fake.appkeys = {"ak-some-other-key"}
    call_id = unique("ami-badkey")
    aapi.upload(pbx_recording(tmp_path / "k.wav"), call_id=call_id, language="ja-JP")
    call = aapi.wait_final(call_id, timeout_s=60)
    assert call["status"] == "Failed" and call["attempts"] == 1
    assert "APPKEY" in call["error"] and "CALLSIGHT_AMIVOICE_APPKEY" in call["error"]
    assert KEY not in call["error"]
    assert len(fake.created_jobs()) == 1  # not retried: the same key fails again
