"""A call's life after Done in a real browser, as the demo administrator: deleting a call
with its confirmation, the audit log page and its filters, webhooks on the Settings page
(secret shown once, the delivery log, a redelivery), scoped keys, retention's rule — and
what a supervisor does not see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from callsight.db.users_repo import UserRepository
from tests import audio
from tests.browser.conftest import shot, sign_in
from tests.conftest import Api, unique
from tests.lifecycle import Receiver, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def done_call(api: Api, tmp_path_factory: pytest.TempPathFactory) -> str:
    call_id = unique("web-delete")
    wav = audio.stereo_call(tmp_path_factory.mktemp("lifecycle-web") / "call.wav")
    assert api.upload(wav, call_id=call_id, language="en-US").status_code == 201
    assert api.wait_final(call_id)["status"] == "Done"
    return call_id


def test_deleting_a_call_asks_first_and_then_it_is_gone(admin_page: Any, web_url: str, api: Api,
                                                        done_call: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/calls/{done_call}")
    dialog = page.locator("#delete-dialog")
    assert not dialog.is_visible()
    page.click("#delete-call")
    assert dialog.is_visible() and done_call in dialog.inner_text()
    shot(page, "20-delete-confirm")
    page.click("#delete-cancel")
    assert not dialog.is_visible()
    assert api.get(f"/api/calls/{done_call}").status_code == 200  # cancelled: nothing happened

    page.click("#delete-call")
    page.click("#delete-confirm")
    page.wait_for_url(re.compile(r".*/calls\?deleted=.*"))
    assert done_call in page.locator("#deleted-notice").inner_text()
    assert page.locator(f"#calls-table tr[data-call-id='{done_call}']").count() == 0
    shot(page, "21-deleted")
    assert api.get(f"/api/calls/{done_call}").status_code == 404
    response = page.goto(f"{web_url}/calls/{done_call}")
    assert response is not None and response.status == 404


def test_the_audit_log_page_shows_who_did_what_and_filters(admin_page: Any, web_url: str, done_call: str) -> None:
    page = admin_page
    page.get_by_role("navigation").get_by_role("link", name="監査ログ").click()
    page.wait_for_url(f"{web_url}/audit")
    page.fill("#a-call", done_call)
    page.select_option("#a-action", "deleted")
    page.get_by_role("button", name="絞り込み").click()
    page.wait_for_url(re.compile(r".*action=deleted.*"))
    rows = page.locator("#audit-table tbody tr[data-action]")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "削除" in text and done_call in text and "admin@demo.callsight.local" in text and "127.0.0.1" in text
    page.select_option("#a-action", "")
    page.get_by_role("button", name="絞り込み").click()
    page.wait_for_url(re.compile(r".*call_id=.*"))
    actions = {r.get_attribute("data-action") for r in page.locator("#audit-table tbody tr[data-action]").all()}
    assert {"viewed", "deleted"} <= actions
    shot(page, "22-audit-log")


def test_a_webhook_is_added_its_deliveries_logged_and_one_redelivered(
    admin_page: Any, web_url: str, api: Api, tmp_path: Path,
) -> None:
    receiver = Receiver().start()
    page = admin_page
    try:
        page.goto(f"{web_url}/settings#webhooks")
        page.fill("#webhook-url", receiver.url)
        page.fill("#webhook-description", "browser test")
        page.check("input[name=events][value='call.done']")
        page.click("#add-webhook")
        secret = page.locator("#new-webhook-secret").input_value()
        assert secret.startswith("whsec_")
        shot(page, "23-webhook-secret")
        call_id = unique("web-hook")
        wav = audio.encode(tmp_path / "hook.wav", [audio.speech("selfish")], "wav")
        assert api.upload(wav, call_id=call_id, language="en-US").status_code == 201
        wait_until(lambda: receiver.of_event("call.done", call_id), 240, "the delivery")
        page.goto(f"{web_url}/settings#webhooks")
        assert page.locator("#new-webhook-secret").count() == 0  # shown once
        row = page.locator(f".webhook[data-url='{receiver.url}'] tr[data-state]", has_text=call_id)

        def logged() -> bool:
            page.reload()
            return row.get_attribute("data-state") == "delivered"

        wait_until(logged, 20, "the delivery to be logged")
        assert "200" in row.inner_text()
        row.locator("button.redeliver").click()
        page.wait_for_url(re.compile(r".*/settings.*"))
        wait_until(lambda: len(receiver.of_event("call.done", call_id)) >= 2, 30, "the redelivery")
        first, again = receiver.of_event("call.done", call_id)[:2]
        assert first.body == again.body
        assert first.headers["X-Callsight-Delivery"] != again.headers["X-Callsight-Delivery"]
        page.reload()
        assert page.locator(f".webhook[data-url='{receiver.url}'] tr[data-state]", has_text=call_id).count() == 2
        shot(page, "24-webhook-deliveries")
        hook = page.locator(f".webhook[data-url='{receiver.url}']")
        hook.get_by_role("button", name="削除").click()
        page.wait_for_url(re.compile(r".*/settings.*"))
        assert page.locator(f".webhook[data-url='{receiver.url}']").count() == 0
    finally:
        receiver.stop()


def test_a_webhook_to_a_private_address_is_refused_on_the_page(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/settings#webhooks")
    page.fill("#webhook-url", "http://10.20.30.40/hook")
    page.click("#add-webhook")
    assert "private" in page.locator("#webhook-error").inner_text()
    assert page.locator("#webhook-url").input_value() == "http://10.20.30.40/hook"  # kept to correct


def test_a_key_with_chosen_scopes_is_made_on_the_page(admin_page: Any, web_url: str, tmp_path: Path) -> None:
    page = admin_page
    page.goto(f"{web_url}/settings#keys")
    name = unique("web-ingest")
    page.fill("#key-name", name)
    page.uncheck("input[name=scopes][value='read']")
    page.check("input[name=scopes][value='ingest']")
    page.click("#create-key")
    key = page.locator("#new-key").input_value()
    row = page.locator("#keys-table tr", has_text=name)
    assert row.locator(".chip").all_inner_texts() == ["ingest"]
    wav = audio.encode(tmp_path / "k.wav", [audio.speech("selfish")], "wav")
    assert Api(web_url, key).upload(wav, call_id=unique("web-ingest")).status_code == 201
    refused = Api(web_url, key).get("/api/calls")
    assert refused.status_code == 403 and "'read' scope" in refused.json()["message"]
    page.fill("#key-name", unique("no-scope"))
    for scope in ("ingest", "read", "admin"):
        page.uncheck(f"input[name=scopes][value='{scope}']")
    page.click("#create-key")
    assert "scopes" in page.locator("#key-error").inner_text()


def test_retention_that_breaks_the_rule_is_refused_on_the_page(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/settings#retention")
    page.fill("#audio_days", "400")
    page.fill("#transcript_days", "30")
    page.click("#save-retention")
    assert "audio_days must be between 1 and transcript_days" in page.locator("#retention-error").inner_text()
    page.goto(f"{web_url}/settings#retention")
    assert page.locator("#audio_days").input_value() == "0"  # nothing was saved
    shot(page, "25-retention-error")


def test_a_supervisor_sees_no_delete_button_and_no_audit_log(browser: Any, web_url: str, admin: Any, api: Api,
                                                              tmp_path: Path) -> None:
    email = f"{unique('sup')}@demo.callsight.local"
    UserRepository(admin.engine).create("demo", email, "Supervisor", "copper kettle meadow sings 82", role="supervisor", locale="ja")
    call_id = unique("web-sup")
    wav = audio.encode(tmp_path / "s.wav", [audio.speech("selfish")], "wav")
    assert api.upload(wav, call_id=call_id, language="en-US").status_code == 201
    page = sign_in(browser, web_url, email, "copper kettle meadow sings 82")
    try:
        page.goto(f"{web_url}/calls/{call_id}")
        assert page.locator("#delete-call").count() == 0
        assert page.get_by_role("navigation").get_by_role("link", name="監査ログ").count() == 0
        response = page.goto(f"{web_url}/audit")
        assert response is not None and response.status == 403
    finally:
        page.context.close()
