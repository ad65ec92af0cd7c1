"""Facet counts as the API shows them: each value as the filter of the same name accepts it,
with a label in the caller's language (zh or en)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.schemas import FacetValue
from core.domain import EDUCATION_ORDER
from search_index.protocol import SALARY_BANDS
from taxonomy.regions import region_directory

# The most values one facet lists (companies can run into the hundreds at a big fair).
MAX_VALUES = 50

EMPLOYMENT_TYPE_LABELS = {
    "zh": {"full_time": "全职", "part_time": "兼职", "internship": "实习",
           "flexible": "灵活用工", "dispatch": "劳务派遣"},
    "en": {"full_time": "Full-time", "part_time": "Part-time", "internship": "Internship",
           "flexible": "Flexible", "dispatch": "Agency staffing"},
}  # fmt: skip
EDUCATION_LABELS = {
    "zh": {"none": "不限", "high_school": "高中", "associate": "大专", "bachelor": "本科",
           "master": "硕士", "doctorate": "博士"},
    "en": {"none": "Any", "high_school": "High school", "associate": "Associate degree",
           "bachelor": "Bachelor's", "master": "Master's", "doctorate": "Doctorate"},
}  # fmt: skip


def _thousands(amount: float) -> str:
    return f"{amount / 1000:g}"


def salary_band_label(low: float, high: float | None) -> str:
    """Monthly CNY in thousands, as Chinese job boards write it: 10-15K, 50K+."""
    return f"{_thousands(low)}K+" if high is None else f"{_thousands(low)}-{_thousands(high)}K"


def facet_values(name: str, counts: Mapping[Any, int], language: str) -> list[FacetValue]:
    """The index's counts for facet ``name`` (codes, ranks, band numbers) as API values."""
    regions = region_directory()
    values: list[FacetValue] = []
    if name == "salary":
        for band, count in sorted(counts.items()):
            low, high = SALARY_BANDS[band]
            label = salary_band_label(low, high)
            values.append(FacetValue(value=label, label=label, count=count, min=low, max=high))
        return values
    if name == "education":
        for rank, count in sorted(counts.items()):
            level = EDUCATION_ORDER[rank].value
            values.append(
                FacetValue(value=level, label=EDUCATION_LABELS[language][level], count=count)
            )
        return values
    for key, count in counts.items():
        if name in ("city", "district"):
            region = regions.by_code.get(int(key))
            if region is None:
                continue
            label = region.short_name if language == "zh" else region.pinyin or region.short_name
            city = regions.city_of_district(region) if name == "district" else None
            values.append(FacetValue(value=region.short_name, label=label, count=count,
                                     city=city.short_name if city else None))  # fmt: skip
        elif name == "employment_type":
            label = EMPLOYMENT_TYPE_LABELS[language].get(key, key)
            values.append(FacetValue(value=key, label=label, count=count))
        else:  # company
            values.append(FacetValue(value=key, label=key, count=count))
    values.sort(key=lambda v: (-v.count, v.label))
    return values[:MAX_VALUES]
