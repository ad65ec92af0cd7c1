"""API keys: ``tm_<key id>_<secret>``. Stored as a peppered SHA-256 of the secret, compared
in constant time; the full key is shown once, at creation."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, Unauthorized
from store.models import ApiKey, Tenant, utcnow

ROLES = ("admin", "agency", "fair", "partner", "public")
_KEY_RE = re.compile(r"^tm_([a-z0-9]{12})_([A-Za-z0-9_-]{20,100})$")
_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant and role behind a valid key."""

    tenant_id: str
    role: str
    key_id: str


def _hash_secret(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def get_or_create_tenant(session: Session, tenant_id: str, name: str | None = None) -> Tenant:
    """The tenant with this id, created if new."""
    if not _TENANT_RE.match(tenant_id):
        raise InvalidInput(
            "tenant id must be 1-64 lower-case letters, digits, '.', '_' or '-'", field="tenant"
        )
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        tenant = Tenant(id=tenant_id, name=name or tenant_id)
        session.add(tenant)
        session.flush()
    return tenant


def create_key(session: Session, *, tenant_id: str, role: str, pepper: str) -> str:
    """Create a key for a tenant (created if needed) and return the full key, shown once."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    get_or_create_tenant(session, tenant_id)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(id=key_id, tenant_id=tenant_id, role=role, secret_hash=_hash_secret(secret, pepper))
    )
    return f"tm_{key_id}_{secret}"


def authenticate(session: Session, presented: str, *, pepper: str) -> Principal:
    """The principal behind a presented key; ``Unauthorized`` for anything else."""
    match = _KEY_RE.match(presented.strip())
    if not match:
        raise Unauthorized("malformed API key")
    key_id, secret = match.groups()
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        raise Unauthorized("unknown or revoked API key")
    if not hmac.compare_digest(key.secret_hash, _hash_secret(secret, pepper)):
        raise Unauthorized("unknown or revoked API key")
    return Principal(tenant_id=key.tenant_id, role=key.role, key_id=key.id)


def revoke_key(session: Session, key_or_id: str) -> bool:
    """Revoke by full key or key id; False when no such key exists."""
    match = _KEY_RE.match(key_or_id.strip())
    key_id = match.group(1) if match else key_or_id.strip()
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        return False
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return True
