"""The web app in a real browser: sign in, upload, watch it finish live, listen, manage keys.

The tests run in file order and share one signed-in admin page (one story of a day's work).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy
import pytest
import requests

from callsight.db.users_repo import UserRepository
from tests import audio
from tests.browser.conftest import shot, sign_in, wait_js
from tests.conftest import Api, unique

pytestmark = pytest.mark.browser
story: dict[str, Any] = {}


def test_sign_in_shows_the_dashboard_in_the_users_language(admin_page: Any, web_url: str) -> None:
    page = admin_page
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("navigation").get_by_role("link", name="アップロード").is_visible()
    for name in ("ダッシュボード", "通話一覧", "スコアカード", "設定"):
        assert page.get_by_role("navigation").get_by_role("link", name=name).is_visible()
    shot(page, "01-dashboard-empty")


def test_a_wrong_password_is_refused_on_the_page(browser: Any, web_url: str, stack: Any) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{web_url}/login")
    page.get_by_label("E-mail").fill(stack.env["CALLSIGHT_DEMO_USER"])
    page.get_by_label("Password").fill("not the password")
    page.locator("form button[type=submit]").click()
    assert page.locator("#login-error").is_visible()
    shot(page, "00-login-error")
    context.close()


def test_upload_two_files_one_with_a_duplicate_call_id(admin_page: Any, web_url: str, api: Api,
                                                       tmp_path: Path) -> None:
    page = admin_page
    taken = unique("web-dup")
    first = audio.encode(tmp_path / "taken.wav", [audio.speech("selfish")], "wav")
    assert api.upload(first, call_id=taken, language="en-US").status_code == 201
    new_call = unique("web-call")
    story["call_id"] = new_call
    good = audio.stereo_call(tmp_path / "operator-and-customer.wav")
    dup = audio.encode(tmp_path / "again.wav", [audio.speech("selfish")], "wav")

    page.get_by_role("navigation").get_by_role("link", name="アップロード").click()
    page.wait_for_url(f"{web_url}/upload")
    page.set_input_files("#files", [str(good), str(dup)])
    ids = page.locator(".row-call-id")
    assert ids.count() == 2
    ids.nth(0).fill(new_call)
    ids.nth(1).fill(taken)
    page.select_option("#language", "en-US")
    page.fill("#operator_id", "op-web")
    page.fill("#department", "support")
    page.get_by_role("button", name="ファイルをアップロード").click()
    rows = page.locator("#file-rows tr")
    wait_js(page, "document.querySelectorAll('#file-rows tr[data-outcome=accepted], "
            "#file-rows tr[data-outcome=duplicate]').length === 2", 60)
    assert rows.nth(0).get_attribute("data-outcome") == "accepted"
    assert rows.nth(1).get_attribute("data-outcome") == "duplicate"
    assert taken in rows.nth(1).inner_text() or "既に" in rows.nth(1).inner_text() or "exists" in rows.nth(1).inner_text()
    shot(page, "02-upload-outcomes")
    # the accepted file's row goes on: its call's processing, with the worker's progress, to Done
    seen = watch_rows(page, "#file-rows tr[data-outcome=accepted]", until="Done", timeout_s=240)
    statuses = [s for s, _ in seen]
    assert statuses[-1] == "Done" and "Processing" in statuses, statuses
    assert [p for s, p in seen if s == "Processing" and p is not None], seen
    assert rows.nth(0).locator("progress").get_attribute("value") == "100"
    shot(page, "02b-upload-processed")


def watch_rows(page: Any, selector: str, until: str, timeout_s: float) -> list[tuple[str, int | None]]:
    """Samples one row's status and progress (what the page shows) until it reads `until`."""
    seen: list[tuple[str, int | None]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = page.evaluate(f"""() => {{ const r = document.querySelector({json.dumps(selector)});
            return r ? [r.dataset.status || "", r.dataset.progress === undefined ? null : Number(r.dataset.progress)]
                     : null; }}""")
        if state is not None and (not seen or tuple(state) != seen[-1]):
            seen.append((state[0], state[1]))
        if state is not None and state[0] == until:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"{selector} never reached {until}: {seen}")


