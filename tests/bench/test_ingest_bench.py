"""The intake benchmark measures what it says: postings through ``POST /v1/jobs:bulk`` until
the index holds them, next to the encoder on exactly the texts the pipeline handed it; the
curves cover the corpus chunk by chunk."""

from __future__ import annotations

from bench.ingest_bench import (
    DigestEncoder,
    measure_bulk_ingest,
    measure_grouping_curve,
    measure_ingest_curve,
)
from representation.encoders import HashingEncoder


def test_bulk_ingest_times_the_api_against_the_encoder_on_the_texts_it_encoded() -> None:
    result = measure_bulk_ingest(HashingEncoder(64), 30, repeats=1, batch=20)
    (run,) = result["runs"]
    # A cold cache encodes each distinct text (a posting's content, its title) once.
    assert 30 < run["texts"] <= 60
    assert run["pipeline_s"] > run["encoder_s"] > 0
    assert result["bulk_api_postings_per_s"] == 30 / run["pipeline_s"]


def test_the_curves_cover_the_corpus_chunk_by_chunk() -> None:
    curve = measure_ingest_curve(60, 30, batch=20)
    assert [c["corpus_before"] for c in curve["chunks"]] == [0, 30]
    assert all(c["per_s"] > 0 for c in curve["chunks"])
    grouping = measure_grouping_curve(60, 25, batch=10)
    assert [(c["corpus_before"], c["postings"]) for c in grouping["chunks"]] == [
        (0, 25),
        (25, 25),
        (50, 10),
    ]


def test_digest_vectors_are_unit_length_and_the_same_for_the_same_text() -> None:
    encoder = DigestEncoder(16)
    a, b, c = encoder.encode(["深圳 Java", "深圳 Java", "Python"])
    assert abs(float(a @ a) - 1.0) < 1e-5
    assert (a == b).all() and not (a == c).all()
