"""Fingerprints of texts: content hashes (the embedding cache's keys) and, for
near-duplicate detection, 64-bit SimHash over normalized text shingles.

Postings reposted by several agencies or boards differ by a company suffix, a reordered
benefit list or a tweaked salary; their SimHashes differ in a few bits. Four 16-bit bands
are stored as indexed columns and candidates are found by an equality lookup on any band
(guaranteed for signatures within 3 bits, by pigeonhole; most pairs up to 6 bits share a
band too), then confirmed by the full distance (≤ ``MAX_DISTANCE``) and by title and city
agreeing. The threshold was chosen on the labelled pairs of ``bench/dedup_eval.py``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter

import numpy as np

from core.contacts import remove_contacts

MAX_DISTANCE = 6
BANDS = 4
_BAND_BITS = 64 // BANDS
# Words agencies add or change when reposting; they must not tell two copies apart.
_NOISE = re.compile(r"(?:急招|急聘|诚聘|直招|高薪|hot|urgent|new)", re.IGNORECASE)


def normalize_text(text: str) -> str:
    """Lower-case, NFKC, no punctuation or whitespace, no reposting noise words."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NOISE.sub("", text)
    return re.sub(r"[\W_]+", "", text)


def _shingles(text: str, size: int = 3) -> Counter[str]:
    normalized = normalize_text(text)
    if len(normalized) <= size:
        return Counter([normalized]) if normalized else Counter()
    return Counter(normalized[i : i + size] for i in range(len(normalized) - size + 1))


def simhash(text: str) -> int:
    """A 64-bit SimHash of the text's character 3-gram shingles (as a signed 64-bit int,
    so it fits a BIGINT column)."""
    shingles = _shingles(text)
    if not shingles:
        return 0
    # Two CRC-32s (of the shingle and of the shingle salted) make a stable 64-bit hash at a
    # fraction of a cryptographic hash's cost; Python's hash() is salted per process.
    high = np.array([zlib.crc32(s.encode()) for s in shingles], dtype=np.uint64)
    low = np.array([zlib.crc32(b"#" + s.encode()) for s in shingles], dtype=np.uint64)
    digests = (high << np.uint64(32)) | low
    counts = np.array(list(shingles.values()), dtype=np.int64)
    # Bit b of each digest, little-endian, as a (shingles, 64) 0/1 matrix.
    bits = np.unpackbits(
        digests.astype("<u8").view(np.uint8).reshape(-1, 8), axis=1, bitorder="little"
    )
    weights = counts @ (2 * bits.astype(np.int64) - 1)
    value = int(sum(1 << int(bit) for bit in np.flatnonzero(weights > 0)))
    return value - (1 << 64) if value >= 1 << 63 else value


def bands(signature: int) -> list[int]:
    unsigned = signature & ((1 << 64) - 1)
    return [(unsigned >> (i * _BAND_BITS)) & ((1 << _BAND_BITS) - 1) for i in range(BANDS)]


def distance(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def posting_fingerprint_text(
    title: str, company: str | None, city: str | None, description: str
) -> str:
    return f"{title}\n{city or ''}\n{description}"


def same_posting(
    a_title: str,
    a_city_code: int | None,
    a_hash: int,
    b_title: str,
    b_city_code: int | None,
    b_hash: int,
) -> bool:
    """Near-duplicate postings: close signatures, the same city, and titles that agree."""
    if distance(a_hash, b_hash) > MAX_DISTANCE:
        return False
    if a_city_code is not None and b_city_code is not None and a_city_code != b_city_code:
        return False
    ta, tb = normalize_text(a_title), normalize_text(b_title)
    return ta == tb or ta in tb or tb in ta


def without_contacts(text: str) -> str:
    """The text with contacts (e-mail, phone, WeChat, QQ, ID numbers) removed: two copies of a
    résumé, one with contacts and one without, should look alike to duplicate detection."""
    return remove_contacts(text, " ")


def content_hash(text: str) -> str:
    """The key of a text in the embedding cache (and of what erasure removes from it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
