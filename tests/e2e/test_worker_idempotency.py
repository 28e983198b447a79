"""A job delivered twice gives one result; a stale duplicate never moves a call backwards."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from callsight.enqueue import enqueue_call
from callsight.jobqueue import JobQueue
from tests import audio
from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e


def duplicates_handled(stack: Any) -> float:
    """How many job messages the workers recognised as duplicates and dropped (their metric)."""
    total = 0.0
    for name, r in stack.running.items():
        if name.startswith("worker-"):
            text = requests.get(f"http://127.0.0.1:{r.spec.env['OPS_PORT']}/metrics", timeout=5).text
            total += sum(float(line.split()[-1]) for line in text.splitlines()
                         if line.startswith('callsight_worker_jobs_total{outcome="duplicate"}'))
    return total


def test_duplicate_job_after_done_changes_nothing(api: Api, admin: Any, sqs: Any, stack: Any, tmp_path: Path) -> None:
    call_id = unique("twice")
    api.upload(audio.encode(tmp_path / "t.wav", [audio.speech("selfish")], "wav"), call_id=call_id, language="en-US")
    done = api.wait_final(call_id)
    assert done["status"] == "Done"
    record = admin.calls.get("demo", call_id)
    queue = JobQueue(sqs, stack.env["CALLSIGHT_SQS_QUEUE_URL"])
    before = duplicates_handled(stack)
    enqueue_call(queue, record)
    enqueue_call(queue, record)
    # no sleep: wait until the workers have taken both messages and said what they did with them
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and duplicates_handled(stack) < before + 2:
        time.sleep(0.2)
    assert duplicates_handled(stack) == before + 2
    depth = queue.depth()
    assert depth["ApproximateNumberOfMessages"] == 0 and depth["ApproximateNumberOfMessagesNotVisible"] == 0, depth
    after = api.call(call_id)
    assert after["status"] == "Done" and after["updated_at"] == done["updated_at"]
    assert after["attempts"] == done["attempts"] == 1


def test_outbox_enqueues_a_call_whose_job_never_reached_sqs(api: Api, admin: Any, stack: Any, tmp_path: Path) -> None:
    """A call row without a job (SQS was down at upload) is picked up by the reconciler."""
    import datetime as dt

    from callsight.storage import audio_key

    path = audio.encode(tmp_path / "o.wav", [audio.speech("selfish")], "wav")
    from callsight.aws import clients_from_env

    s3, _ = clients_from_env(stack.env)
    uid = __import__("uuid").uuid4().hex
    key = audio_key("demo", uid)
    s3.put_object(Bucket="callsight", Key=key, Body=path.read_bytes())
    call_id = unique("outbox")
    admin.outbox.create(uid=uid, org_id="demo", call_id=call_id, language="en-US", call_date=dt.date.today(),
                       audio_format="wav", size_bytes=path.stat().st_size, audio_key=key)
    assert api.wait_final(call_id, timeout_s=120)["status"] == "Done"
