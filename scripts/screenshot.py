"""The README's picture of the triage page: `make screenshot`.

Renders `archivekit report` for a sample archive (over_limits.zip with a target limit, so the
limits table and the mmctl commands show) and takes a screenshot of it from the top through
the charts (the issue list and the manifest below them are left out) in headless, offline
Chromium (archivekit.testing.browser), into docs/report-screenshot.png.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from archivekit.check.target import load_target
from archivekit.report.html import render_html
from archivekit.testing.browser import open_page
from archivekit.triage import triage

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--archive", type=Path, default=REPO / "sample_exports" / "over_limits.zip")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report-screenshot.png")
    parser.add_argument(
        "--height", type=int, default=3840, help="pixels from the top (default: the charts)"
    )
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed (scripts/test-tools.sh installs it)", file=sys.stderr)
        return 2
    target, explicit = load_target(None, overrides={"max_users_per_team": 50})
    page = triage(args.archive, target=target, explicit=explicit)
    # The archive's path as a reader of the README knows it.
    page.report.archive = str(args.archive.relative_to(REPO))
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "triage.html"
        html.write_text(render_html(page), encoding="utf-8")
        with open_page(chromium, html, width=1100, height=args.height) as loaded:
            if loaded.console_errors or loaded.foreign_requests:
                print(f"the page misbehaved: {loaded.console_errors} {loaded.foreign_requests}")
                return 1
            loaded.page.screenshot(path=str(args.out), full_page=False)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
