"""Pure pieces of a call's life after Done: the webhook signature, the request forgery guard,
the retry schedule, the retention rules and the API key expiry."""

from __future__ import annotations

import datetime as dt
import ipaddress
import random

import pytest

from callsight import webhook_signing, webhook_targets
from callsight.retention import RetentionError, retention_from
from callsight.webhook_targets import UnsafeTarget, forbidden_reason, parse_networks, parse_url
from callsight_upload.core.errors import ApiError
from callsight_upload.core.specs import expiry
from callsight_webhooks.backoff import Backoff

pytestmark = pytest.mark.unit

LOOPBACK = parse_networks("127.0.0.0/8, ::1/128")


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body() -> None:
    # the value a receiver computes with any HMAC library (checked here against a fixed vector:
    # printf '%s' '{"id":"1"}' | openssl dgst -sha256 -hmac whsec_test)
    body = b'{"id":"1"}'
    got = webhook_signing.sign("whsec_test", body)
    assert got == "sha256=841126481502a825091fe9d533b097f1a059140f683a331c80d59fac0c6b4928"
    assert webhook_signing.verify("whsec_test", body, got)
    assert not webhook_signing.verify("whsec_test", body + b" ", got)
    assert not webhook_signing.verify("whsec_other", body, got)


def test_the_signature_matches_an_independent_hmac() -> None:
    import hashlib
    import hmac

    body = "{\"call\": {\"call_id\": \"通話-1\"}}".encode()
    assert webhook_signing.sign("whsec_k", body) == "sha256=" + hmac.new(b"whsec_k", body, hashlib.sha256).hexdigest()
    assert webhook_signing.new_secret() != webhook_signing.new_secret()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fd00::1",
                                     "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "198.18.0.1"])
def test_private_loopback_link_local_and_special_addresses_are_forbidden(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address), ()) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address), ()) is None


def test_networks_the_operator_allows_are_allowed_and_only_those() -> None:
    assert forbidden_reason(ipaddress.ip_address("127.0.0.1"), LOOPBACK) is None
    assert forbidden_reason(ipaddress.ip_address("::1"), LOOPBACK) is None
    assert forbidden_reason(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK) is None
    assert forbidden_reason(ipaddress.ip_address("10.0.0.1"), LOOPBACK) is not None
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not a network"):
        parse_networks("127.0.0.0/8,10.0.0.0/33")


def test_a_name_is_checked_on_every_address_it_resolves_to() -> None:
    with pytest.raises(UnsafeTarget, match="loopback"):
        webhook_targets.check("http://localhost:8080/hook", ())
    assert webhook_targets.check("http://localhost:8080/hook", LOOPBACK).port == 8080


@pytest.mark.parametrize(("url", "says"), [
    ("", "url is required"),
    ("gopher://x/", "http:// or https://"),
    ("file:///etc/passwd", "http:// or https://"),
    ("http://a b/", "spaces"),
    ("http://user:pw@example.com/", "user name or password"),
    ("http://example.com:99999/", "not a valid URL"),
    ("http:///x", "must name a host"),
    ("https://example.com/#x", "fragment"),
    ("https://example.com/" + "x" * 2001, "longer than 2000"),
])
def test_malformed_targets_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(UnsafeTarget) as caught:
        parse_url(url)
    assert says in str(caught.value)


def test_a_target_keeps_its_path_query_and_default_port() -> None:
    target = parse_url("https://crm.example.com/hooks/cs?tenant=7")
    assert (target.scheme, target.host, target.port, target.path) == ("https", "crm.example.com", 443,
                                                                      "/hooks/cs?tenant=7")
    assert parse_url("http://[::1]:81").path == "/" and parse_url("http://[::1]:81").host == "::1"


def test_retries_back_off_exponentially_up_to_a_cap_and_stop_after_the_window() -> None:
    backoff = Backoff(base_s=30, max_delay_s=3600, retry_for_s=24 * 3600)
    rng = random.Random(1)
    delays = [backoff.delay_s(n, rng) for n in range(1, 10)]
    for n, delay in enumerate(delays, 1):
        nominal = min(3600, 30 * 2 ** (n - 1))
        assert 0.9 * nominal <= delay <= 1.1 * nominal
    assert delays[-1] <= 3600 * 1.1
    made = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert backoff.next_attempt(made, 1, made) is not None
    assert backoff.next_attempt(made, 5, made + dt.timedelta(hours=23, minutes=59, seconds=50)) is None
    # about a day of attempts: 30 s doubling to an hour, then hourly
    at, attempts = made, 0
    while (nxt := backoff.next_attempt(made, attempts + 1, at, rng)) is not None:
        at, attempts = nxt, attempts + 1
    assert 25 <= attempts <= 35 and at - made <= dt.timedelta(hours=24)


@pytest.mark.parametrize(("audio", "transcript", "ok"), [
    (0, 0, True), (30, 0, True), (30, 365, True), (365, 365, True), (1, 2, True),
    (0, 30, False), (31, 30, False), (-1, 0, False), (0, 36501, False), ("7", "14", True), ("x", 0, False),
    (1.5, 0, False), (True, 0, False), (None, 0, False),
])
def test_retention_rules(audio: object, transcript: object, ok: bool) -> None:
    if ok:
        kept = retention_from(audio, transcript)
        assert (kept.audio_days, kept.transcript_days) == (int(str(audio)), int(str(transcript)))
    else:
        with pytest.raises(RetentionError):
            retention_from(audio, transcript)


def test_a_key_expiry_is_a_future_moment_within_ten_years() -> None:
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    assert expiry(None, now) is None and expiry("", now) is None
    assert expiry("2026-05-02", now) == dt.datetime(2026, 5, 3, tzinfo=dt.UTC)  # through that day
    assert expiry("2026-05-02T00:00:00Z", now) == dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    assert expiry("2026-05-02T09:00:00+09:00", now) == dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    assert expiry("2026-05-02T00:00:00", now) == dt.datetime(2026, 5, 2, tzinfo=dt.UTC)  # no offset: UTC
    for bad in ("2026-05-01T11:00:00Z", "2026-05-01T15:00:00+09:00", "2037-01-01", "soon", 5):
        with pytest.raises(ApiError):
            expiry(bad, now)
