"""Pure pieces of the shared library and the worker: keys, settings, turn merging."""

from __future__ import annotations

import pytest

from callsight import apikeys
from callsight.settings import SettingsError
from callsight_status.settings import StatusSettings
from callsight_upload.settings import GatewaySettings
from callsight_worker.settings import WorkerSettings

pytestmark = pytest.mark.unit


def test_api_keys_are_random_hashed_and_checked_with_the_pepper() -> None:
    a, b = apikeys.generate("pepper"), apikeys.generate("pepper")
    assert a.plaintext != b.plaintext and a.prefix != b.prefix
    assert a.key_hash != a.plaintext and len(a.key_hash) == 64
    assert apikeys.prefix_of(a.plaintext) == a.prefix
    assert apikeys.matches(a.plaintext, a.key_hash, ["pepper"])
    assert not apikeys.matches(a.plaintext, a.key_hash, ["other pepper"])
    assert apikeys.matches(a.plaintext, a.key_hash, ["new pepper", "pepper"])  # rotation window
    assert not apikeys.matches(b.plaintext, a.key_hash, ["pepper"])
    for bad in ("", "csk_", "csk_123", "xyz_12345678_abc", "csk_12345678", "csk_1234567_abc"):
        assert apikeys.prefix_of(bad) is None


def test_settings_name_the_missing_variable() -> None:
    for settings in (GatewaySettings, StatusSettings, WorkerSettings):
        with pytest.raises(SettingsError, match="CALLSIGHT_DATABASE_URL"):
            settings.from_env({})
    env = {"CALLSIGHT_DATABASE_URL": "postgresql://u:hunter2@h/db", "CALLSIGHT_REDIS_URL": "redis://h",
           "CALLSIGHT_SQS_QUEUE_URL": "http://q", "CALLSIGHT_ANALYSIS_QUEUE_URL": "http://a",
           "CALLSIGHT_API_KEY_PEPPER": "pepper-secret"}
    # the gateway and the status service share the key of the organisation assertions
    for settings in (GatewaySettings, StatusSettings):
        with pytest.raises(SettingsError, match="CALLSIGHT_INTERNAL_AUTH_KEY"):
            settings.from_env(env)
        with pytest.raises(SettingsError, match="CALLSIGHT_INTERNAL_AUTH_KEY"):
            settings.from_env({**env, "CALLSIGHT_INTERNAL_AUTH_KEY": "too-short"})
    env["CALLSIGHT_INTERNAL_AUTH_KEY"] = "assertion-secret-" * 3
    gateway, worker = GatewaySettings.from_env(env), WorkerSettings.from_env(env)
    assert gateway.max_upload_bytes == 500_000_000 and worker.max_attempts == 3
    for secret in ("hunter2", "pepper-secret", "assertion-secret"):  # secrets are SecretStr: never in a repr or log line
        assert secret not in repr(gateway) and secret not in str(gateway.model_dump())
    assert gateway.session_key == "pepper-secret"  # the pepper signs sessions unless a key is set
    with pytest.raises(SettingsError, match="CALLSIGHT_MAX_ATTEMPTS"):
        WorkerSettings.from_env({**env, "CALLSIGHT_MAX_ATTEMPTS": "three"})
    with pytest.raises(SettingsError, match="CALLSIGHT_ENGINE"):
        WorkerSettings.from_env({**env, "CALLSIGHT_ENGINE": "magic"})
    with pytest.raises(SettingsError, match="CALLSIGHT_API_KEY_PEPPER") as err:
        GatewaySettings.from_env({**env, "CALLSIGHT_API_KEY_PEPPER": ""})
    assert "hunter2" not in str(err.value)
    with pytest.raises(SettingsError, match="CALLSIGHT_WEB_THREADS|WEB_THREADS"):
        GatewaySettings.from_env({**env, "WEB_THREADS": "0"})
