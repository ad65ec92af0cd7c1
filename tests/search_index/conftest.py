"""Fixtures of the search-index tests that work on the store directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from store.db import Database
from store.keys import get_or_create_tenant


@pytest.fixture
def db(tmp_path: Path) -> Database:
    """A fresh SQLite database with the tenant ``acme``."""
    database = Database(Settings(environment="test", data_dir=tmp_path / "data"))
    with database.session() as session:
        get_or_create_tenant(session, "acme")
    return database
