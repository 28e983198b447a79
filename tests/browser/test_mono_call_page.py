"""A mono call's page in a real browser: the voices, the roles' evidence, and a supervisor's swap.

The call is the real-speech call of the turn-timeline tests mixed into one 8 kHz μ-law track.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.calls import render
from tests.browser.conftest import shot, wait_js
from tests.conftest import Api, unique
from tests.integration.test_turn_timeline_real_speech import _script

pytestmark = pytest.mark.browser


def test_a_supervisor_sees_the_voices_and_swaps_the_roles(admin_page: Any, web_url: str, api: Api,
                                                          tmp_path: Any) -> None:
    path, _ = render.render(_script(), render.Condition("clean-ulaw"), tmp_path, seed=4, pause_s=0.6, mono=True)
    call_id = unique("mono-page")
    assert api.upload(path, call_id=call_id, language="en-US").status_code == 201
    assert api.wait_final(call_id)["status"] == "Done"
    page = admin_page
    page.goto(f"{web_url}/calls/{call_id}")
    operator = page.locator('#speakers .voice[data-role="operator"]')
    assert operator.count() == 1, page.content()[:3000]
    detected = operator.get_attribute("data-voice")
    assert page.locator("#speakers-confidence").get_attribute("data-source") == "detected"
    assert page.locator("#speakers details li").count() >= 1  # the evidence
    turns = page.locator("#turns .turn")
    first_class = turns.first.get_attribute("class") or ""
    assert "speaker-operator" in first_class
    shot(page, "mono-01-voices")
    page.locator("#swap-roles").click()
    page.locator("#swap-message").wait_for(state="visible")
    # the page reloads itself; the analysis workers rename the turns meanwhile
    deadline_reloads = 20
    while deadline_reloads:
        page.wait_for_timeout(1500)
        page.goto(f"{web_url}/calls/{call_id}")
        if page.locator("#speakers-confidence").get_attribute("data-source") == "supervisor":
            break
        deadline_reloads -= 1
    assert page.locator("#speakers-confidence").get_attribute("data-source") == "supervisor"
    assert page.locator('#speakers .voice[data-role="operator"]').get_attribute("data-voice") != detected
    wait_js(page, "document.querySelector('#turns .turn').classList.contains('speaker-customer')")
    shot(page, "mono-02-swapped")
