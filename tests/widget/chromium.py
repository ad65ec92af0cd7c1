"""Debian's Chromium through Playwright for the browser tests: importing this skips the test
module when either is missing, except under ``.ci/run`` (``TALENTMATCH_REQUIRE_BROWSER=1``),
where a missing browser is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TALENTMATCH_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("TALENTMATCH_REQUIRE_BROWSER") == "1"
try:
    from playwright import sync_api
except ImportError:
    if REQUIRED:
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)
if not Path(CHROMIUM).exists():
    if REQUIRED:
        raise RuntimeError(f"no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

__all__ = ["CHROMIUM", "sync_api"]
