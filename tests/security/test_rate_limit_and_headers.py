"""Per-key rate limiting (429 + Retry-After) and the security headers of every response."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def app_with_limit(stack: Any, monkeypatch: pytest.MonkeyPatch):
    from callsight_upload.app import create_app
    from callsight_upload.settings import GatewaySettings

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, stack.env[name])
    settings = GatewaySettings.from_env({**stack.env, "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "5"})
    return create_app(settings)


def test_a_key_over_its_limit_gets_429_with_retry_after(app_with_limit: Any, admin: Any) -> None:
    key, _ = admin.orgs.create_api_key("demo", "rate limit test")
    other, _ = admin.orgs.create_api_key("demo", "another key")
    client = app_with_limit.test_client()
    codes = [client.get("/api/calls", headers={"X-API-Key": key}).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    limited = client.get("/api/calls", headers={"X-API-Key": key})
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert limited.get_json()["error"] == "rate_limited"
    assert client.get("/api/calls", headers={"X-API-Key": other}).status_code == 200  # per key


def test_security_headers_on_api_and_errors(api: Any) -> None:
    import requests

    for response in (requests.get(f"{api.url}/healthz", timeout=5),
                     requests.get(f"{api.url}/api/calls", timeout=5)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
