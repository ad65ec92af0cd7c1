"""Fingerprints of texts: content hashes (the embedding cache's keys) and, for
near-duplicate detection, 64-bit SimHash over normalized text shingles (candidates) and
MinHash LSH (postings, below).

Two copies of a résumé (one with contacts, one without, a reworded summary) have SimHashes a
few bits apart. Four 16-bit bands are stored as indexed columns and likely copies are found
by an equality lookup on any band (guaranteed for signatures within 3 bits, by pigeonhole),
then confirmed by the full distance (``store.candidates``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter
from functools import cache
from typing import Any

import numpy as np
from datasketch import MinHash

from core.contacts import remove_contacts

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


def without_contacts(text: str) -> str:
    """The text with contacts (e-mail, phone, WeChat, QQ, ID numbers) removed: two copies of a
    résumé, one with contacts and one without, should look alike to duplicate detection."""
    return remove_contacts(text, " ")


def content_hash(text: str) -> str:
    """The key of a text in the embedding cache (and of what erasure removes from it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Postings: MinHash over character shingles of the normalized text, LSH bands for candidates.
# Reposts by other agencies renumber lists (1. / 一、 / ①), swap bracket styles (【】「」),
# reflow whitespace, reorder title words and shorten the company name; normalization takes
# all of that away before shingling. The threshold and shingle size were chosen on the dev
# half of bench/data/duplicates/ (bench/dedup_eval.py).
MINHASH_PERMUTATIONS = 128
SHINGLE_SIZE = 4
DUPLICATE_THRESHOLD = 0.65
# P(candidate) = 1 - (1 - s^4)^32: 0.998 at s = 0.65, 0.89 at 0.5, 0.23 at 0.3, 0.05 at 0.2.
LSH_BANDS, LSH_ROWS = 32, 4
_NUMBERING = re.compile(
    r"(?m)^\s*(?:\d{1,2}\s*[.、．)）]|[（(]\s*\d{1,2}\s*[)）]|[一二三四五六七八九十]{1,3}\s*[、.．]|"
    r"[①-⑳]|[-*•·●▪■◆]\s)"
)
_SENIORITY = re.compile(r"高级|资深|初级|中级|\b(?:senior|sr|junior|jr)\b\.?", re.IGNORECASE)
_TITLE_REMARK = re.compile(r"[（(【\[「『][^）)】\]」』]*[）)】\]」』]")


def normalize_posting_text(text: str) -> str:
    """A posting's text with list numbering, brackets, punctuation, whitespace and
    reposting noise words removed (NFKC, lower-case)."""
    text = unicodedata.normalize("NFKC", text)
    text = _NUMBERING.sub("", text)
    return normalize_text(text)


def title_words(title: str, *, remarks: bool = False) -> frozenset[str]:
    """A title as a set of words, order-free: Latin words whole, Chinese by character,
    without seniority, reposting noise and (unless ``remarks``) bracketed remarks
    ("高级Java开发工程师（跨境电商）" and "Java高级开发工程师" are one title)."""
    text = unicodedata.normalize("NFKC", title).lower()
    if not remarks:
        text = _TITLE_REMARK.sub(" ", text)
    text = _SENIORITY.sub(" ", text)
    text = _NOISE.sub(" ", text)
    return frozenset(re.findall(r"[a-z0-9+#]+|[\u4e00-\u9fff]", text))


def same_title(a: str, b: str) -> bool:
    """Titles of one job: the same words in any order, or one adding a word or two; or,
    bracketed remarks included, one's words all in the other ("ICU护士" and
    "重症监护室（ICU）护士"; not "Java…（跨境电商）" and "Python…（跨境电商）")."""
    wa, wb = title_words(a), title_words(b)
    if (
        wa
        and wb
        and (len(wa & wb) / len(wa | wb) >= 0.75 or (wa <= wb or wb <= wa) and len(wa ^ wb) <= 2)
    ):
        return True
    wa, wb = title_words(a, remarks=True), title_words(b, remarks=True)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


# Texts this alike are one posting whatever its title adds or abbreviates ("RN ICU" for
# "Registered Nurse - ICU"), as long as the titles share a word and the cities agree.
_SAME_TEXT = 0.9


@cache
def _minhash_permutations() -> tuple[Any, Any]:
    """The seed's hashing scheme and permutations, drawn once: datasketch draws them anew for
    every signature (a third of a posting's fingerprint time), the same for the same seed."""
    prototype = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)
    return prototype.scheme, prototype.permutations


def posting_minhash(title: str, city: str | None, description: str) -> np.ndarray:
    """The MinHash signature (``MINHASH_PERMUTATIONS`` uint32) of a posting's normalized
    description, with its city (the title is compared on its own, order-free)."""
    normalized = normalize_posting_text(f"{city or ''}\n{description or title}")
    size = SHINGLE_SIZE
    shingles = {normalized[i : i + size] for i in range(max(1, len(normalized) - size + 1))}
    scheme, permutations = _minhash_permutations()
    signature = MinHash(
        num_perm=MINHASH_PERMUTATIONS, seed=1, permutations=permutations, scheme=scheme
    )
    signature.update_batch([s.encode("utf-8") for s in shingles if s])
    return signature.hashvalues.astype(np.uint32)


def minhash_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def minhash_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


def lsh_buckets(signature: np.ndarray) -> list[int]:
    """One bucket key per LSH band (a signed 63-bit int: band number and the band's rows)."""
    keys = []
    for band in range(LSH_BANDS):
        rows = signature[band * LSH_ROWS : (band + 1) * LSH_ROWS].astype("<u4").tobytes()
        digest = hashlib.blake2b(bytes([band]) + rows, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little") >> 1)
    return keys


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The share of equal MinHash values: an unbiased estimate of shingle-set Jaccard."""
    return float(np.mean(a == b))


def same_posting_by_minhash(
    a_title: str, a_city_code: int | None, a_signature: np.ndarray,
    b_title: str, b_city_code: int | None, b_signature: np.ndarray,
    *, threshold: float = DUPLICATE_THRESHOLD,
) -> bool:  # fmt: skip
    """Near-duplicate postings: similar texts, the same city where both name one, and the
    same title words. Same company, another role or another city: never a duplicate."""
    if a_city_code is not None and b_city_code is not None and a_city_code != b_city_code:
        return False
    similarity = estimated_jaccard(a_signature, b_signature)
    wa, wb = title_words(a_title, remarks=True), title_words(b_title, remarks=True)
    # One text under two titles that each name a word the other lacks ("Java Developer" and
    # "Python Developer" from one agency template) is two roles; one title shortening or
    # adding to the other is one.
    if similarity >= _SAME_TEXT and wa & wb and not (wa - wb and wb - wa):
        return True
    return similarity >= threshold and same_title(a_title, b_title)
