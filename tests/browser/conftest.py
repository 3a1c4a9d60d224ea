"""Playwright (sync API) driving Debian's chromium against pytest-django's live_server."""

import os
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.storage import storages
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _whitenoise_serves_static(application):
    """The live server's static handler when the files are collected: none, so /static/
    reaches whitenoise's middleware as in production."""
    return application


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, except under the production settings
    (`make test-production`): there pages link to the manifest's hashed names
    (app.3f2a9c.css), which Django's finders-based static handler cannot find, so the
    collected files are served by whitenoise, as in production."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = LiveServer(addr, start=False)
    if isinstance(storages["staticfiles"], ManifestFilesMixin):
        server.thread.static_handler = _whitenoise_serves_static
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """One chromium per module, closed afterwards so no event loop outlives the browser tests."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise
    # refuse to run from the test body while it is active. Only for these tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
