"""An organisation's AmiVoice settings through the REST API: read, replace, refuse bad values, reset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e

DEFAULTS = {"allow_logging": None, "engine_ja": None, "engine_en": None, "batch_engine_ja": None,
            "batch_engine_en": None}


@pytest.fixture
def org_api(api: Api, admin: Any) -> Iterator[Api]:
    """An organisation of its own: these settings must not leak into other tests' calls."""
    org_id = unique("ami-settings")
    admin.orgs.ensure_org(org_id, org_id)
    key, _ = admin.orgs.create_api_key(org_id, "settings")
    yield Api(api.url, key)


def put(api: Api, body: Any) -> requests.Response:
    return requests.put(f"{api.url}/api/settings/amivoice", json=body, headers={"X-API-Key": api.key}, timeout=10)


def test_defaults_then_replace_then_reset(org_api: Api, admin: Any) -> None:
    assert org_api.get("/api/settings/amivoice").json() == DEFAULTS
    r = put(org_api, {"allow_logging": False, "engine_ja": "-a2-ja-general", "batch_engine_en": "-a2b-multi-general"})
    assert r.status_code == 200, r.text
    expected = {**DEFAULTS, "allow_logging": False, "engine_ja": "-a2-ja-general",
                "batch_engine_en": "-a2b-multi-general"}
    assert r.json() == expected == org_api.get("/api/settings/amivoice").json()
    org_id = next(k.org_id for k in [admin.orgs.authenticate(org_api.key)] if k)
    assert admin.orgs.get(org_id).engine_settings == {"amivoice": {
        "allow_logging": False, "engine_ja": "-a2-ja-general", "batch_engine_en": "-a2b-multi-general"}}
    assert put(org_api, {}).json() == DEFAULTS
    assert admin.orgs.get(org_id).engine_settings == {}


@pytest.mark.parametrize(("body", "words"), [
    ({"engine_ja": "general"}, "engine_ja"),
    ({"engine_en": "-a general-en"}, "engine_en"),
    ({"allow_logging": "yes"}, "allow_logging"),
    ({"logging": True}, "unknown AmiVoice setting"),
    ([1, 2], "JSON object"),
    ("-a-general", "JSON object"),
])
def test_bad_values_are_refused_with_a_message_and_change_nothing(org_api: Api, body: Any, words: str) -> None:
    put(org_api, {"engine_ja": "-a-general"})
    r = put(org_api, body)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_amivoice_settings" and words in r.json()["message"]
    assert org_api.get("/api/settings/amivoice").json()["engine_ja"] == "-a-general"


def test_a_body_that_is_not_json_is_refused(org_api: Api) -> None:
    r = requests.put(f"{org_api.url}/api/settings/amivoice", data=b"{not json", timeout=10,
                     headers={"X-API-Key": org_api.key, "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON object" in r.json()["message"]


def test_settings_need_a_key(org_api: Api) -> None:
    assert requests.get(f"{org_api.url}/api/settings/amivoice", timeout=10).status_code == 401
    assert requests.put(f"{org_api.url}/api/settings/amivoice", json={}, timeout=10).status_code == 401
