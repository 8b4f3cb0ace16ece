"""Chromium through Playwright (the Debian /usr/bin/chromium; Playwright cannot download its own here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("JASA_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("JASA_TEST_ARTIFACTS", "test-artifacts"))


@pytest.fixture(scope="session")
def _playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (./dev test does)")
    b = _playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
        ],
    )
    yield b
    b.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; a screenshot is saved when the test fails."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    # assertions wait as long as actions: two shared cores under load make 5 s (Playwright's default) flaky
    expect.set_options(timeout=15_000)
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
