"""The Chinese title coder blended with the service's encoder: the blend reaches postings
through the API, its leave-out covers the semantic side, vectors come through the embedding
cache; and the CSCO 2022 table has one row per code under existing headings."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources

import numpy as np
import pytest

from representation.encoders import CachedEncoder, HashingEncoder
from taxonomy.occupations import (
    Occupation,
    OccupationCoder,
    csco_coder,
    csco_occupations,
    occupation_hierarchy,
)
from tests.conftest import Api


def _table_rows() -> list[dict[str, str]]:
    path = resources.files("taxonomy") / "data" / "csco2022_occupations.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csco_codes_are_unique() -> None:
    counts = Counter(row["code"] for row in _table_rows())
    assert [code for code, n in counts.items() if n > 1] == []


def test_every_csco_code_sits_under_existing_headings() -> None:
    rows = _table_rows()
    codes = {row["code"] for row in rows}
    missing = set()
    for row in rows:
        parts = row["code"].split("-")
        for depth in range(1, 4):
            if depth > 1 and not parts[depth - 1].strip("0"):
                break  # a group's own code ends where its digits do
            heading = "-".join(parts[:depth] + ["00"] * (4 - depth))
            if heading != row["code"] and heading not in codes:
                missing.add(heading)
    assert sorted(missing) == []
    # The headings the table lacked, named as the coder's hierarchy now names them.
    for code in ("5-02-03-01", "1-06-01-01", "2-01-04-02", "2-02-32-02"):
        assert all(group.name for group in occupation_hierarchy(code)), code
