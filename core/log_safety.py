"""What an error may put into a log. Exception messages carry whatever the failing code held
(SQL parameters, parsed résumé text, names), so logs get the exception types and where they
were raised, never the messages."""

from __future__ import annotations

import traceback


def describe_failure(exc: BaseException) -> str:
    """The exception chain as types and raise sites, without any message."""
    parts: list[str] = []
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                            for f in reversed(frames[-6:]))  # fmt: skip
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}"
                     + (f" at {where}" if where else ""))  # fmt: skip
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)
