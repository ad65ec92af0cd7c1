"""Highlights: the query's terms marked with <em> in short, HTML-escaped snippets of the
original (unsegmented) text."""

from __future__ import annotations

import html
import re

from search_index.tokenize import tokenize

_WINDOW = 40


def _pattern(query: str) -> re.Pattern[str] | None:
    terms = {t for t in tokenize(query) if len(t) >= 2 or not t.isascii()}
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
    pattern = _pattern(query)
    if pattern is None:
        return {}
    out: dict[str, list[str]] = {}
    for name, text in fields.items():
        if not text:
            continue
        matches = list(pattern.finditer(text))
        if not matches:
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