def test_a_file_over_500_mb_is_refused_before_it_is_sent(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/upload")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/ingest/upload" in r.url else None)
    # a File that reports 500 MiB + 1 byte without allocating it
    page.evaluate("""() => {
        const big = new File([new Blob([new ArrayBuffer(8)])], 'huge.wav');
        Object.defineProperty(big, 'size', { value: 500 * 1024 * 1024 + 1 });
        const dt = new DataTransfer(); dt.items.add(big);
        document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
    }""")
    row = page.locator("#file-rows tr").last
    assert row.get_attribute("data-outcome") == "too_large"
    page.get_by_role("button", name="ファイルをアップロード").click()
    page.wait_for_timeout(500)
    assert sent == []


def test_the_dashboard_turns_done_without_reloading(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/dashboard")
    wait_js(page, "document.getElementById('live-state').dataset.mode === 'sse'")
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))
    row = page.locator(f"#latest-calls tr[data-call-id='{story['call_id']}']")
    row.wait_for()
    row.and_(page.locator("[data-status='Done']")).wait_for(timeout=240_000)
    assert loads == []
    assert int(page.locator("#count-Done").inner_text()) >= 1
    shot(page, "03-dashboard-done")


def test_the_dashboard_shows_live_progress_and_an_eta(admin_page: Any, web_url: str, api: Api,
                                                     tmp_path: Path) -> None:
    page = admin_page
    page.goto(f"{web_url}/dashboard")
    wait_js(page, "document.getElementById('live-state').dataset.mode === 'sse'")
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url))
    call_id = unique("web-live")
    long = audio.encode(tmp_path / "long.wav", [numpy.concatenate([audio.speech("dashwood")] * 3)], "wav")
    assert api.upload(long, call_id=call_id, language="en-US").status_code == 201
    selector = f"#latest-calls tr[data-call-id='{call_id}']"
    seen: list[tuple[str, int | None]] = []
    texts: set[str] = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and (not seen or seen[-1][0] != "Done"):
        row = page.locator(selector)
        if row.count():
            state = (row.get_attribute("data-status") or "", row.get_attribute("data-progress"))
            current = (state[0], int(state[1]) if state[1] is not None else None)
            if not seen or current != seen[-1]:
                seen.append(current)
            if current[0] == "Processing" and row.locator(".call-progress progress").is_visible():
                texts.add(row.locator(".progress-text").inner_text())
                if len(texts) == 2:
                    shot(page, "03b-dashboard-progress")
        time.sleep(0.1)
    statuses = [s for s, _ in seen]
    assert statuses and statuses[-1] == "Done", seen
    progress = [p for s, p in seen if s == "Processing" and p is not None]
    assert len(set(progress)) >= 2 and progress == sorted(progress), seen  # the bar moved, forward only
    # percent, step and the measured finish ("about 0:05 left"), in the user's language
    assert any(re.search(r"\d+% · .+ · 残り約 \d+:\d\d", t) for t in texts), texts
    assert not page.locator(f"{selector} .call-progress").is_visible()  # Done: no bar
    assert loads == []


def _wait_for_analysis(api: Api, call_id: str, timeout_s: float = 120) -> None:
    """The analysis worker of the stack writes the call's analysis after Done; the page needs it.
    Nothing here writes it: a stack whose analysis worker does not work fails this test."""
    deadline = time.monotonic() + timeout_s
    answer = None
    while time.monotonic() < deadline:
        answer = api.get(f"/api/calls/{call_id}/analysis")
        if answer.status_code == 200:
            return
        time.sleep(1)
    raise AssertionError(f"no analysis of {call_id} after {timeout_s} s: {answer.status_code if answer else None} "
                         f"{answer.text[:200] if answer else ''}")


def test_the_call_view_plays_and_seeks_with_the_transcript(admin_page: Any, web_url: str, api: Api) -> None:
    _wait_for_analysis(api, story["call_id"])
    page = admin_page
    page.goto(f"{web_url}/calls/{story['call_id']}")
    turns = page.locator("#turns .turn")
    assert turns.count() >= 2
    assert "speaker-operator" in (turns.first.get_attribute("class") or "")
    # preload="none": the recording is fetched (and the audit log says "played") only once played
    assert page.evaluate("document.getElementById('player').readyState") == 0
    target = turns.nth(1)
    start = float(target.get_attribute("data-start") or 0)
    target.locator(".turn-button").click()
    wait_js(page, f"Math.abs(document.getElementById('player').currentTime - {start}) < 1.5")
    wait_js(page, "document.querySelector('#turns .turn.active') !== null")
    assert "active" in (target.get_attribute("class") or "")
    assert page.locator("#talk-chart").is_visible()
    assert page.locator("#sentiment-chart").is_visible()
    for fmt in ("TXT", "SRT", "VTT", "JSON"):
        assert page.get_by_role("link", name=fmt, exact=True).is_visible()
    srt = page.request.get(f"{web_url}/api/calls/{story['call_id']}/transcript?format=srt")
    assert srt.status == 200 and "-->" in srt.text()
    ranged = page.request.get(f"{web_url}/web/calls/{story['call_id']}/audio", headers={"Range": "bytes=0-99"})
    assert ranged.status == 206 and len(ranged.body()) == 100
    page.evaluate("document.getElementById('player').pause()")
    shot(page, "04-call-view")


