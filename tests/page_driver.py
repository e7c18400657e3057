"""Drive the chat page in a real browser: Debian's chromium through Playwright (never `playwright install`)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
LOCAL = ("http://127.0.0.1", "data:", "blob:")

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="needs Debian's chromium (scripts/test.sh installs it)",
)


@contextmanager
def open_page(url: str):
    """A page at ``url`` whose ``outside_requests`` lists every request that left 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.outside_requests = []
        page.on("request", lambda r: page.outside_requests.append(r.url) if not r.url.startswith(LOCAL) else None)
        page.goto(url, wait_until="load")  # Gradio keeps a connection open: never "networkidle"
        page.locator("#question textarea").wait_for(timeout=30000)
        try:
            yield page
        finally:
            browser.close()


def ask(page, question: str) -> str:
    """Submit a question and wait until its answer is complete; return the chat text.

    The finished answer (or an error) is the one event that redraws the sources panel for a new turn
    (``data-turn``; streamed pieces leave the panel alone), so that is what is waited for.
    """
    turn = "() => { const s = document.querySelector('#sources .rag-sources'); return s ? s.dataset.turn || '' : ''; }"
    before = page.evaluate(turn)
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"([old]) => ({turn})() !== old", arg=[before], timeout=180000)
    return page.locator("#chat .message.bot, #chat [data-testid='bot']").last.inner_text()


def open_settings(page) -> None:
    if not page.locator("#answer-with").is_visible():
        page.get_by_text("Answer settings", exact=True).click()
        page.locator("#answer-with").wait_for(timeout=10000)


def upload(page, path: Path) -> str:
    """Add one file through the Articles panel; returns the status message once it names the file."""
    if not page.locator("#add").is_visible():
        page.get_by_text("Articles", exact=True).click()  # open the accordion
        page.locator("#add").wait_for(timeout=10000)
    status = page.locator("#upload-status")
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#add").click()
    page.wait_for_function(
        "([name]) => { const t = document.querySelector('#upload-status').innerText;"
        " return t.includes('Added') && t.includes(name); }", arg=[path.name], timeout=60000)
    return status.inner_text()
