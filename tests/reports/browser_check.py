"""Render the HTML report in headless Chromium and check the screenshot is not blank.

Collected by pytest (see ``conftest.py``); skipped, with the reason, where ``chromium`` is not
on PATH (``apt-get install -y chromium`` on Debian). Also a script, to look at a report:

    python tests/reports/browser_check.py path/to/report.html /tmp/report.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from bayeslaw.posterior.fit import Fit

CHROMIUM = "chromium"
WINDOW = (1200, 3000)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def screenshot(html: Path, png: Path, *, timeout: float = 120.0) -> Path:
    """Render ``html`` with headless Chromium into ``png`` (a fresh, throwaway profile)."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
    return png


def blank_fraction(png: Path) -> float:
    """Share of pixels that equal the most common colour (1.0: a blank page)."""
    from matplotlib.image import imread

    pixels = imread(png)[..., :3].reshape(-1, 3)
    _, counts = np.unique(np.round(pixels * 255).astype(np.uint8), axis=0, return_counts=True)
    return float(counts.max() / counts.sum())


@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason="headless check needs `chromium` on PATH (Debian: apt-get install -y chromium)",
)
def test_report_renders_in_chromium(tiny_fit: Fit, tmp_path: Path):
    from bayeslaw.reports.render import write_report

    html = write_report(tiny_fit, tmp_path / "report")["report.html"]
    png = screenshot(html, tmp_path / "screenshot.png")
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    height, width = imread(png).shape[:2]
    assert (width, height) == WINDOW
    # text, tables and figures cover a good part of the page; a failed load is near 100% blank
    assert blank_fraction(png) < 0.9


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    screenshot(source, target)
    print(f"{target}: {blank_fraction(target):.1%} background")
