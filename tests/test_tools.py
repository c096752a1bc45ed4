"""The test tools themselves: CI must have them (a missing one fails there, never skips)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "sample_exports" / "clean.zip"


def test_7z_reads_a_zip_we_ship(seven_zip: str) -> None:
    result = subprocess.run(
        [seven_zip, "t", str(SAMPLE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Everything is Ok" in result.stdout


def test_chromium_runs_headless(chromium: str) -> None:
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Chromium" in result.stdout or "Chrome" in result.stdout
