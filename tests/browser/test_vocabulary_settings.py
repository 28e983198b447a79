"""An administrator keeps the organisation's product names and terms on the Settings page."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.browser.conftest import shot
from tests.conftest import Api

pytestmark = pytest.mark.browser


def test_vocabulary_is_saved_refused_when_wrong_and_shown_back(admin_page: Any, web_url: str, api: Api) -> None:
    page = admin_page
    try:
        page.goto(f"{web_url}/settings#vocabulary")
        box = page.get_by_label("商品名・用語")
        box.fill("Callsight | | en-US\n光回線プラス | ひかりかいせんぷらす | ja-JP\nbad | reading | fr-FR")
        page.locator("#save-vocabulary").click()
        assert "term 3: language must be" in page.locator("#vocabulary-error").inner_text()
        assert "fr-FR" in page.get_by_label("商品名・用語").input_value()  # what was typed stays
        assert api.get("/api/settings/vocabulary").json()["terms"] == []  # nothing half-saved
        shot(page, "vocabulary-error")

        page.get_by_label("商品名・用語").fill("Callsight | | en-US\n光回線プラス | ひかりかいせんぷらす | ja-JP\n")
        page.locator("#save-vocabulary").click()
        page.wait_for_url("**saved=vocabulary**")
        assert api.get("/api/settings/vocabulary").json()["terms"] == [
            {"text": "Callsight", "reading": None, "language": "en-US"},
            {"text": "光回線プラス", "reading": "ひかりかいせんぷらす", "language": "ja-JP"}]
        assert page.get_by_label("商品名・用語").input_value() == "Callsight | | en-US\n光回線プラス | ひかりかいせんぷらす | ja-JP"
        shot(page, "vocabulary-saved")
    finally:
        requests.put(f"{api.url}/api/settings/vocabulary", json={"terms": []}, headers={"X-API-Key": api.key}, timeout=30)