def test_calls_list_searches_transcripts(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/calls")
    page.fill("#f-operator", "op-web")
    page.get_by_role("button", name="検索").click()
    page.wait_for_url(re.compile(r".*operator_id=op-web.*"))
    assert page.locator(f"#calls-table tr[data-call-id='{story['call_id']}']").count() == 1
    shot(page, "05-calls")
    page.fill("#q", "zzzz-no-such-words")
    page.get_by_role("button", name="検索").click()
    page.wait_for_url(re.compile(r".*q=zzzz.*"))
    assert page.locator(f"#calls-table tr[data-call-id='{story['call_id']}']").count() == 0


def test_scorecards_pages_render(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/scorecards")
    assert page.locator("h1").is_visible()
    shot(page, "06-scorecards")
    page.goto(f"{web_url}/scorecards/operators/op-web")
    shot(page, "07-operator")


def test_an_api_key_created_then_revoked_is_refused(admin_page: Any, web_url: str, tmp_path: Path) -> None:
    page = admin_page
    page.goto(f"{web_url}/settings")
    name = unique("web-key")
    page.fill("#key-name", name)
    page.click("#create-key")
    key = page.locator("#new-key").input_value()
    assert key.startswith("csk_")
    shot(page, "08-settings-new-key")
    recording = audio.encode(tmp_path / "k.wav", [audio.speech("selfish")], "wav")
    assert Api(web_url, key).upload(recording, call_id=unique("key-ok")).status_code == 201
    page.goto(f"{web_url}/settings")
    assert page.locator("#new-key").count() == 0  # shown once
    row = page.locator("#keys-table tr", has_text=name)
    assert key not in row.inner_text()
    row.get_by_role("button", name="無効化").click()
    page.wait_for_url(re.compile(r".*/settings.*"))
    assert "無効化済み" in page.locator("#keys-table tr", has_text=name).inner_text()
    refused = Api(web_url, key).upload(recording, call_id=unique("key-revoked"))
    assert refused.status_code == 401


def test_switching_to_english_persists_after_reload(admin_page: Any, web_url: str) -> None:
    page = admin_page
    page.goto(f"{web_url}/dashboard")
    page.click("#locale-switch")
    page.wait_for_url(f"{web_url}/dashboard")
    assert page.locator("html").get_attribute("lang") == "en"
    page.reload()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("navigation").get_by_role("link", name="Scorecards").is_visible()
    shot(page, "09-dashboard-english")
    page.goto(f"{web_url}/calls/{story['call_id']}")
    shot(page, "10-call-view-english")
    page.set_viewport_size({"width": 820, "height": 1180})
    shot(page, "11-call-view-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.click("#locale-switch")
    assert page.locator("html").get_attribute("lang") == "ja"


def test_a_supervisor_cannot_open_settings(browser: Any, web_url: str, admin: Any) -> None:
    email = f"{unique('sup')}@demo.callsight.local"
    UserRepository(admin.engine).create("demo", email, "Sup Visor", "supervisor-pass-1", role="supervisor")
    page = sign_in(browser, web_url, email, "supervisor-pass-1", width=1024)
    assert page.get_by_role("navigation").get_by_role("link", name="設定").count() == 0
    response = page.goto(f"{web_url}/settings")
    assert response is not None and response.status == 403
    shot(page, "12-supervisor-403")
    api_write = requests.put(f"{web_url}/api/settings/qa-form", json={"default": True}, timeout=10,
                             cookies={c["name"]: c["value"] for c in page.context.cookies()},
                             headers={"X-CSRF-Token": page.locator("meta[name=csrf-token]").get_attribute("content")})
    assert api_write.status_code == 403
    page.context.close()
