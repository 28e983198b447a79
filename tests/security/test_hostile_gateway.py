"""The attacks of issue 18 that hit the public gateway, replayed against the real stack:
each test is one row of that table and failed on the code before the fix."""

from __future__ import annotations

import json
import os
import re
import struct
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from callsight.db.users_repo import UserRepository
from tests.conftest import Api, count_audio_objects, unique
from tests.security.hostile import closed_by_server, connect, own_gateway, read_response, request_head
from tests.web_login import login_form, post_login

pytestmark = pytest.mark.integration
GOOD_PASSWORD = "amber lantern quietly folds"


@pytest.fixture()
def person(admin: Any) -> dict[str, str]:
    email = f"{unique('hostile')}@demo.callsight.local"
    UserRepository(admin.engine).create("demo", email, "Hostile Test", GOOD_PASSWORD, role="admin", locale="en")
    return {"email": email}


def signed_in(url: str, email: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    assert post_login(s, url, email, GOOD_PASSWORD).status_code == 302
    page = s.get(f"{url}/settings", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token, page[:300]
    return s, token.group(1)


# --- row 6: limits at the edge, 413 closes the connection ------------------------------------


def test_an_upload_declaring_more_than_500_mb_is_refused_before_its_body_and_closed(api: Api) -> None:
    sock = connect(api.url)
    try:
        head = request_head("POST", "/api/ingest/upload", "x", {
            "X-API-Key": api.key, "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": "501000000"})  # 501 MB: over 500,000,000 bytes and its form overhead
        sock.sendall(head + b"--b\r\n")
        started = time.monotonic()
        status, headers, _ = read_response(sock, timeout=5)
        assert status == 413 and time.monotonic() - started < 3
        assert headers.get("connection") == "close"
        assert closed_by_server(sock, timeout=3)
    finally:
        sock.close()


def test_a_json_body_over_1_mb_is_413_and_closes_the_connection(api: Api) -> None:
    body = json.dumps({"sections": [{"title": "x" * 3_000_000}]}).encode()
    sock = connect(api.url)
    try:
        sock.sendall(request_head("PUT", "/api/settings/qa-form", "x", {
            "X-API-Key": api.key, "Content-Type": "application/json", "Content-Length": str(len(body))}))
        sock.sendall(body[:65536])  # the rest is never sent: the gateway must not wait for it
        status, headers, _ = read_response(sock, timeout=5)
        assert status == 413 and headers.get("connection") == "close"
        assert closed_by_server(sock, timeout=3)
    finally:
        sock.close()


def test_json_nested_5000_deep_is_400_not_500(api: Api) -> None:
    deep = "[" * 5000 + "]" * 5000
    r = requests.put(f"{api.url}/api/settings/qa-form", data=deep, timeout=10,
                     headers={"X-API-Key": api.key, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] == "json_too_deep"
    nul = requests.put(f"{api.url}/api/settings/qa-form", data='{"default": "\\u0000"}', timeout=10,
                       headers={"X-API-Key": api.key, "Content-Type": "application/json"})
    assert nul.status_code == 400


# --- row 3: audio admission --------------------------------------------------------------------


def wav(channels: int, rate: int, bits: int, data: bytes, declared_bytes: int | None = None) -> bytes:
    block = channels * bits // 8
    size = len(data) if declared_bytes is None else declared_bytes
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
            + b"data" + struct.pack("<I", size) + data)


@pytest.mark.parametrize(("name", "content", "error"), [
    ("1 Hz, 8-bit stereo, 4 h in 29 KB", wav(2, 1, 8, os.urandom(28800)), "unsupported_audio"),
    ("400 kHz", wav(1, 400_000, 16, os.urandom(80_000)), "unsupported_audio"),
    ("six channels", wav(6, 16_000, 16, os.urandom(96_000)), "unsupported_audio"),
    ("5 h declared", wav(1, 8_000, 16, os.urandom(16_000), declared_bytes=8_000 * 2 * 3600 * 5), "recording_too_long"),
    ("3 h declared in 20 KB", wav(1, 8_000, 16, os.urandom(20_000), declared_bytes=8_000 * 2 * 3600 * 3),
     "inconsistent_audio"),
])
def test_audio_that_cannot_be_a_call_is_refused_at_upload(api: Api, s3: Any, name: str, content: bytes,
                                                          error: str) -> None:
    before = count_audio_objects(s3)
    call_id = unique("admission")
    r = api.upload(content=content, filename="forged.wav", call_id=call_id)
    assert r.status_code == 422, (name, r.status_code, r.text[:200])
    assert r.json()["error"] == error and r.json()["message"]
    assert api.get(f"/api/calls/{call_id}").status_code == 404
    assert count_audio_objects(s3) == before  # nothing stored


# --- row 8: NUL, CR, LF --------------------------------------------------------------------------


def test_nul_and_newlines_in_forms_and_next_are_400(api: Api, person: dict[str, str]) -> None:
    url = api.url
    anonymous = requests.Session()
    form = login_form(anonymous, url)
    r = anonymous.post(f"{url}/login", data={**form, "email": "a\x00b@x.example", "password": "x" * 12}, timeout=10)
    assert r.status_code == 400
    assert requests.get(f"{url}/login", params={"next": "/calls\r\nSet-Cookie: x=1"}, timeout=10).status_code == 400
    s, csrf = signed_in(url, person["email"])
    assert post_login(requests.Session(), url, person["email"], GOOD_PASSWORD,
                      next="/calls\r\nLocation: //evil").status_code == 400
    for path, data in (("/settings/users", {"email": "n@x.example", "name": "a\x00", "password": GOOD_PASSWORD}),
                       ("/settings/keys", {"name": "k\x00"}),
                       ("/settings/keys/a%00b/revoke", {}),
                       ("/settings/users/a%00b", {"action": "disable"})):
        answer = s.post(f"{url}{path}", data={"csrf_token": csrf, **data}, timeout=10)
        assert answer.status_code == 400, (path, answer.status_code)
    assert s.get(f"{url}/web/calls/a%00b/audio", timeout=10).status_code == 400
    assert requests.get(f"{url}/api/calls/a%00b", headers={"X-API-Key": api.key}, timeout=10).status_code == 400


# --- rows 10 and 11: login CSRF, the password policy ----------------------------------------------


def test_a_cross_site_login_post_is_refused(api: Api, person: dict[str, str]) -> None:
    s = requests.Session()
    bare = s.post(f"{api.url}/login", data={"email": person["email"], "password": GOOD_PASSWORD},
                  allow_redirects=False, timeout=10)
    assert bare.status_code == 403 and "callsight_session" not in s.cookies
    foreign = post_login(requests.Session(), api.url, person["email"], GOOD_PASSWORD)
    assert foreign.status_code == 302  # the form shown by this site works
    s2 = requests.Session()
    form = login_form(s2, api.url)
    cross = s2.post(f"{api.url}/login", data={**form, "email": person["email"], "password": GOOD_PASSWORD},
                    headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=10)
    assert cross.status_code == 403


def test_weak_and_overlong_passwords_are_refused_when_set_and_when_presented(api: Api, person: dict[str, str]) -> None:
    s, csrf = signed_in(api.url, person["email"])
    for password in ("aaaaaaaaaa", "password123", "qwertyuiop12", "y" * 1102):
        email = f"{unique('weak')}@demo.callsight.local"
        r = s.post(f"{api.url}/settings/users", timeout=10, allow_redirects=False,
                   data={"csrf_token": csrf, "email": email, "name": "Weak", "password": password, "role": "supervisor"})
        assert r.status_code == 400, password[:20]
        assert email not in s.get(f"{api.url}/settings", timeout=10).text
    # a password longer than the policy is never cut short at sign-in: 128 + 1 is not the first 128
    long_ok = "z" + "-".join(["amber", "lantern", "quietly", "folds"] * 6)[:127]
    email = f"{unique('long')}@demo.callsight.local"
    r = s.post(f"{api.url}/settings/users", timeout=10, allow_redirects=False,
               data={"csrf_token": csrf, "email": email, "name": "Long", "password": long_ok, "role": "supervisor"})
    assert r.status_code == 302
    assert post_login(requests.Session(), api.url, email, long_ok).status_code == 302
    assert post_login(requests.Session(), api.url, email, long_ok + "!").status_code == 401


# --- row 4: throttling ----------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_even_for_the_right_one(api: Api, person: dict[str, str]) -> None:
    codes = [post_login(requests.Session(), api.url, person["email"], f"wrong guess number {i}").status_code
             for i in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    locked = post_login(requests.Session(), api.url, person["email"], GOOD_PASSWORD)
    assert locked.status_code == 429 and 60 <= int(locked.headers["Retry-After"]) <= 900
    assert "callsight_session" not in locked.headers.get("Set-Cookie", "")
    metrics = requests.get(f"{api.ops_url}/metrics", timeout=5).text
    assert re.search(r'^callsight_login_locked_total\{scope="account"\} [1-9]', metrics, re.M)


def test_one_address_guessing_many_accounts_is_locked(stack: Any, tmp_path: Path) -> None:
    with own_gateway(stack, tmp_path, CALLSIGHT_LOGIN_MAX_FAILURES_PER_ADDRESS="8") as gw:
        codes = [post_login(requests.Session(), gw["url"], f"{unique('spray')}@demo.callsight.local",
                            "Spring2026!").status_code for _ in range(10)]
        assert codes[:8] == [401] * 8 and codes[8:] == [429, 429]
        assert "sign-in locked" in Path(gw["log"]).read_text()


# --- row 12: operational endpoints ---------------------------------------------------------------


def test_readiness_and_metrics_are_not_on_the_public_port(api: Api) -> None:
    for path in ("/metrics", "/readyz"):
        assert requests.get(f"{api.url}{path}", timeout=5).status_code == 404
        assert requests.get(f"{api.ops_url}{path}", timeout=5).status_code == 200
    assert requests.get(f"{api.url}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{api.ops_url}/api/calls", headers={"X-API-Key": api.key}, timeout=5).status_code == 404
