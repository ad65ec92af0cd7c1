"""Queries shared by postings and candidates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from store.models import Candidate, Job

Record = TypeVar("Record", Job, Candidate)


def rows_by_ids(
    session: Session, model: type[Record], ids: list[int], options: Sequence[Any] = ()
) -> dict[int, Record]:
    """The rows with these ids (missing ids are left out), fetched in chunks."""
    found: dict[int, Record] = {}
    for start in range(0, len(ids), 500):
        query = select(model).where(model.id.in_(ids[start : start + 500])).options(*options)
        for row in session.scalars(query):
            found[row.id] = row
    return found


def shares_simhash_band(model: type[Candidate], record: Any) -> ColumnElement[bool]:
    """Candidates whose SimHash shares at least one 16-bit band with ``record``'s (postings
    find their near-duplicates by MinHash LSH instead: ``store.jobs``)."""
    return or_(
        model.simhash_b0 == record.simhash_b0,
        model.simhash_b1 == record.simhash_b1,
        model.simhash_b2 == record.simhash_b2,
        model.simhash_b3 == record.simhash_b3,
    )
