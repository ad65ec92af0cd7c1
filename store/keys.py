"""API keys: ``tm_<key id>_<secret>``. Stored as a peppered SHA-256 of the secret, compared
in constant time; the full key is shown once, at creation or rotation.

A key has a role (what kind of client holds it) and scopes (what it may do, at most its
role's). Browser keys (role ``public``) serve one career fair from listed page origins.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, NotFound, Unauthorized
from store.models import ApiKey, Fair, Tenant, utcnow

ROLES = ("admin", "agency", "fair", "partner", "public")
SCOPES = (
    "jobs:read", "jobs:write", "candidates:read", "candidates:write", "candidates:contact",
    "match", "feedback:write", "fairs:write", "admin",
)  # fmt: skip
# The most a role's key may be given, and what it gets when no scopes are named.
ROLE_MAX_SCOPES: dict[str, tuple[str, ...]] = {
    "admin": SCOPES,
    "agency": ("jobs:read", "jobs:write", "candidates:read", "candidates:write",
               "candidates:contact", "match", "feedback:write"),
    "fair": ("jobs:read", "jobs:write", "fairs:write"),
    "partner": ("jobs:read", "candidates:read", "candidates:write", "candidates:contact",
                "match", "feedback:write"),
    "public": ("jobs:read",),
}  # fmt: skip
ROLE_DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    **ROLE_MAX_SCOPES,
    # A partner app acts for job seekers: it needs no recruiter's view of their contacts.
    "partner": ("jobs:read", "candidates:read", "candidates:write", "match", "feedback:write"),
}
_KEY_RE = re.compile(r"^tm_([a-z0-9]{12})_([A-Za-z0-9_-]{20,100})$")
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant, role and scopes behind a valid key."""

    tenant_id: str
    role: str
    key_id: str
    scopes: frozenset[str] = frozenset()
    fair_id: str | None = None
    origins: tuple[str, ...] = ()

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def _hash_secret(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def get_or_create_tenant(session: Session, tenant_id: str, name: str | None = None) -> Tenant:
    """The tenant with this id, created if new."""
    if not _TENANT_RE.fullmatch(tenant_id):
        raise InvalidInput(
            "tenant id must be 1-64 lower-case letters, digits, '.', '_' or '-'", field="tenant"
        )
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        tenant = Tenant(id=tenant_id, name=name or tenant_id)
        session.add(tenant)
        session.flush()
    return tenant


def normalize_origin(origin: str) -> str:
    """``https://Jobs.SZU.edu.cn:443/`` → ``https://jobs.szu.edu.cn``; a page origin as
    browsers send it in the Origin header."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise InvalidInput(f"origin must be scheme://host[:port], not {origin!r}", field="origins")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def _checked_scopes(role: str, scopes: list[str] | None) -> list[str]:
    if scopes is None:
        return list(ROLE_DEFAULT_SCOPES[role])
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInput(f"unknown scopes: {', '.join(unknown)}", field="scopes")
    beyond = [s for s in scopes if s not in ROLE_MAX_SCOPES[role]]
    if beyond:
        raise InvalidInput(f"a {role} key cannot have: {', '.join(beyond)}", field="scopes")
    return list(dict.fromkeys(scopes))


def create_key(
    session: Session,
    *,
    tenant_id: str,
    role: str,
    pepper: str,
    scopes: list[str] | None = None,
    origins: list[str] | None = None,
    fair_id: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Create a key for a tenant (created if needed) and return the full key, shown once."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    checked = _checked_scopes(role, scopes)
    allowed_origins = list(dict.fromkeys(normalize_origin(o) for o in origins or []))
    if role == "public":
        if not fair_id:
            raise InvalidInput("a public key serves one fair: give its id", field="fair")
        if not allowed_origins:
            raise InvalidInput("a public key needs the page origins allowed to use it",
                               field="origins")  # fmt: skip
    elif fair_id is not None:
        raise InvalidInput("only public keys are bound to a fair", field="fair")
    if fair_id is not None and session.get(Fair, fair_id) is None:
        raise InvalidInput(f"no fair {fair_id!r}", field="fair")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("expiry must be in the future", field="expires_at")
    get_or_create_tenant(session, tenant_id)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id, tenant_id=tenant_id, role=role, secret_hash=_hash_secret(secret, pepper),
            scopes=checked, origins=allowed_origins, fair_id=fair_id, expires_at=expires_at,
        )
    )  # fmt: skip
    session.flush()
    return f"tm_{key_id}_{secret}"


def authenticate(session: Session, presented: str, *, pepper: str) -> Principal:
    """The principal behind a presented key; ``Unauthorized`` for anything else."""
    match = _KEY_RE.fullmatch(presented.strip())
    if not match:
        raise Unauthorized("malformed API key")
    key_id, secret = match.groups()
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    if not hmac.compare_digest(key.secret_hash, _hash_secret(secret, pepper)):
        raise Unauthorized("unknown or revoked API key")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthorized("expired API key")
    return Principal(
        tenant_id=key.tenant_id, role=key.role, key_id=key.id,
        # An empty list is a key with no scopes, not one with its role's defaults.
        scopes=frozenset(ROLE_DEFAULT_SCOPES[key.role] if key.scopes is None else key.scopes),
        fair_id=key.fair_id,
        origins=tuple(key.origins or ()),
    )  # fmt: skip


def _key_id(key_or_id: str) -> str:
    match = _KEY_RE.fullmatch(key_or_id.strip())
    return match.group(1) if match else key_or_id.strip()


def find_key(session: Session, key_or_id: str) -> ApiKey | None:
    return session.get(ApiKey, _key_id(key_or_id))


def revoke_key(session: Session, key_or_id: str) -> bool:
    """Revoke by full key or key id; False when no such key exists."""
    key = find_key(session, key_or_id)
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return True


def rotate_key(session: Session, key_or_id: str, *, pepper: str, grace_hours: float = 0) -> str:
    """A new key with the same tenant, role, scopes, origins, fair and expiry; the old one
    stops working now, or after ``grace_hours`` so clients can switch over."""
    old = find_key(session, key_or_id)
    if old is None or old.revoked_at is not None:
        raise NotFound("no such active key")
    new = create_key(
        session, tenant_id=old.tenant_id, role=old.role, pepper=pepper, scopes=list(old.scopes),
        origins=list(old.origins), fair_id=old.fair_id,
        expires_at=old.expires_at if old.expires_at and old.expires_at > utcnow() else None,
    )  # fmt: skip
    old.replaced_by = _key_id(new)
    if grace_hours > 0:
        until = utcnow() + timedelta(hours=grace_hours)
        old.expires_at = min(old.expires_at, until) if old.expires_at else until
    else:
        old.revoked_at = utcnow()
    return new


def list_keys(session: Session, tenant_id: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.created_at)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    return list(session.scalars(query))


def allowed_browser_origins(session: Session) -> set[str]:
    """Origins some active public key lists: the ones CORS preflights may be answered for."""
    now = utcnow()
    origins: set[str] = set()
    for key in session.scalars(select(ApiKey).where(ApiKey.role == "public",
                                                    ApiKey.revoked_at.is_(None))):  # fmt: skip
        if key.expires_at is None or key.expires_at > now:
            origins.update(key.origins or ())
    return origins
