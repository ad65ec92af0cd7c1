"""The sample-data generator is deterministic, bilingual and valid API input."""

from __future__ import annotations

from collections import Counter

from api.schemas import CandidateCreate, JobCreate
from ingestion.sample_data import generate_candidates, generate_jobs


def test_same_seed_same_records_any_start() -> None:
    first = [r.fields for r in generate_jobs(50, seed=3)]
    assert first == [r.fields for r in generate_jobs(50, seed=3)]
    assert first[10:20] == [r.fields for r in generate_jobs(10, seed=3, start=10)]
    assert first != [r.fields for r in generate_jobs(50, seed=4)]


def test_records_are_valid_bilingual_and_varied() -> None:
    jobs = list(generate_jobs(400))
    people = list(generate_candidates(200))
    for record in jobs:
        JobCreate.model_validate(record.fields)
    for record in people:
        CandidateCreate.model_validate(record.fields)
    languages = Counter(r.language for r in jobs)
    assert languages["zh"] > 150 and languages["en"] > 100
    assert len({r.archetype for r in jobs}) >= 25
    assert Counter(r.fields["city"] for r in jobs).most_common(1)[0][0] == "深圳"
    assert any("resume_text" in r.fields for r in people)
