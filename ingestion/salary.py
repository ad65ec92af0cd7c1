"""Salary text → a monthly CNY range plus the months paid per year.

Handles the forms Chinese and English postings use: "15-25K·13薪", "1.5万-2万/月",
"20-30万/年", "面议", "200元/天", "50元/时", "$120k–150k/yr", "8000以上". Annual figures
are divided by the months paid (12 unless "N薪" says otherwise); daily and hourly rates
assume 21.75 working days and 8 hours a day (the statutory averages); foreign currencies use
configurable rates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Statutory monthly averages in China (人社部): 21.75 paid working days, 8-hour days.
WORK_DAYS_PER_MONTH = 21.75
HOURS_PER_DAY = 8.0
DEFAULT_RATES_TO_CNY = {"CNY": 1.0, "USD": 7.2, "HKD": 0.92, "EUR": 7.8, "GBP": 9.1}


@dataclass(frozen=True)
class Salary:
    monthly_min: float | None
    monthly_max: float | None
    months_per_year: int = 12
    negotiable: bool = False
    currency: str = "CNY"  # of the original text
    period: str = "month"  # of the original text: month, year, day, hour


_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE = re.compile(rf"{_NUMBER}\s*([kK千wW万]?)\s*(?:[-~～—–至到]|to)\s*{_NUMBER}\s*([kK千wW万]?)")
_SINGLE = re.compile(rf"{_NUMBER}\s*([kK千wW万]?)")
# "13薪", "14 months", and a multiplier after the monthly range: "10k-15k*14", "x 14", "×13".
_MONTHS = re.compile(
    r"(\d{2})\s*薪|(\d{2})\s*(?:months|month salary)|[*xX×]\s*(1[2-8])(?!\d)", re.IGNORECASE
)
_WAN_DIGIT = re.compile(r"(\d+)万(\d)(?![\d.])")  # "1万5" = 1.5万
_CURRENCY_MARKS = re.compile(r"HK\$|[$€£¥]|\b(?:RMB|CNY|USD|HKD|EUR|GBP)\b", re.IGNORECASE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NEGOTIABLE = re.compile(r"面议|薪资面谈|negotiable|competitive|\bDOE\b", re.IGNORECASE)
_AT_LEAST = re.compile(r"以上|起|\+|at least|from|or more", re.IGNORECASE)
_AT_MOST = re.compile(r"以下|以内|up to|at most", re.IGNORECASE)


def _unit_factor(unit: str) -> float:
    return {"k": 1e3, "K": 1e3, "千": 1e3, "w": 1e4, "W": 1e4, "万": 1e4}.get(unit, 1.0)


def _currency(text: str) -> str:
    lowered = text.lower()
    if "$" in text and "hk$" not in lowered or "usd" in lowered or "美元" in text:
        return "USD"
    if "hk$" in lowered or "hkd" in lowered or "港币" in text or "港元" in text:
        return "HKD"
    if "€" in text or "eur" in lowered or "欧元" in text:
        return "EUR"
    if "£" in text or "gbp" in lowered or "英镑" in text:
        return "GBP"
    return "CNY"


def _period(text: str) -> str:
    lowered = text.lower()
    if re.search(r"/\s*年|每年|年薪|per year|/\s*yr|/\s*year|a year|annual|annum|p\.a\.", lowered):
        return "year"
    if re.search(r"/\s*天|元/天|每天|日薪|/\s*日|per day|/\s*day|a day|daily", lowered):
        return "day"
    if re.search(r"/\s*(?:小)?时|时薪|每小时|per hour|/\s*h(?:ou)?r|an hour|hourly", lowered):
        return "hour"
    return "month"


def parse_salary(text: str, *, rates_to_cny: dict[str, float] | None = None) -> Salary | None:
    """The salary a text states, or None when it states none."""
    if not text or not text.strip():
        return None
    rates = rates_to_cny or DEFAULT_RATES_TO_CNY
    if _NEGOTIABLE.search(text) and not re.search(r"\d", text):
        return Salary(None, None, negotiable=True)
    months_match = _MONTHS.search(text)
    months = int(next(group for group in months_match.groups() if group)) if months_match else 12
    body = _THOUSANDS.sub("", _MONTHS.sub(" ", text))
    body = _WAN_DIGIT.sub(r"\1.\2万", body).replace("过万", "10000以上")
    currency = _currency(body)
    period = _period(body)
    body = _CURRENCY_MARKS.sub(" ", body)  # "$120k-$150k": symbols between the numbers
    low: float | None
    high: float | None
    match = _RANGE.search(body)
    if match:
        a, unit_a, b, unit_b = match.groups()
        # "15-25K": the unit written once applies to both ends.
        unit_a = unit_a or unit_b
        low, high = float(a) * _unit_factor(unit_a), float(b) * _unit_factor(unit_b)
    else:
        single = _SINGLE.search(body)
        if not single:
            return Salary(None, None, negotiable=bool(_NEGOTIABLE.search(text)))
        value = float(single.group(1)) * _unit_factor(single.group(2))
        if _AT_MOST.search(body):
            low, high = None, value
        elif _AT_LEAST.search(body):
            low, high = value, None
        else:
            low = high = value
    if period == "month" and currency == "CNY" and high is not None and high < 100 and not match:
        return None  # "3年经验" style numbers are not salaries
    factor = rates.get(currency, 1.0)
    if period == "year":
        factor /= months
    elif period == "day":
        factor *= WORK_DAYS_PER_MONTH
    elif period == "hour":
        factor *= WORK_DAYS_PER_MONTH * HOURS_PER_DAY

    def monthly(value: float | None) -> float | None:
        return None if value is None else round(value * factor, 2)

    return Salary(
        monthly(low),
        monthly(high),
        months_per_year=months,
        negotiable=bool(_NEGOTIABLE.search(text)),
        currency=currency,
        period=period,
    )
