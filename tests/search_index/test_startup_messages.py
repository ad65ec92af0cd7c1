"""What start-up tells the operator about the index: nothing alarming for a new installation,
and the reason when an index it had must be rebuilt."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from api.runtime import Runtime
from tests.search_index.test_consistency_marker import settings_for, write_job


def _start_and_close(data_dir: Path) -> None:
    runtime = Runtime(settings_for(data_dir))
    try:
        runtime.start(background=False)
    finally:
        runtime.close()


def _sync_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "search_index.sync" and r.levelno >= logging.WARNING
    ]


def test_a_new_installation_builds_its_index_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="search_index.sync"):
        _start_and_close(tmp_path / "data")
    assert _sync_warnings(caplog) == []
    assert any("index is new" in r.getMessage() for r in caplog.records)


def test_a_lost_index_is_rebuilt_with_a_warning_naming_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    write_job(data_dir, "Scala engineer")
    shutil.rmtree(data_dir / "index")
    with caplog.at_level(logging.INFO, logger="search_index.sync"):
        _start_and_close(data_dir)
    warnings = _sync_warnings(caplog)
    assert warnings and all("lost (no usable checkpoint)" in w for w in warnings), warnings
