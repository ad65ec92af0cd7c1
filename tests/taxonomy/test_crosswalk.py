"""The CSCO 2022 ↔ ISCO-08 crosswalk: complete over CSCO occupations, inside the hand-written
group table it was built under, consistent both ways, and the file the hand check was of."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from bench.crosswalk_build import allowed_groups
from taxonomy.crosswalk import csco_for_isco, isco_for_csco, occupation_group

DATA = Path(__file__).resolve().parents[2] / "taxonomy" / "data"


def _csco_level4() -> set[str]:
    with (DATA / "csco2022_occupations.csv").open(encoding="utf-8") as f:
        return {row["code"] for row in csv.DictReader(f) if row["level"] == "4"}


def _esco_units() -> set[str]:
    with (DATA / "esco_occupations_en.csv").open(encoding="utf-8") as f:
        return {row["iscoGroup"][:4] for row in csv.DictReader(f) if row["iscoGroup"]}


def test_every_csco_occupation_maps_to_an_isco_unit_group_its_table_allows() -> None:
    units = _esco_units()
    for code in _csco_level4():
        unit = isco_for_csco(code)
        assert unit is not None and unit in units, code
        allowed = allowed_groups(code)
        assert allowed is None or unit.startswith(allowed), (code, unit)


def test_both_directions_and_the_shared_group_key_agree() -> None:
    for code in sorted(_csco_level4())[::7]:
        unit = isco_for_csco(code)
        assert unit is not None
        assert code in csco_for_isco(unit) and code in csco_for_isco(f"ISCO-08:{unit}")
        assert code in csco_for_isco(unit[:3])  # a minor group holds its units' occupations
        assert occupation_group(code) == occupation_group(f"ISCO-08:{unit}") == f"ISCO-08:{unit}"
        assert occupation_group(code, level="minor") == f"ISCO-08:{unit[:3]}"


def test_well_known_occupations_land_in_their_unit_groups() -> None:
    # 法官 judges, 消防员 firefighters, 秘书 secretaries, 营养师 dietitians.
    assert isco_for_csco("2-07-02-00") == "2612"
    assert isco_for_csco("3-02-03-01") == "5411"
    assert isco_for_csco("3-01-02-02") == "4120"
    assert isco_for_csco("4-14-02-01") == "2265"
    # A mediator and a judge share the ISCO minor group 261 (legal professionals).
    assert occupation_group("3-03-01-03", level="minor") == occupation_group(
        "ISCO-08:2612", level="minor"
    )


def test_group_codes_and_unknown_codes() -> None:
    # A 小类 above level 4 takes the unit most of its occupations map to.
    children = [c for c in _csco_level4() if c.startswith("2-02-10-")]
    votes = Counter(isco_for_csco(c) for c in children)
    assert isco_for_csco("2-02-10-00") == min(votes, key=lambda u: (-votes[u], u or ""))
    assert isco_for_csco("9-99-99-99") is None and isco_for_csco("ISCO-08:2512") is None
    assert occupation_group(None) is None and occupation_group("Java") is None
    assert occupation_group("ISCO-08:25") is None  # a sub-major group is not a unit
    assert csco_for_isco("not a code") == ()


def test_the_checked_sample_is_of_the_shipped_file_and_its_accuracy_is_the_reported_one() -> None:
    with (DATA / "crosswalk_checked.csv").open(encoding="utf-8") as f:
        checked = list(csv.DictReader(f))
    assert len(checked) >= 60
    for row in checked:
        assert isco_for_csco(row["csco_code"]) == row["isco08_unit"], row
        assert row["unit_right"] in ("yes", "no") and row["minor_right"] in ("yes", "no")
        assert row["unit_right"] == "no" or row["minor_right"] == "yes"
    unit = sum(r["unit_right"] == "yes" for r in checked)
    minor = sum(r["minor_right"] == "yes" for r in checked)
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    found = re.search(r"unit group (\d+) of (\d+) right.*?minor group (\d+) of \2", readme)
    assert found, "taxonomy/data/README.md reports the checked sample's accuracy"
    assert (int(found.group(1)), int(found.group(2)), int(found.group(3))) == (
        unit,
        len(checked),
        minor,
    )
