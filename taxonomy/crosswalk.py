"""CSCO 2022 ↔ ISCO-08: one occupation group key for Chinese and English occupation codes.

Each CSCO 2022 occupation (细类, level 4, e.g. ``3-03-01-03`` 调解员) maps to one ISCO-08
unit group (``2619``). The table (``data/csco_isco08.csv``) is derived, not official: see
``data/README.md`` for how it was built (``bench/crosswalk_build.py``) and its hand-checked
accuracy. Codes are accepted as the project writes them: CSCO ``2-02-10-03``, ISCO-08
``ISCO-08:2512`` or ``2512``::

    isco_for_csco("3-03-01-03")                  # "2619"
    csco_for_isco("ISCO-08:2619")                # ("3-03-01-03", ...)
    occupation_group("3-03-01-03") == occupation_group("ISCO-08:2619")  # True
    occupation_group("3-03-01-03", level="minor")  # "ISCO-08:261"
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from functools import cache
from importlib import resources
from typing import Literal

GroupLevel = Literal["unit", "minor"]

_CSCO = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
_ISCO = re.compile(r"^(?:ISCO-08:)?(\d{1,4})$")


@cache
def _table() -> dict[str, str]:
    """CSCO level-4 code → ISCO-08 unit group (four digits)."""
    path = resources.files("taxonomy") / "data" / "csco_isco08.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["csco_code"]: row["isco08_unit"] for row in csv.DictReader(handle)}


@cache
def _by_isco() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for csco, isco in _table().items():
        grouped[isco].append(csco)
    return {isco: tuple(sorted(codes)) for isco, codes in grouped.items()}


@cache
def isco_for_csco(code: str) -> str | None:
    """The ISCO-08 unit group (``"2619"``) of a CSCO 2022 code. A code above level 4 (a 小类
    such as ``2-02-10-00``, as some labelled titles carry) takes the unit group most of its
    occupations map to; None for an unknown or non-CSCO code."""
    if not _CSCO.match(code):
        return None
    table = _table()
    if code in table:
        return table[code]
    prefix = re.sub(r"(?:-00)+$", "", code)
    if prefix == code:
        return None
    votes = Counter(isco for csco, isco in table.items() if csco.startswith(prefix + "-"))
    if not votes:
        return None
    # Ties go to the smaller code, so the answer never depends on the file's order.
    return min(votes, key=lambda isco: (-votes[isco], isco))


def csco_for_isco(code: str) -> tuple[str, ...]:
    """The CSCO 2022 level-4 codes mapped into an ISCO-08 group (``"2619"``,
    ``"ISCO-08:2619"``, or a shorter prefix such as ``"261"`` for a minor group), sorted."""
    match = _ISCO.match(code)
    if not match:
        return ()
    digits = match.group(1)
    if len(digits) == 4:
        return _by_isco().get(digits, ())
    return tuple(sorted(c for isco, codes in _by_isco().items() if isco.startswith(digits)
                        for c in codes))  # fmt: skip


@cache
def occupation_group(code: str | None, *, level: GroupLevel = "unit") -> str | None:
    """A key shared by the CSCO and ISCO-08 codes of one occupation group: ``ISCO-08:2619``
    (unit group) or ``ISCO-08:261`` (``level="minor"``); None when the code has no group."""
    if not code:
        return None
    match = _ISCO.match(code)
    unit = match.group(1) if match else isco_for_csco(code)
    if unit is None or len(unit) < 4:
        return None
    return f"ISCO-08:{unit if level == 'unit' else unit[:3]}"
