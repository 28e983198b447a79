"""CALLSIGHT_MAX_JOB_SECONDS is enforced: a job past it fails its call with that reason,
is not retried, and makes the worker process end (its supervisor starts a fresh one)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from callsight.enqueue import job_for
from tests import audio
from tests.conftest import unique

pytestmark = pytest.mark.e2e


def test_a_job_past_the_limit_fails_its_call_and_ends_the_worker(stack: Any, admin: Any, s3: Any, sqs: Any,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    from callsight_stack.servers import free_port
    from callsight_worker.settings import WorkerSettings
    from callsight_worker.wiring import build_worker

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, stack.env[name])
    # a recording that takes Whisper longer than one second, on a private queue
    speech = np.concatenate([audio.speech(n) for n in audio.SPEECH] * 2)
    path = audio.encode(tmp_path / "long.wav", [speech], "wav")
    uid, call_id = str(uuid.uuid4()), unique("overrun")
    key = f"orgs/demo/calls/{uid}/audio"
    s3.put_object(Bucket=stack.env["CALLSIGHT_S3_BUCKET"], Key=key, Body=path.read_bytes())
    record = admin.outbox.create(uid=uid, org_id="demo", call_id=call_id, language="en-US", audio_format="wav",
                                 size_bytes=path.stat().st_size, audio_key=key, call_date=time.strftime("%Y-%m-%d"))
    admin.outbox.mark_enqueued(uid)  # the stack's reconcilers leave it to this test
    queue_url = sqs.create_queue(QueueName=unique("limit"))["QueueUrl"]
    env = {**stack.env, "CALLSIGHT_SQS_QUEUE_URL": queue_url, "OPS_PORT": str(free_port()),
           "CALLSIGHT_WHISPER_THREADS": "1", "CALLSIGHT_MAX_JOB_SECONDS": "1",
           "CALLSIGHT_WORKER_ID": f"limit-worker-{os.getpid()}"}
    worker, _ = build_worker(WorkerSettings.from_env(env))
    worker.engines.get()  # the model is loaded before the job starts, as the entry point does
    worker.queue.send(job_for(record))
    received = worker.queue.receive(wait_s=10)
    assert received is not None
    started = time.monotonic()
    worker.handle(received)
    call = admin.calls.get("demo", call_id)
    assert call.status == "Failed", call
    assert "longer than the limit of 1 s (CALLSIGHT_MAX_JOB_SECONDS)" in call.error
    assert worker.exit_code != 0 and worker.abandon.is_set() and worker.stopping.is_set()
    # not retried: the job is gone from the queue
    assert worker.queue.depth()["ApproximateNumberOfMessages"] + worker.queue.depth()[
        "ApproximateNumberOfMessagesNotVisible"] == 0
    assert time.monotonic() - started > 1.0
