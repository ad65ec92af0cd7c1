"""Personal information at rest and in responses.

Contacts (e-mail, phone) and the texts that carry them (résumé text, extracted fields, the
text of uploaded files) are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under
``TALENTMATCH_AUTH__DATA_KEY``; the columns decrypt transparently for the code that reads
them. The identity keys that merge arrivals of the same person are keyed digests (HMAC),
never the contacts themselves. Values written before encryption existed read back as they
are and are encrypted the next time the row is written (``store.data_key.encrypt_legacy_rows``
does it for all rows at start-up). ``DataKey`` holds one key's operations, so a rotation can
hold two. There is no process-wide key: each ``Database`` attaches its own to its engine's
dialect (``attach_key``), the column types read it from the dialect they run on, and code
holding a session takes it from the session's bind (``session_key``), so two databases with
different keys can be open in one process.

Responses show contacts only to keys with the ``candidates:contact`` scope, and never in
search or match results (``redact_contacts``, ``redact_text``); what counts as a contact is
defined once, in ``core.contacts``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from core import contacts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_PREFIX = "enc1:"
# Files (uploaded originals, bulk sources) on disk: this header, then a Fernet token.
_FILE_MAGIC = b"TMENC1\n"
# What the key check value authenticates (store.data_key): a fixed label, so the stored
# value says nothing about the data and cannot be used to decrypt anything.
_CHECK_LABEL = b"talentmatch data-key check v1"
# The attribute of an engine's dialect that holds its database's key (see ``attach_key``).
_DIALECT_ATTR = "talentmatch_data_key"


class DataKey:
    """One data key's operations: encrypt and decrypt columns and files, identity digests,
    and the check value that recognizes the key. A rotation holds two at once.

    >>> key = DataKey("0f" * 32)
    >>> key.decrypt(key.encrypt("13800138000"))
    '13800138000'
    """

    def __init__(self, secret: str) -> None:
        # Derivations are fixed: changing them would make stored data unreadable.
        raw = hashlib.sha256(secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))
        self._mac_key = hashlib.sha256(b"identity:" + secret.encode()).digest()
        self._check_key = hashlib.sha256(b"key-check:" + secret.encode()).digest()

    def encrypt(self, value: str) -> str:
        """A column value as stored at rest."""
        return _PREFIX + self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, stored: str) -> str:
        """A stored column value in clear; values written before encryption read as they are."""
        if not stored.startswith(_PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("stored personal data does not decrypt: wrong data key?") from exc

    def decrypts(self, stored: str) -> bool:
        """Whether an encrypted column value was written under this key."""
        try:
            self._fernet.decrypt(stored[len(_PREFIX) :].encode())
        except InvalidToken:
            return False
        return True

    def encrypt_bytes(self, content: bytes) -> bytes:
        """File content as stored at rest."""
        return _FILE_MAGIC + self._fernet.encrypt(content)

    def decrypt_bytes(self, stored: bytes) -> bytes:
        """File content as read back; files written before encryption read as they are."""
        if not stored.startswith(_FILE_MAGIC):
            return stored
        try:
            return self._fernet.decrypt(stored[len(_FILE_MAGIC) :])
        except InvalidToken as exc:
            raise RuntimeError("a stored file does not decrypt: wrong data key?") from exc

    def digest(self, normalized: str | None) -> str | None:
        """A keyed digest of a normalized contact (see ``identity_digest``)."""
        if not normalized:
            return None
        return hmac.new(self._mac_key, normalized.encode(), hashlib.sha256).hexdigest()

    def check_value(self) -> str:
        """A value that recognizes this key: an HMAC of a fixed label under a key derived
        from it (never the key, nor a plain hash of it)."""
        mac = hmac.new(self._check_key, _CHECK_LABEL, hashlib.sha256).hexdigest()
        return f"v1:{mac}"

    def matches(self, check_value: str) -> bool:
        """Whether ``check_value`` was computed from this key."""
        return hmac.compare_digest(self.check_value(), check_value)


def attach_key(dialect: Dialect, key: DataKey) -> None:
    """Make ``key`` the data key of everything that runs on the engine of ``dialect``. Every
    ``create_engine`` makes its own dialect object, so each database keeps its own key."""
    setattr(dialect, _DIALECT_ATTR, key)


def dialect_key(dialect: Dialect) -> DataKey:
    """The data key attached to the engine of ``dialect``."""
    key = getattr(dialect, _DIALECT_ATTR, None)
    if not isinstance(key, DataKey):
        # Refuse rather than guess: a value written under no key or another one is lost.
        raise RuntimeError("this engine has no data key: open it through store.db.Database")
    return key


def session_key(session: Session) -> DataKey:
    """The data key of the database a session is bound to."""
    return dialect_key(session.get_bind().dialect)


def is_encrypted_file(stored_head: bytes) -> bool:
    return stored_head.startswith(_FILE_MAGIC)


def is_encrypted(stored: str | None) -> bool:
    return stored is None or stored.startswith(_PREFIX)


def identity_digest(normalized: str | None, *, key: DataKey) -> str | None:
    """A keyed digest of a normalized contact: equal contacts, equal digests; not reversible
    without the data key (a plain hash of a phone number is, by enumeration)."""
    return key.digest(normalized)


def contact_keys(
    email: str | None, phone: str | None, *, key: DataKey
) -> tuple[str | None, str | None]:
    """The identity digests of an e-mail and a phone number, normalized first
    (case; +86 13800138000 is 13800138000), under ``key``."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return key.digest(email.strip().lower() if email else None), key.digest(digits or None)


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return dialect_key(dialect).encrypt(value) if value is not None else None

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return dialect_key(dialect).decrypt(value) if value is not None else None


