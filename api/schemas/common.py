"""Ids in paths, queries and bodies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import (
    Field,
)

# Ids are 32-bit on every database (PostgreSQL INTEGER): larger numbers are refused as
# input instead of overflowing in a query.
MAX_ID = 2_147_483_647


PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
