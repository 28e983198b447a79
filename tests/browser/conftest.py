"""A headless Debian chromium driven by Playwright, signed in as the demo admin."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is not installed: run `make install` (scripts/install.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def web_url(stack) -> str:
    return stack.env["CALLSIGHT_URL"]


def sign_in(browser: Any, url: str, email: str, password: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{url}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"{url}/dashboard")
    return page


@pytest.fixture(scope="session")
def admin_page(browser, web_url, stack) -> Iterator[Any]:
    page = sign_in(browser, web_url, stack.env["CALLSIGHT_DEMO_USER"], stack.env["CALLSIGHT_DEMO_PASSWORD"])
    yield page
    page.context.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_js(page: Any, expression: str, timeout_s: float = 20) -> None:
    """Waits until `expression` is truthy. Playwright's wait_for_function compiles its
    predicate with eval, which the app's strict CSP (rightly) refuses."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        page.wait_for_timeout(200)
