"""Playwright driving Debian's Chromium (/usr/bin/chromium) against pytest-django's live server.

The browser is Debian's package, installed by ``.ci/run``; no browser is ever
downloaded. Without it the browser tests are skipped. Screenshots go to a
temporary folder, or to ``$SAVE_SCREENSHOTS`` (e.g. ``docs/screenshots``) when set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM
    # calls are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            # ORM calls made while Playwright's loop is set get their own connections
            # (asgiref's context-local storage); close them here, in that same context,
            # or they outlive the test and block dropping the test database.
            connections.close_all()
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 800}, device_scale_factor=1)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page, tmp_path):
    """``screenshot(name)`` saves the page as ``name.png``; ``full=True`` for the whole page."""
    folder = Path(os.environ.get("SAVE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str, *, full: bool = False) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        return path

    return take
