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

_PROFESSIONAL = ("21", "22", "23", "24", "25", "26", "31", "32", "33", "34", "35")
# CSCO 中类 (first two parts of the code; a major alone for 7 and 8) → the ISCO-08 groups
# (sub-major, two digits, or minor, three) its occupations may map into, written from the
# two classifications' group definitions. CSCO 2-02 工程技术人员 are engineers (ISCO 21/25,
# not the technicians of 31); each 中类 of CSCO 6 goes to the trades (7) and operators (8)
# of its own industry (chemicals to 313/813, metals to 812/721 …), since a short industrial
# name alone often lands on a look-alike of another industry.
ALLOWED: dict[str, tuple[str, ...]] = {
    "1-01": ("11",), "1-02": ("11",), "1-03": ("11",), "1-04": ("11",), "1-05": ("11",),
    "1-06": ("11", "12", "13", "14"),
    "2-01": ("21", "22", "23", "26"),
    "2-02": ("21", "25"),
    "2-03": ("21", "22"),
    "2-04": ("21", "31"),
    "2-05": ("22", "32"),
    "2-06": ("24", "26", "33"),
    "2-07": ("221", "26", "34"),  # 2-07-06 法医: forensic doctors
    "2-08": ("23",),
    "2-09": ("26", "34"),
    "2-10": ("26", "34"),
    "2-99": _PROFESSIONAL,
    "3-01": ("24", "33", "41", "42", "43", "44"),
    "3-02": ("31", "33", "54"),
    "3-03": ("26", "34"),
    "3-99": ("33", "34", "41", "42", "43", "44", "54"),
    "4-01": ("14", "33", "42", "52", "95"),
    "4-02": ("31", "43", "44", "51", "54", "83", "93", "96"),
    "4-03": ("14", "42", "51", "94"),
    "4-04": ("25", "35", "42", "52"),
    "4-05": ("24", "33", "42"),
    "4-06": ("33", "51"),
    "4-07": ("24", "33", "34", "42", "43", "44", "51", "52"),
    "4-08": ("21", "31", "32", "35"),
    "4-09": ("21", "31", "61", "62", "75", "81", "91", "92", "96"),
    "4-10": ("51", "52", "53", "753", "91", "96"),
    "4-11": ("31", "41", "42", "71", "74", "81"),
    "4-12": ("71", "72", "73", "74", "75"),
    "4-13": ("23", "24", "26", "34", "44", "51", "813"),
    "4-14": ("22", "32", "33", "34", "51", "53", "54"),
    "4-99": ("41", "42", "43", "44", "51", "52", "53", "91", "94", "95", "96"),
    "5-01": ("61", "92"), "5-02": ("62", "92"), "5-03": ("61", "92"), "5-04": ("62", "92"),
    "5-05": ("31", "61", "62", "72", "83", "92"),
    "6-01": ("751", "816", "93"), "6-02": ("751", "816"), "6-03": ("751", "816"),
    "6-04": ("731", "753", "815"), "6-05": ("753", "815"), "6-06": ("752", "817"),
    "6-07": ("817",), "6-08": ("732", "813"), "6-09": ("731", "75", "82"),
    "6-10": ("313", "813"), "6-11": ("313", "813"), "6-12": ("313", "813"),
    "6-13": ("313", "813", "815"), "6-14": ("814",), "6-15": ("711", "731", "811", "818"),
    "6-16": ("311", "811", "93"), "6-17": ("3135", "721", "812"),
    "6-18": ("721", "722"), "6-19": ("721", "722", "812", "821"),
    "6-20": ("722", "723", "821"), "6-21": ("722", "723", "821"),
    "6-22": ("722", "723", "821"), "6-23": ("721", "723", "741", "821"),
    "6-24": ("741", "742", "814", "821"), "6-25": ("741", "742", "821"),
    "6-26": ("731", "741", "742", "821"), "6-27": ("81", "93", "96"),
    "6-28": ("313", "712", "741"), "6-29": ("71", "834", "93"), "6-30": ("83", "93"),
    "6-31": ("311", "72", "74", "754", "81", "93"),
    "7": ("01", "02", "03"),
}  # fmt: skip


# Occupations where the nearest ESCO label is plainly wrong and the market statistics and
# cross-language search lean on them most (the commonest postings in Shenzhen), mapped by
# hand; every other row is the encoder's choice.
HAND_MAPPED: dict[str, str] = {
    "2-02-10-03": "2512",  # 计算机软件工程技术人员: software developers (nearest: hardware)
    "2-02-10-08": "2522",  # 信息系统运行维护工程技术人员: systems administrators
}


def allowed_groups(csco_code: str) -> tuple[str, ...] | None:
    """The ISCO-08 groups (code prefixes) a CSCO code may map into; None: any."""
    return ALLOWED.get(csco_code[:4], ALLOWED.get(csco_code[:1]))


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
    rows = []
    for i, code in enumerate(codes):
        allowed = allowed_groups(code)
        scores = similarity[i].copy()
        if allowed is not None:
            inside = np.array([u.startswith(allowed) for u in units])
            scores[~inside] = -np.inf
        best = int(np.argmax(scores))
        by_unit: dict[str, float] = defaultdict(lambda: -np.inf)
        for j in np.argsort(-scores)[:40]:
            by_unit[units[j]] = max(by_unit[units[j]], float(scores[j]))
        runner_up = next((u for u in sorted(by_unit, key=lambda u: -by_unit[u])
                          if u != units[best]), "")  # fmt: skip
        rows.append({
            "csco_code": code,
            "csco_name": _strip_markers(csco[code]["name"]),
            "isco08_unit": HAND_MAPPED.get(code, units[best]),
            "nearest_esco_label": "(mapped by hand)" if code in HAND_MAPPED
            else esco[best]["preferredLabel"],
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
