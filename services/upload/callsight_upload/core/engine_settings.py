"""An organisation's stored engine settings, read for the API and the Settings page alike."""

from __future__ import annotations

from typing import Any

from callsight.amivoice_settings import AmiVoiceOrgSettings, AmiVoiceSettingsError

AMIVOICE = "amivoice"


def stored_amivoice(engine_settings: dict[str, Any] | None) -> AmiVoiceOrgSettings:
    """What is stored for the organisation; a value that no longer validates reads as the defaults."""
    try:
        return AmiVoiceOrgSettings.from_json((engine_settings or {}).get(AMIVOICE))
    except AmiVoiceSettingsError:
        return AmiVoiceOrgSettings()
