"""Masking and keyed digests of contacts, and encryption at rest, one function at a time
(the API tests in tests/api/test_privacy.py show them end to end; these pin each edge)."""

from __future__ import annotations

import pytest

from store.pii import (
    DataKey,
    contact_keys,
    identity_digest,
    is_encrypted,
    is_encrypted_file,
    mask_email,
    mask_phone,
    redact_contacts,
    redact_strings,
    redact_text,
)

KEY = DataKey("0f" * 32)


def test_free_text_has_its_contacts_masked() -> None:
    text = "电话：13800000001 负责 Kafka，邮箱 li.na@example.com"
    assert redact_text(text) == "电话：138****0001 负责 Kafka，邮箱 l***@example.com"
    assert redact_text(None) is None and redact_text("") == ""


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13800000001", "138****0001"), ("+86 138-0000-0001", "861****0001"),
     ("1234567", "123****4567"), ("123456", "****"), (None, None), ("", "")],
)  # fmt: skip
def test_phone_masking_keeps_only_the_ends(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_email_masking_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_email("li.na@example.com") == "l***@example.com"
    assert mask_email(None) is None and mask_email("") == ""


def test_json_values_are_masked_except_fields_that_hold_no_personal_data() -> None:
    value = {"id": 13800000001, "sha256": "13800000001", "note": "call 13800000001",
             "items": ["13800000001", ("li.na@example.com",)], "count": 3}  # fmt: skip
    assert redact_strings(value) == {
        "id": 13800000001, "sha256": "13800000001", "note": "call 138****0001",
        "items": ["138****0001", ["l***@example.com"]], "count": 3,
    }  # fmt: skip


def test_a_rendered_candidate_keeps_no_readable_contact() -> None:
    candidate = {"email": "li.na@example.com", "phone": "13800000001",
                 "summary": "微信：lina_2024，电话 13800000001",
                 "extraction": {"email": {"value": "li.na@example.com", "confidence": 1.0},
                                "phone": {"value": "13800000001"}, "skills": {"value": ["Go"]}}}  # fmt: skip
    out = redact_contacts(candidate)
    assert out["email"] == "l***@example.com" and out["phone"] == "138****0001"
    assert "13800000001" not in str(out) and "lina_2024" not in str(out)
    assert out["extraction"]["email"] == {"value": None, "confidence": 1.0}
    assert out["extraction"]["phone"] == {"value": None}
    assert out["extraction"]["skills"] == {"value": ["Go"]}
    assert redact_contacts({"email": None, "phone": None, "extraction": None})["extraction"] is None


def test_contacts_are_keyed_and_normalized_before_digesting() -> None:
    email, phone = contact_keys(" Li.Na@Example.com ", "+86 138-0000-0001", key=KEY)
    assert (email, phone) == contact_keys("li.na@example.com", "13800000001", key=KEY)
    assert email == identity_digest("li.na@example.com", key=KEY) and len(email or "") == 64
    assert contact_keys(None, None, key=KEY) == (None, None)
    assert contact_keys(None, "8613800000001", key=KEY)[1] == phone
    # Another key, other digests: a digest cannot be matched without the data key.
    assert contact_keys("li.na@example.com", None, key=DataKey("1e" * 32))[0] != email


def test_values_and_files_round_trip_under_their_key_only() -> None:
    stored = KEY.encrypt("13800000001")
    assert stored != "13800000001" and is_encrypted(stored) and is_encrypted(None)
    assert KEY.decrypt(stored) == "13800000001" and KEY.decrypts(stored)
    assert KEY.decrypt("plain, from before encryption") == "plain, from before encryption"
    assert not is_encrypted("plain")
    other = DataKey("1e" * 32)
    assert not other.decrypts(stored)
    with pytest.raises(RuntimeError, match="wrong data key"):
        other.decrypt(stored)
    blob = KEY.encrypt_bytes(b"%PDF resume")
    assert is_encrypted_file(blob[:16]) and KEY.decrypt_bytes(blob) == b"%PDF resume"
    assert KEY.decrypt_bytes(b"%PDF old") == b"%PDF old" and not is_encrypted_file(b"%PDF")
    with pytest.raises(RuntimeError, match="wrong data key"):
        other.decrypt_bytes(blob)
    assert KEY.matches(KEY.check_value()) and not other.matches(KEY.check_value())
    assert KEY.check_value().startswith("v1:") and "0f" * 8 not in KEY.check_value()
