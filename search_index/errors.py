"""Errors raised by search backends (subclasses of the domain's ``IndexUnavailable``)."""

from __future__ import annotations

from core.errors import IndexUnavailable


class SearchBackendError(IndexUnavailable):
    """The backend failed to answer or to store a change."""


class IndexLockedError(SearchBackendError):
    """Another process holds the embedded index's writer lock."""
