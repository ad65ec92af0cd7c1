"""Normalization applied on every write: places to region codes, education names to levels,
skill lists cleaned. Shared by postings and candidates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.domain import parse_education_level
from core.errors import InvalidInput
from taxonomy.regions import region_directory


@dataclass(frozen=True)
class Place:
    city: str | None
    city_code: int | None
    district: str | None
    district_code: int | None


def normalize_place(city: str | None, district: str | None = None) -> Place:
    """ "Shenzhen"/"深圳市" → 深圳 (440300); "Nanshan" → 南山 (440305). Unknown places keep
    their text without a code (a foreign city is not an error)."""
    regions = region_directory()
    city_region = regions.city(city) if city else None
    district_region = regions.district(district, city_region) if district else None
    if city_region is None and district_region is not None:
        city_region = regions.city_of_district(district_region)
    if city_region is None and district and not city:
        # "南山区" alone, or "深圳南山": the district may name its city.
        city_region = regions.city(district)
    return Place(
        city=city_region.short_name if city_region else (city.strip() if city else None),
        city_code=city_region.code if city_region else None,
        district=(
            district_region.short_name
            if district_region
            else (district.strip() if district else None)
        ),
        district_code=district_region.code if district_region else None,
    )


# Ambiguous district names ("南山", "朝阳") resolve to the platform's home market first.
HOME_CITY_CODE = 440300


def normalize_place_text(text: str, *, prefer_city_code: int | None = HOME_CITY_CODE) -> Place:
    """A free-text location ("深圳市南山区", "Nanshan, Shenzhen", "广东省广州市天河区") → codes."""
    regions = region_directory()
    city = regions.city(text)
    district = regions.find_district_in_text(text, city, prefer_city_code=prefer_city_code)
    if district is not None and city is None:
        city = regions.city_of_district(district)
    if district is not None and city is not None and district.code == city.code:
        district = None
    return Place(
        city=city.short_name if city else None,
        city_code=city.code if city else None,
        district=district.short_name if district else None,
        district_code=district.code if district else None,
    )


def normalize_education_level(value: str | None, *, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_education_level(value).value
    except ValueError as exc:
        raise InvalidInput(
            "unknown education level; use none, high_school, associate, bachelor, master, "
            "doctorate (or 不限/高中/大专/本科/硕士/博士)",
            field=field,
        ) from exc


def clean_list(values: list[str] | None) -> list[str]:
    """Strip, drop empties and duplicates (case-insensitively), keep order."""
    seen: dict[str, str] = {}
    for value in values or []:
        text = " ".join(str(value).split())
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return list(seen.values())


def check_salary_range(low: float | None, high: float | None, *, field: str) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{field} must not exceed the maximum", field=field)


def months_between(start: str, end: str | None, *, today: date | None = None) -> int:
    """Whole months from ``YYYY-MM`` to ``YYYY-MM`` (None or "present" means today)."""
    today = today or date.today()
    sy, sm = (int(x) for x in start.split("-"))
    if end is None or end.lower() in {"present", "now", "至今", "今"}:
        ey, em = today.year, today.month
    else:
        ey, em = (int(x) for x in end.split("-"))
    return max(0, (ey - sy) * 12 + (em - sm) + 1)


def years_from_experience(
    entries: list[dict[str, str | None]], *, today: date | None = None
) -> float | None:
    """Total years worked, overlapping jobs counted once."""
    spans: list[tuple[int, int]] = []
    today = today or date.today()
    for entry in entries:
        start = entry.get("start")
        if not start:
            continue
        sy, sm = (int(x) for x in start.split("-"))
        first = sy * 12 + sm
        months = months_between(start, entry.get("end"), today=today)
        spans.append((first, first + months))
    if not spans:
        return None
    spans.sort()
    total = 0
    cur_start, cur_end = spans[0]
    for s, e in spans[1:]:
        if s <= cur_end:
            cur_end = max(cur_end, e)
        else:
            total += cur_end - cur_start
            cur_start, cur_end = s, e
    total += cur_end - cur_start
    return round(total / 12, 1)
