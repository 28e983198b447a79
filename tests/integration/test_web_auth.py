"""Web sign-in without a browser: passwords, disabled users, CSRF and session expiry."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import requests

from callsight.db.users_repo import SessionRepository, UserRepository, hash_password, verify_password
from tests.conftest import unique
from tests.web_login import post_login

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery"


@pytest.fixture()
def person(admin: Any) -> dict[str, str]:
    email = f"{unique('auth')}@demo.callsight.local"
    user = UserRepository(admin.engine).create("demo", email, "Auth Test", PASSWORD, role="admin", locale="en")
    return {"email": email, "id": user.id}


def sign_in(url: str, email: str, password: str) -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    return s, post_login(s, url, email, password)


def csrf_of(session: requests.Session, url: str) -> str:
    page = session.get(f"{url}/settings", timeout=10).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def test_passwords_are_stored_as_argon2id_hashes_that_verify() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


def test_the_right_password_signs_in_with_a_safe_cookie(stack: Any, person: dict[str, str]) -> None:
    s, r = sign_in(stack.env["CALLSIGHT_URL"], person["email"], PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/dashboard")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert s.get(f"{stack.env['CALLSIGHT_URL']}/dashboard", timeout=10).status_code == 200


def test_a_wrong_password_is_refused(stack: Any, person: dict[str, str]) -> None:
    _, r = sign_in(stack.env["CALLSIGHT_URL"], person["email"], "wrong password")
    assert r.status_code == 401 and "callsight_session" not in r.headers.get("Set-Cookie", "")


def test_an_unknown_email_is_refused_the_same_way(stack: Any) -> None:
    _, r = sign_in(stack.env["CALLSIGHT_URL"], "nobody@example.com", PASSWORD)
    assert r.status_code == 401


def test_a_disabled_user_cannot_sign_in_and_loses_open_sessions(stack: Any, admin: Any,
                                                                person: dict[str, str]) -> None:
    url = stack.env["CALLSIGHT_URL"]
    s, _ = sign_in(url, person["email"], PASSWORD)
    UserRepository(admin.engine).update("demo", person["id"], disabled=True)
    assert s.get(f"{url}/dashboard", allow_redirects=False, timeout=10).status_code == 302
    _, r = sign_in(url, person["email"], PASSWORD)
    assert r.status_code == 401


def test_a_form_post_without_the_csrf_token_is_refused(stack: Any, person: dict[str, str]) -> None:
    url = stack.env["CALLSIGHT_URL"]
    s, _ = sign_in(url, person["email"], PASSWORD)
    r = s.post(f"{url}/settings/keys", data={"name": "no csrf"}, timeout=10)
    assert r.status_code == 403
    r = s.post(f"{url}/settings/keys", data={"name": "bad csrf", "csrf_token": "forged"}, timeout=10)
    assert r.status_code == 403
    r = s.post(f"{url}/settings/keys", data={"name": "with csrf", "scopes": ["ingest", "read"], "csrf_token": csrf_of(s, url)},
               timeout=10)
    assert r.status_code == 201


def test_an_upload_with_a_session_but_no_csrf_header_is_refused(stack: Any, person: dict[str, str]) -> None:
    url = stack.env["CALLSIGHT_URL"]
    s, _ = sign_in(url, person["email"], PASSWORD)
    r = s.post(f"{url}/api/ingest/upload", files={"file": ("a.wav", b"RIFF")}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "csrf_failed"
    assert s.get(f"{url}/api/calls", timeout=10).status_code == 200  # reads need no token


def test_without_a_session_or_key_the_api_still_answers_401(stack: Any) -> None:
    r = requests.get(f"{stack.env['CALLSIGHT_URL']}/api/calls", timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "missing_api_key"


@pytest.mark.parametrize("by", [dt.timedelta(hours=9), dt.timedelta(days=8)], ids=["idle", "absolute"])
def test_an_expired_session_sends_the_user_back_to_sign_in(stack: Any, admin: Any, person: dict[str, str],
                                                           by: dt.timedelta) -> None:
    url = stack.env["CALLSIGHT_URL"]
    s, _ = sign_in(url, person["email"], PASSWORD)
    token = s.cookies.get("callsight_session")
    assert token
    SessionRepository(admin.engine, dt.timedelta(hours=8), dt.timedelta(days=7)).age(token, by)
    r = s.get(f"{url}/dashboard", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_sign_out_ends_the_session(stack: Any, person: dict[str, str]) -> None:
    url = stack.env["CALLSIGHT_URL"]
    s, _ = sign_in(url, person["email"], PASSWORD)
    token = s.cookies.get("callsight_session")
    assert token
    s.post(f"{url}/logout", data={"csrf_token": csrf_of(s, url)}, timeout=10)
    r = requests.get(f"{url}/dashboard", cookies={"callsight_session": token}, allow_redirects=False, timeout=10)
    assert r.status_code == 302


def test_next_after_sign_in_stays_on_this_site(stack: Any, person: dict[str, str]) -> None:
    s = requests.Session()
    r = post_login(s, stack.env["CALLSIGHT_URL"], person["email"], PASSWORD, next="//evil.example/x")
    assert r.headers["Location"].endswith("/dashboard")
