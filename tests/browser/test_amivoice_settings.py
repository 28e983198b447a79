"""An administrator sets the organisation's AmiVoice engines and logging on the Settings page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import shot
from tests.conftest import Api

pytestmark = pytest.mark.browser


def test_amivoice_settings_are_saved_refused_when_wrong_and_reset(admin_page: Any, web_url: str, api: Api) -> None:
    page = admin_page
    page.goto(f"{web_url}/settings#amivoice")
    section = page.locator("#amivoice")
    section.get_by_label("AmiVoice でのログ保存").select_option("false")
    section.get_by_label("エンジン（日本語・長い音声、バッチ）").fill("-a2b-ja-general")
    section.get_by_label("エンジン（英語・短い音声）").fill("general-en")  # not an engine name
    section.locator("#save-amivoice").click()
    error = page.locator("#amivoice-error")
    assert "engine_en" in error.inner_text()
    assert page.locator("#batch_engine_ja").input_value() == "-a2b-ja-general"  # what was typed stays
    assert api.get("/api/settings/amivoice").json()["batch_engine_ja"] is None  # nothing half-saved
    shot(page, "amivoice-settings-error")

    section.get_by_label("エンジン（英語・短い音声）").fill("-a-general-en")
    section.locator("#save-amivoice").click()
    page.wait_for_url("**saved=amivoice**")
    assert page.locator("#allow_logging").input_value() == "false"
    assert page.locator("#engine_en").input_value() == "-a-general-en"
    assert api.get("/api/settings/amivoice").json() == {
        "allow_logging": False, "engine_ja": None, "engine_en": "-a-general-en", "batch_engine_ja": "-a2b-ja-general",
        "batch_engine_en": None}
    shot(page, "amivoice-settings-saved")

    page.goto(f"{web_url}/settings#amivoice")
    page.locator("#allow_logging").select_option("")
    for name in ("engine_en", "batch_engine_ja"):
        page.locator(f"#{name}").fill("")
    page.locator("#save-amivoice").click()
    page.wait_for_url("**saved=amivoice**")
    assert api.get("/api/settings/amivoice").json()["allow_logging"] is None
    assert page.locator("#engine_en").get_attribute("placeholder") == "デプロイの既定"
