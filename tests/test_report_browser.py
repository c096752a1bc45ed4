"""The triage page in a real browser: Debian's chromium, headless, offline, driven by
playwright (archivekit.testing.browser). One page load is shared by the module's tests.

Checked: no console errors; every chart drawn (a non-empty box); no request but the page's own
file; the issue filter hides rows as you type; names that are HTML in the archive show as text
and run nothing; the issue groups print open. A screenshot is written to test-output/
(git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import missing_tool
from report_archives import IMAGE, SCRIPT, busy_archive

from archivekit.testing.browser import PLAYWRIGHT_INSTALL, LoadedPage, open_page
from archivekit.triage import triage_html

TEST_OUTPUT = Path(__file__).resolve().parent.parent / "test-output"


def _require_playwright() -> None:
    """playwright comes with the dev extra; missing, the tests skip — or FAIL under CI."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing_tool(f"playwright is not installed ({PLAYWRIGHT_INSTALL})")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-page")
    html = folder / "triage.html"
    html.write_text(triage_html(busy_archive(folder / "busy.zip")), encoding="utf-8")
    return html


@pytest.fixture(scope="module")
def loaded(chromium: str, page_file: Path) -> Iterator[LoadedPage]:
    _require_playwright()
    with open_page(chromium, page_file) as page:
        yield page


def test_the_page_renders_without_console_errors(loaded: LoadedPage) -> None:
    assert loaded.page.title().startswith("Import triage:")
    assert loaded.console_errors == []


def test_nothing_leaves_the_page(loaded: LoadedPage) -> None:
    assert loaded.requests == [loaded.url]
    assert loaded.foreign_requests == []


def test_every_chart_is_drawn(loaded: LoadedPage) -> None:
    charts = loaded.page.locator("figure.chart")
    assert charts.count() == 5
    for i in range(charts.count()):
        svg = charts.nth(i).locator("svg")
        assert svg.count() == 1, charts.nth(i).get_attribute("id")
        box = svg.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 100
        assert svg.is_visible()


def test_the_issue_filter_hides_rows(loaded: LoadedPage) -> None:
    page = loaded.page
    rows = page.locator("#issue-list tbody tr")
    total = rows.count()
    assert total == 5
    assert page.locator("#issue-filters").is_visible()  # the script showed its controls
    page.fill("#issue-filter", "unknown-user")
    assert page.locator("#issue-list tbody tr:visible").count() == 1
    assert page.inner_text("#issue-shown") == "1"
    page.fill("#issue-filter", "")
    page.select_option("#issue-severity", "warning")
    assert page.locator("#issue-list tbody tr:visible").count() == 1
    page.select_option("#issue-severity", "")
    assert page.locator("#issue-list tbody tr:visible").count() == total


def test_with_scripts_off_the_filter_is_not_shown_and_every_row_is(loaded: LoadedPage) -> None:
    """A reader with JavaScript off sees no filter box that would do nothing, and the whole
    list (the stylesheet must not show what the page marks hidden)."""
    browser = loaded.page.context.browser  # the module's browser: one playwright at a time
    assert browser is not None
    context = browser.new_context(offline=True, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(loaded.url, wait_until="load")
        assert page.locator("#issue-filters").count() == 1
        assert not page.locator("#issue-filters").is_visible()
        assert not page.locator("#issue-filter").is_visible()
        assert page.locator("#issue-list tbody tr:visible").count() == 5
    finally:
        context.close()


def test_hostile_names_show_as_text_and_run_nothing(loaded: LoadedPage) -> None:
    page = loaded.page
    assert page.evaluate("window.__pwned") is None
    text = page.inner_text("body")
    assert SCRIPT in text
    assert IMAGE in text
    assert page.locator("body img").count() == 0
    assert page.locator("script").count() == 1  # the page's own
    # In the charts too: SVG text, not elements.
    labels = page.locator("#chart-users svg text").all_text_contents()
    assert any(label.startswith("<img") for label in labels)


def test_in_print_the_controls_go_and_every_row_and_chart_shows(loaded: LoadedPage) -> None:
    page = loaded.page
    page.fill("#issue-filter", "unknown-user")  # a filter left on screen...
    page.emulate_media(media="print")
    try:
        assert not page.locator("#issue-filters").is_visible()
        assert page.locator("#issue-list tbody tr:visible").count() == 5  # ...does not cut print
        for chart in page.locator("figure.chart svg").all():
            assert chart.is_visible()
    finally:
        page.emulate_media(media="screen")
        page.fill("#issue-filter", "")


def test_the_issue_groups_fold_on_screen_and_print_open(loaded: LoadedPage) -> None:
    page = loaded.page
    groups = page.locator("details.group")
    assert groups.count() >= 3
    opened = "Array.from(document.querySelectorAll('details.group')).map(d => d.open)"
    assert not any(page.evaluate(opened))  # folded to their headings on screen
    page.locator("details.group summary").first.click()  # a reader opens one
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert all(page.evaluate(opened))  # printed, every group is open
    page.emulate_media(media="print")
    try:
        assert page.locator("details.group table").first.is_visible()
    finally:
        page.emulate_media(media="screen")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert page.evaluate(opened) == [True] + [False] * (groups.count() - 1)  # as they were


def test_a_screenshot_is_written(loaded: LoadedPage) -> None:
    """Under test-output/ in the repository (git-ignored): it stays after the run, to look at,
    until the next run replaces it."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    shot = TEST_OUTPUT / "report-page.png"
    shot.unlink(missing_ok=True)
    loaded.page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000
