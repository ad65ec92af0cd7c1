"""The domain's error hierarchy. No HTTP here: ``api/errors.py`` maps these to responses."""

from __future__ import annotations

from typing import Any


class TalentMatchError(Exception):
    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(TalentMatchError):
    code = "not_found"


class Conflict(TalentMatchError):
    code = "conflict"


class InvalidInput(TalentMatchError):
    """Input that passed the schema but is wrong in substance; ``field`` names where."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, details: Any = None) -> None:
        if details is None and field is not None:
            details = [{"field": field, "message": message}]
        super().__init__(message, details=details)
        self.field = field


class Unauthorized(TalentMatchError):
    code = "unauthorized"


class IndexUnavailable(TalentMatchError):
    code = "index_unavailable"


class Forbidden(TalentMatchError):
    code = "forbidden"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


class RateLimited(TalentMatchError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, details={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


class NoncompliantPosting(InvalidInput):
    """A posting with unlawful discriminatory requirements, refused under a tenant's
    ``block`` policy; ``flags`` are the stored (language-neutral) flags, ``details`` name the
    field of each."""

    code = "noncompliant_posting"

    def __init__(self, message: str, *, flags: list[dict[str, Any]]) -> None:
        details = [{"field": f["field"], "message": f"{f['category']}: {f['text']}", **f}
                   for f in flags]  # fmt: skip
        super().__init__(message, field=flags[0]["field"] if flags else None, details=details)
        self.flags = flags
