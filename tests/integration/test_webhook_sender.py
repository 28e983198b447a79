"""One delivery attempt over a real socket: the request forgery guard at connection time,
what counts as delivered, redirects not followed, a timeout reported as such."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callsight.webhook_targets import parse_networks
from callsight_webhooks.sender import post
from tests.lifecycle import Receiver

pytestmark = pytest.mark.integration
LOOPBACK = parse_networks("127.0.0.0/8")


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_loopback_is_refused_unless_the_operator_allows_it(receiver: Receiver) -> None:
    refused = post(receiver.url, b"{}", {}, (), timeout_s=2)
    assert refused.status_code is None and not refused.delivered
    assert refused.error is not None and "loopback" in refused.error
    assert not receiver.received, "nothing was sent"
    sent = post(receiver.url, b'{"a": 1}', {"X-Callsight-Event": "call.done"}, LOOPBACK, timeout_s=2)
    assert sent.delivered and sent.status_code == 200 and sent.latency_ms >= 0
    got = receiver.received[0]
    assert got.body == b'{"a": 1}' and got.headers["X-Callsight-Event"] == "call.done"
    assert got.headers["Host"] == receiver.url.split("/")[2] and got.path == "/hooks/callsight"


@pytest.mark.parametrize("status", [301, 302, 400, 410, 500, 503])
def test_anything_but_2xx_is_not_delivered(receiver: Receiver, status: int) -> None:
    receiver.answers = [status]
    attempt = post(receiver.url, b"{}", {}, LOOPBACK, timeout_s=2)
    assert not attempt.delivered and attempt.status_code == status and attempt.error == f"HTTP {status}"
    assert len(receiver.received) == 1, "a redirect is not followed"


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(receiver: Receiver) -> None:
    receiver.delay_s = 2.0
    attempt = post(receiver.url, b"{}", {}, LOOPBACK, timeout_s=0.5)
    assert attempt.status_code is None and attempt.error is not None and "Timeout" in attempt.error
    assert 400 <= attempt.latency_ms < 2000


def test_nothing_listening_is_a_connection_error() -> None:
    attempt = post("http://127.0.0.1:9/hook", b"{}", {}, LOOPBACK, timeout_s=1)
    assert attempt.status_code is None and "could not connect" in (attempt.error or "")
