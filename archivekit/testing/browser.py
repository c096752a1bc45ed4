"""A local HTML file in a real, headless, offline Chromium: what the triage page's tests and the
README's screenshot (`make screenshot`) look at.

Driven by playwright (a dev dependency) with the system's Chromium (`executable_path`: no
browser is ever downloaded). The browser runs with the network cut (an offline context, and
background networking, component updates and sync switched off) in a fresh profile (playwright
gives every launch a new temporary user-data dir). Every request the page makes and every
console message are recorded, so a test can say that nothing left the page and nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

PLAYWRIGHT_INSTALL = "pip install playwright (the dev extra has it; no browser download needed)"
CHROMIUM_FLAGS = (
    "--no-sandbox",  # the test machines run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@dataclass(slots=True)
class LoadedPage:
    """A page loaded from a file, with what it asked for and what it said."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    page_errors: list[str] = field(default_factory=list)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests other than the page's own file."""
        return [url for url in self.requests if url != self.url]

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.page_errors


@contextmanager
def open_page(
    chromium: str, html: Path, *, width: int = 1100, height: int = 900
) -> Iterator[LoadedPage]:
    """Load `html` (a local file) in headless `chromium` (its path) with the network off."""
    from playwright.sync_api import sync_playwright

    url = html.resolve().as_uri()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            context = browser.new_context(offline=True, viewport={"width": width, "height": height})
            page = context.new_page()
            loaded = LoadedPage(page, url)
            page.on("request", lambda request: loaded.requests.append(request.url))
            page.on("console", lambda message: loaded.console.append((message.type, message.text)))
            page.on("pageerror", lambda error: loaded.page_errors.append(str(error)))
            page.goto(url, wait_until="load")
            yield loaded
        finally:
            browser.close()