class EncryptedJSON(TypeDecorator[Any]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return dialect_key(dialect).encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return json.loads(dialect_key(dialect).decrypt(value)) if value is not None else None


# Fields of rendered records that hold no personal data (ids, digests, dates): a digest's
# hex digits can look like a phone number, and must read back as they are.
_NOT_PERSONAL = frozenset({
    "id", "tenant_id", "key_id", "job_id", "candidate_id", "city_code", "district_code",
    "occupation_code", "sha256", "content_type", "size", "at", "created_at", "updated_at",
    "received_at", "uploaded_at", "granted_at", "recorded_at", "posted_at",
})  # fmt: skip


def mask_email(email: str | None) -> str | None:
    return contacts.EMAIL.sub(r"\1***\2", email) if email else email


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 7 else "****"


def redact_text(text: str | None) -> str | None:
    """Contacts (e-mail, phone, WeChat, QQ) and ID numbers inside free text, masked."""
    return contacts.mask_contacts(text) if text else text


def redact_strings(value: Any) -> Any:
    """Every string inside a JSON-like value (dicts, lists) with its contacts masked."""
    if isinstance(value, str):
        return contacts.mask_contacts(value)
    if isinstance(value, dict):
        return {k: v if k in _NOT_PERSONAL else redact_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_strings(v) for v in value]
    return value


def redact_contacts(candidate: dict[str, Any]) -> dict[str, Any]:
    """A candidate (as the API renders it) without readable contacts: the contact fields
    masked, and every contact inside any text (résumé, summary, experience, education,
    titles, extraction) masked too."""
    out: dict[str, Any] = redact_strings(candidate)
    out["email"] = mask_email(candidate.get("email"))
    out["phone"] = mask_phone(candidate.get("phone"))
    extraction = candidate.get("extraction")
    if extraction:
        out["extraction"] = {
            field: ({**value, "value": None} if field in ("email", "phone") and isinstance(value, dict)
                    else value)
            for field, value in out["extraction"].items()
        }  # fmt: skip
    return out
