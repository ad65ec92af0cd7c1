"""An occupation code's name and groups, as postings and candidates carry them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OccupationGroupRead(BaseModel):
    level: str = Field(description="major, middle (CSCO 中类 / ISCO-08 sub-major), minor, unit")
    code: str
    name: str | None = Field(description="ISCO-08 minor groups have none")
    language: str = Field(description="of the name: zh (CSCO) or en (ISCO-08)")
