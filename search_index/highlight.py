"""Highlights: the query's terms marked with <em> in short, HTML-escaped snippets of the
original (unsegmented) text.

Keyword search also matches Chinese characters the query shares with a text (药剂师 finds
药学), so a field with none of the query's words is highlighted by its shared character
bigrams, or failing those its shared characters; a field with a word or bigram never marks
lone characters (every 师 of a page would light up).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from search_index.tokenize import char_grams, tokenize

_WINDOW = 40


def _pattern(terms: set[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        escaped = re.escape(term)
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if term.isascii() else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def highlight(
    query: str, fields: dict[str, str | None], *, max_snippets: int = 2
) -> dict[str, list[str]]:
    """Snippets per field where a query term occurs; fields without a match are left out."""
    patterns = query_patterns(query)
    out: dict[str, list[str]] = {}
    for name, text in fields.items():
        if not text:
            continue
        for pattern in patterns:
            matches = list(pattern.finditer(text))
            if matches:
                break
        else:
            continue
        snippets: list[str] = []
        covered_until = -1
        for match in matches:
            if match.start() < covered_until:
                continue
            start = max(0, match.start() - _WINDOW)
            end = min(len(text), match.end() + _WINDOW)
            snippets.append(_mark(text, start, end, pattern))
            covered_until = end
            if len(snippets) >= max_snippets:
                break
        out[name] = snippets
    return out


@lru_cache(maxsize=1024)
def query_patterns(query: str) -> tuple[re.Pattern[str], ...]:
    """The query's patterns, most specific first: words and bigrams, then characters (for
    fields where neither occurs). Cached: every hit of a page, and a repeated query, reuse
    one segmentation and one compiled pattern."""
    words = {t for t in tokenize(query) if len(t) >= 2 or not t.isascii()}
    grams = char_grams(query)
    return tuple(
        p
        for p in (
            _pattern(words | {g for g in grams if len(g) == 2}),
            _pattern({g for g in grams if len(g) == 1}),
        )
        if p is not None
    )


def _mark(text: str, start: int, end: int, pattern: re.Pattern[str]) -> str:
    window = text[start:end]
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(window):
        pieces.append(html.escape(window[last : match.start()]))
        pieces.append(f"<em>{html.escape(match.group(0))}</em>")
        last = match.end()
    pieces.append(html.escape(window[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(pieces).replace("\n", " ") + suffix
