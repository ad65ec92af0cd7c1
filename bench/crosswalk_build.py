"""Derives the CSCO 2022 → ISCO-08 crosswalk shipped in ``taxonomy/data/csco_isco08.csv``.

No public CSCO 2022 ↔ ISCO-08 table exists in this project's data, so one is derived: each
CSCO occupation (level 4, 细类) goes to the ISCO-08 unit group holding the ESCO occupation
nearest to it under the multilingual USE encoder (the CSCO name against the ESCO preferred
label, the CSCO definition against the ESCO description), among the ISCO-08 sub-major groups
that a hand-written table allows for its CSCO 中类 (``ALLOWED``: e.g. CSCO 2-08 教学人员 may
only map into ISCO 23 Teaching professionals). The encoder runs here only, never at run
time: the product reads the CSV. Run from the repository root::

    python -m bench.crosswalk_build  # rewrites taxonomy/data/csco_isco08.csv
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from representation.encoders import UniversalSentenceEncoder

ROOT = Path(__file__).resolve().parent.parent
CSCO_PATH = ROOT / "taxonomy" / "data" / "csco2022_occupations.csv"
ESCO_PATH = ROOT / "taxonomy" / "data" / "esco_occupations_en.csv"
OUTPUT = ROOT / "taxonomy" / "data" / "csco_isco08.csv"
NAME_WEIGHT = 0.6  # the rest goes to definition ↔ description

_MANUFACTURING = ("31", "71", "72", "73", "74", "75", "81", "82", "83", "93")
_PROFESSIONAL = ("21", "22", "23", "24", "25", "26", "31", "32", "33", "34", "35")
# CSCO 中类 (first two parts of the code; a major alone for 7 and 8) → ISCO-08 sub-major
# groups (two digits) its occupations may map into, written from the two classifications'
# group definitions.
ALLOWED: dict[str, tuple[str, ...]] = {
    "1-01": ("11",), "1-02": ("11",), "1-03": ("11",), "1-04": ("11",), "1-05": ("11",),
    "1-06": ("11", "12", "13", "14"),
    "2-01": ("21", "22", "26"),
    "2-02": ("21", "25", "31", "35"),
    "2-03": ("21", "22", "31", "32"),
    "2-04": ("21", "31"),
    "2-05": ("22", "32"),
    "2-06": ("24", "26", "33"),
    "2-07": ("26", "34"),
    "2-08": ("23",),
    "2-09": ("26", "34"),
    "2-10": ("26", "34"),
    "2-99": _PROFESSIONAL,
    "3-01": ("24", "33", "41", "42", "43", "44"),
    "3-02": ("31", "33", "54"),
    "3-03": ("26", "34"),
    "3-99": ("33", "34", "41", "42", "43", "44", "54"),
    "4-01": ("14", "33", "42", "52", "95"),
    "4-02": ("31", "43", "44", "51", "83", "93", "96"),
    "4-03": ("14", "42", "51", "94"),
    "4-04": ("25", "35"),
    "4-05": ("24", "33", "42"),
    "4-06": ("33", "51"),
    "4-07": ("24", "33", "34", "42", "43", "44", "51", "52"),
    "4-08": ("21", "31", "32", "35"),
    "4-09": ("21", "31", "61", "62", "81", "91", "92", "96"),
    "4-10": ("51", "52", "53", "91", "96"),
    "4-11": ("31", "41", "42", "71", "74", "81"),
    "4-12": ("71", "72", "73", "74", "75"),
    "4-13": ("23", "26", "34", "44", "51"),
    "4-14": ("22", "32", "34", "51", "53"),
    "4-99": ("41", "42", "43", "44", "51", "52", "53", "91", "94", "95", "96"),
    "5-01": ("61", "92"), "5-02": ("62", "92"), "5-03": ("61", "92"), "5-04": ("62", "92"),
    "5-05": ("31", "61", "62", "72", "83", "92"),
    "6-29": ("31", "71", "83", "93"),
    "6-30": ("72", "81", "83", "93"),
    "7": ("01", "02", "03"),
}  # fmt: skip


def allowed_sub_majors(csco_code: str) -> tuple[str, ...] | None:
    """The ISCO-08 sub-major groups a CSCO code may map into; None: any."""
    middle = csco_code[:4]
    if middle in ALLOWED:
        return ALLOWED[middle]
    if csco_code.startswith("6-"):
        return _MANUFACTURING
    return ALLOWED.get(csco_code[:1])


def _strip_markers(name: str) -> str:
    return re.sub(r"(?:L/S|L|S|P)$", "", name.strip())


def build(output: Path = OUTPUT) -> int:
    """Encodes both classifications and writes the crosswalk CSV."""
    with CSCO_PATH.open(encoding="utf-8") as f:
        csco = {row["code"]: row for row in csv.DictReader(f) if row["level"] == "4"}
    with ESCO_PATH.open(encoding="utf-8") as f:
        esco = [row for row in csv.DictReader(f) if row["iscoGroup"]]
    encoder = UniversalSentenceEncoder()
    codes = sorted(csco)
    csco_names = encoder.encode([_strip_markers(csco[c]["name"]) for c in codes])
    csco_definitions = encoder.encode(
        [f"{_strip_markers(csco[c]['name'])}：{csco[c]['definition']}" for c in codes]
    )
    esco_labels = encoder.encode([row["preferredLabel"] for row in esco])
    esco_descriptions = encoder.encode(
        [f"{row['preferredLabel']}: {row['description'][:400]}" for row in esco]
    )
    similarity = NAME_WEIGHT * (csco_names @ esco_labels.T) + (1 - NAME_WEIGHT) * (
        csco_definitions @ esco_descriptions.T
    )
    units = np.array([row["iscoGroup"][:4] for row in esco])
    sub_majors = np.array([u[:2] for u in units])
    rows = []
    for i, code in enumerate(codes):
        allowed = allowed_sub_majors(code)
        scores = similarity[i].copy()
        if allowed is not None:
            scores[~np.isin(sub_majors, allowed)] = -np.inf
        best = int(np.argmax(scores))
        by_unit: dict[str, float] = defaultdict(lambda: -np.inf)
        for j in np.argsort(-scores)[:40]:
            by_unit[units[j]] = max(by_unit[units[j]], float(scores[j]))
        runner_up = next((u for u in sorted(by_unit, key=lambda u: -by_unit[u])
                          if u != units[best]), "")  # fmt: skip
        rows.append({
            "csco_code": code,
            "csco_name": _strip_markers(csco[code]["name"]),
            "isco08_unit": units[best],
            "nearest_esco_label": esco[best]["preferredLabel"],
            "similarity": f"{scores[best]:.3f}",
            "runner_up_unit": runner_up,
        })  # fmt: skip
    with output.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} CSCO occupations → {len({r['isco08_unit'] for r in rows})} ISCO-08 units")
    return 0


if __name__ == "__main__":
    sys.exit(build())
