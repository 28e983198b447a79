"""Status you can watch: a dashboard's live stream shows every call go Queued → Processing
(with rising progress) → Done, in order, for a burst of uploads taken by two workers.

The viewer is what a supervisor's browser is: a signed-in session reading the gateway's
Server-Sent Events (/web/events), fed through Redis → the status service's WatchCalls →
the gateway's one stream per organisation.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import audio
from tests.conftest import Api, unique
from tests.web_login import post_login

pytestmark = pytest.mark.e2e
BURST = 20


class SseViewer:
    """A signed-in viewer of /web/events, collecting call events (and heartbeats) as they come."""

    def __init__(self, stack: Any) -> None:
        url = stack.env["CALLSIGHT_URL"]
        self.session = requests.Session()
        r = post_login(self.session, url, stack.env["CALLSIGHT_DEMO_USER"], stack.env["CALLSIGHT_DEMO_PASSWORD"])
        assert r.status_code in (302, 303), r.text
        self.response = self.session.get(f"{url}/web/events", stream=True, timeout=(5, 60))
        assert self.response.status_code == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        self.events: list[dict[str, Any]] = []
        self.comments = 0
        self.opened = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(10), "the event stream sent nothing"

    def _read(self) -> None:
        kind, data = "", ""
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                line = raw if isinstance(raw, str) else raw.decode()
                self.opened.set()
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "":
                    if kind == "call":
                        self.events.append(json.loads(data))
                    kind, data = "", ""
        except (requests.RequestException, AttributeError):
            pass  # closed by the test (requests drops the raw stream under the reader)

    def of(self, call_id: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["call_id"] == call_id]

    def close(self) -> None:
        self.response.close()


def assert_watched_in_order(events: list[dict[str, Any]], call_id: str) -> None:
    statuses = [e["status"] for e in events]
    assert statuses, f"{call_id}: no events"
    assert statuses[0] == "Queued", (call_id, statuses)
    assert statuses[-1] == "Done" and statuses.count("Done") == 1, (call_id, statuses)
    processing = [e for e in events if e["status"] == "Processing"]
    assert processing, f"{call_id}: Processing was never shown: {statuses}"
    first, last = statuses.index("Processing"), len(statuses) - 1 - statuses[::-1].index("Processing")
    assert set(statuses[:first]) == {"Queued"} and set(statuses[first:last + 1]) == {"Processing"}, (call_id, statuses)
    fractions = [e["progress"]["fraction"] for e in processing]
    assert all(e["progress"] is not None and e["progress"]["step"] for e in processing), processing
    assert fractions == sorted(fractions), f"{call_id}: progress went back: {fractions}"
    assert fractions[-1] > fractions[0], f"{call_id}: progress never rose: {fractions}"
    assert all(e["progress"] is None for e in events if e["status"] != "Processing")


def test_a_viewer_sees_every_call_of_a_burst_go_queued_processing_done_in_order(
        stack: Any, api: Api, tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "burst.wav", [audio.speech("dashwood")], "wav")
    viewer = SseViewer(stack)
    call_ids = [unique(f"burst{i:02d}") for i in range(BURST)]
    try:
        with ThreadPoolExecutor(8) as pool:  # a burst: the workers take jobs while uploads still arrive
            answers = list(pool.map(lambda c: api.upload(path, call_id=c, language="en-US"), call_ids))
        assert [a.status_code for a in answers] == [201] * BURST, [a.text for a in answers if a.status_code != 201]
        for call_id in call_ids:
            assert api.wait_final(call_id, timeout_s=600)["status"] == "Done"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(
                any(e["status"] == "Done" for e in viewer.of(c)) for c in call_ids):
            time.sleep(0.2)
        for call_id in call_ids:
            assert_watched_in_order(viewer.of(call_id), call_id)
        workers = {api.call(c)["attempts"] for c in call_ids}
        assert workers == {1}
    finally:
        viewer.close()


def test_the_api_shows_progress_and_an_eta_while_processing(api: Api, tmp_path: Path) -> None:
    clips = [audio.speech(n) for n in ("dashwood", "selfish", "dashwood")]
    path = audio.encode(tmp_path / "long.wav", [__import__("numpy").concatenate(clips)], "wav")
    call_id = unique("progress")
    assert api.upload(path, call_id=call_id, language="en-US").status_code == 201
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        call = api.call(call_id)
        seen.append(call)
        if call["status"] in ("Done", "Failed"):
            break
        time.sleep(0.2)
    processing = [c["progress"] for c in seen if c["status"] == "Processing"]
    assert processing, [c["status"] for c in seen]
    assert all(p is not None for p in processing)
    fractions = [p["fraction"] for p in processing]
    assert fractions == sorted(fractions) and fractions[-1] > fractions[0], fractions
    # the worker measured its speed during the transcription: a finish time in the future
    measured = [p for p in processing if p["step"] == "transcribe" and p["eta"] is not None]
    assert measured, processing
    assert all(p["eta_s"] >= 0 and p["eta_s"] < 600 for p in measured)
    assert seen[-1]["status"] == "Done" and seen[-1]["progress"] is None


def test_the_event_stream_sends_heartbeats_when_nothing_happens(stack: Any) -> None:
    viewer = SseViewer(stack)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and viewer.comments < 1:
            time.sleep(0.2)
        assert viewer.comments >= 1, "no heartbeat within 40 s"
    finally:
        viewer.close()


def live_viewers(stack: Any) -> float:
    text = requests.get(f"{stack.env['CALLSIGHT_GATEWAY_OPS_URL']}/metrics", timeout=5).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("callsight_gateway_live_viewers"))


def test_a_viewer_that_goes_away_is_noticed_and_let_go(stack: Any) -> None:
    # viewers closed by earlier tests are let go within two heartbeats (2 s each: the first write
    # to a closed peer can still succeed): wait until the count holds still for 6 s
    before, settled_at = live_viewers(stack), time.monotonic()
    while time.monotonic() < settled_at + 30:
        time.sleep(6)
        now = live_viewers(stack)
        if now == before:
            break
        before = now
    viewers = [SseViewer(stack) for _ in range(3)]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and live_viewers(stack) < before + 3:
        time.sleep(0.2)
    assert live_viewers(stack) == before + 3
    for viewer in viewers:
        viewer.close()
    # the next heartbeat's write fails on the closed connection (the test stack beats every 2 s)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and live_viewers(stack) > before:
        time.sleep(0.3)
    assert live_viewers(stack) <= before  # all three let go (an older stray one may go too)
