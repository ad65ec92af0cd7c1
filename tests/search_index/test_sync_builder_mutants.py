"""What the index holds for a posting or a candidate: the document builders of
``search_index/sync.py`` (``job_documents``, ``candidate_documents``) on real SQLite rows,
field by field, and the vector references the outbox consumer records from them. Mutation
testing of the builders found these fields pinned only through slow search tests, or not at
all (the group of a duplicate, the stored language's case, the point salary of a candidate,
which vector goes with which text in a batch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import select

from core.domain import EntityKind
from core.fingerprints import content_hash
from ingestion.records import CandidateCreate, JobCreate
from representation.encoders import CachedEncoder, HashingEncoder
from representation.profiles import CandidateProfile
from search_index.protocol import IndexDocument, SearchIndex
from search_index.sync import IndexSync, candidate_documents, job_documents
from search_index.vectors import DatabaseVectors
from store.candidates import candidates_by_ids, upsert_candidate
from store.db import Database
from store.jobs import jobs_by_ids, upsert_job
from store.models import Candidate, Job
from store.privacy import erase_candidate
from store.vector_refs import vector_refs
from taxonomy.skills import skill_vocabulary
from tests.conftest import candidate_payload, job_payload
from tests.processes.recording import RecordingIndex

DIM = 64


class Encode:
    """The builders' encode function: hashing vectors, every call's texts kept."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list:
        self.calls.append(list(texts))
        return list(HashingEncoder(DIM).encode(texts))


def _vector(text: str) -> np.ndarray:
    return HashingEncoder(DIM).encode([text])[0]


def _job(db: Database, **overrides: Any) -> int:
    fields = JobCreate.model_validate(job_payload(**overrides)).model_dump()
    job, _ = db.run_transaction(lambda s: upsert_job(s, tenant_id="acme", fields=fields))
    return int(job.id)


def _candidate(db: Database, **overrides: Any) -> int:
    fields = CandidateCreate.model_validate(candidate_payload(**overrides)).model_dump()
    candidate, _ = db.run_transaction(
        lambda s: upsert_candidate(s, tenant_id="acme", fields=fields)
    )
    return int(candidate.id)


def _canonical(*skills: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(skill_vocabulary().canonical_ids(list(skills))))


def _check_vectors(documents: list[IndexDocument], encode: Encode) -> None:
    """One batch for all the documents; each document carries the vectors and the hashes of
    its own texts (content, title, sections), in order."""
    assert len(encode.calls) == 1
    batch = encode.calls[0]
    n = len(documents)
    sections = [t for d in documents for t in batch if content_hash(t) in d.section_hashes]
    assert len(batch) == 2 * n + sum(len(d.section_hashes) for d in documents)
    assert len(sections) == len(batch) - 2 * n
    for i, document in enumerate(documents):
        content, title = batch[i], batch[n + i]
        assert document.text_hashes == (content_hash(content), content_hash(title))
        assert np.allclose(document.vector, _vector(content))
        assert np.allclose(document.title_vector, _vector(title))
        own = [t for t in batch[2 * n :] if content_hash(t) in document.section_hashes]
        assert document.section_hashes == tuple(content_hash(t) for t in own)
        if own:
            assert document.section_vectors is not None
            assert document.section_vectors.shape == (len(own), DIM)
            for row, text in zip(document.section_vectors, own, strict=True):
                assert np.allclose(row, _vector(text))
        else:
            assert document.section_vectors is None


def test_a_posting_document_carries_every_field_of_its_row(db: Database) -> None:
    first = _job(
        db,
        title="Backend Engineer",
        description="Builds payment services in Python. Call 13800138000.",
        company="  Acme Payments  ",
        city="深圳",
        district="南山",
        salary_min=20000,
        salary_max=35000,
        employment_type="full_time",
        required_skills=["Python", "MySQL"],
        preferred_skills=["Docker", "Python"],
        min_years_experience=3,
        education="master",
        language="EN-gb",
        private=True,
        posted_at="2026-11-03T08:30:00Z",
    )
    second = _job(
        db,
        title="数据分析师",
        description="负责数据分析与报表。",
        company="   ",
        city="广州",
        district=None,
        salary_min=15000,
        salary_max=None,
        employment_type="part_time",
        required_skills=["SQL"],
        preferred_skills=[],
        min_years_experience=None,
        education="bachelor",
        language=None,
    )
    third = _job(db, title="Java Developer", description="Spring services.", language=None)
    with db.session() as session:
        row = session.get(Job, third)
        assert row is not None
        row.duplicate_of = first  # near-duplicates share the group of the earliest
    with db.session() as session:
        rows = jobs_by_ids(session, [first, second, third])
        jobs = [rows[first], rows[second], rows[third]]
        encode = Encode()
        a, b, c = documents = job_documents(jobs, encode)
        _check_vectors(documents, encode)
        expected = {
            (d.id, d.tenant_id, d.private, d.title, d.group_id, d.company, d.language)
            for d in documents
        }
        assert expected == {
            (first, "acme", True, "Backend Engineer", first, "Acme Payments", "en"),
            (second, "acme", False, "数据分析师", second, None, "zh"),
            (third, "acme", False, "Java Developer", first, "深圳市测试科技有限公司", "en"),
        }
        assert (a.salary_min, a.salary_max, b.salary_min, b.salary_max) == (
            20000,
            35000,
            15000,
            15000,
        )
        assert (a.employment_type, b.employment_type) == ("full_time", "part_time")
        assert (a.years, b.years) == (3, None)
        assert a.skills == _canonical("Python", "MySQL", "Docker")
        assert b.skills == _canonical("SQL")
        assert a.city_code == jobs[0].city_code and a.city_code is not None
        assert b.city_code == jobs[1].city_code and b.city_code not in (None, a.city_code)
        assert a.district_code == jobs[0].district_code and a.district_code is not None
        assert b.district_code is None
        assert a.education_rank is not None and b.education_rank is not None
        assert a.education_rank > b.education_rank  # master above bachelor
        assert a.occupation_code == jobs[0].occupation_code and a.occupation_code is not None
        assert b.occupation_code == jobs[1].occupation_code
        assert a.timestamp == jobs[0].posted_at.timestamp()
        assert (b.timestamp, c.timestamp) == (
            jobs[1].posted_at.timestamp(), jobs[2].posted_at.timestamp()
        )  # fmt: skip
        # Keyword text: company, city, the skills as written, the description; no contact.
        for word in ("Acme Payments", "深圳", "Python MySQL Docker", "payment services"):
            assert word in a.text
        assert "13800138000" not in a.text and "13800138000" not in encode.calls[0][0]
        assert "广州" in b.text and "负责数据分析" in b.text and "SQL" in b.text
        # The content text is the posting's (title, description, skills), the title text its title.
        assert "Backend Engineer" in encode.calls[0][0] and "payment" in encode.calls[0][0]
        assert encode.calls[0][3:] == ["Backend Engineer", "数据分析师", "Java Developer"]


def test_a_candidate_document_is_private_and_keeps_no_name_contact_or_protected_attribute(
    db: Database,
) -> None:
    chinese = _candidate(
        db,
        name="王芳",
        summary="王芳，女，32岁，已婚。五年后端开发经验，电话 13912345678。",
        desired_titles=["后端开发工程师"],
        desired_salary_min=28000,
        years_experience=6,
        skills=["Python", "Kafka"],
        experience=[
            {"title": "后端工程师", "company": "某科技公司", "description": "Python 微服务"},
            {"title": "开发工程师", "company": "另一家公司", "description": "Java 接口"},
        ],
    )
    english = _candidate(
        db,
        name="Jane Doe",
        city="上海",
        summary="Data engineer building pipelines in Spark.",
        desired_titles=["Data Engineer"],
        desired_salary_min=None,
        years_experience=2,
        skills=["Spark"],
        education={"level": "master", "school": "Fudan", "major": "CS"},
        experience=[],
    )
    empty = _candidate(
        db,
        name="李雷",
        summary=None,
        desired_titles=[],
        experience=[],
        skills=[],
        years_experience=None,
        desired_salary_min=None,
        education=None,
        city=None,
    )
    with db.session() as session:
        rows = candidates_by_ids(session, [chinese, english, empty])
        candidates = [rows[chinese], rows[english], rows[empty]]
        encode = Encode()
        a, b, c = documents = candidate_documents(candidates, encode)
        _check_vectors(documents, encode)
        assert [d.id for d in documents] == [chinese, english, empty]
        assert {(d.tenant_id, d.private) for d in documents} == {("acme", True)}
        assert a.title == "后端开发工程师 / 后端工程师 / 开发工程师"
        assert b.title == "Data Engineer"
        # One desired pay: a point range (or none).
        assert (a.salary_min, a.salary_max) == (28000, 28000)
        assert (b.salary_min, b.salary_max) == (None, None)
        assert (a.years, b.years, c.years) == (6, 2, None)
        assert (a.language, b.language, c.language) == ("zh", "en", None)
        assert a.skills == _canonical("Python", "Kafka") and b.skills == _canonical("Spark")
        assert a.city_code == candidates[0].city_code and a.city_code is not None
        assert b.city_code == candidates[1].city_code and b.city_code != a.city_code
        assert c.city_code is None
        assert b.education_rank is not None and a.education_rank is not None
        assert b.education_rank > a.education_rank
        assert a.occupation_code == candidates[0].occupation_code is not None
        assert b.occupation_code == candidates[1].occupation_code
        assert a.timestamp == candidates[0].updated_at.timestamp()
        assert b.timestamp == candidates[1].updated_at.timestamp()
        # A candidate has no employer, district, employment type or group in the index.
        assert {(d.company, d.district_code, d.employment_type, d.group_id) for d in documents} == {
            (None, None, None, None)
        }
        assert "Python Kafka" in a.text and "五年后端开发经验" in a.text and "Java 接口" in a.text
        assert "深圳" in a.text and "Spark" in b.text and "上海" in b.text
        # Sections: each experience entry is one; the empty profile has none.
        batch = encode.calls[0]
        assert len(a.section_hashes) > len(b.section_hashes) > 0 and c.section_hashes == ()
        entries = [t for t in batch[6:] if content_hash(t) in a.section_hashes]
        assert any("后端工程师" in t and "某科技公司" in t for t in entries)
        assert any("开发工程师" in t and "另一家公司" in t for t in entries)
        # Blind: nothing the index or a vector reads names the person, a contact or a
        # protected attribute.
        embedded = [
            t for t in batch if content_hash(t) in {*(a.text_hashes or ()), *a.section_hashes}
        ]
        for secret in ("王芳", "13912345678", "32岁", "已婚", "女"):
            assert secret not in a.text and secret not in a.title
            assert not any(secret in t for t in embedded)
        for secret in ("Jane", "Doe"):
            assert secret not in b.text and secret not in b.title
        assert "李雷" not in c.text and "李雷" not in c.title


def test_no_rows_build_no_documents_and_encode_nothing(db: Database) -> None:
    encode = Encode()
    assert job_documents([], encode) == [] and candidate_documents([], encode) == []
    assert encode.calls == []  # not even an empty batch: an encoder may load a model for it


class KeepingIndex(RecordingIndex):
    """Keeps the last document upserted for each id."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[int, IndexDocument] = {}

    def upsert(self, documents: Any) -> None:
        super().upsert(documents)
        self.documents.update({d.id: d for d in documents})


def test_the_consumer_records_each_documents_hashes_and_drops_an_erased_candidate(
    db: Database, tmp_path: Path
) -> None:
    encoder = CachedEncoder(HashingEncoder(DIM), db)
    jobs, candidates = KeepingIndex(), KeepingIndex()
    indexes = {
        EntityKind.JOB: cast(SearchIndex, jobs),
        EntityKind.CANDIDATE: cast(SearchIndex, candidates),
    }
    vectors = {kind: DatabaseVectors(db, kind, encoder) for kind in indexes}
    sync = IndexSync(db, HashingEncoder(DIM), indexes, batch_size=8, database_vectors=vectors)
    job = _job(db, title="Backend Engineer", language="en", required_skills=["Python"])
    kept = _candidate(db, name="王芳", desired_titles=["后端开发工程师"])
    erased = _candidate(db, name="李雷", desired_titles=["Data Engineer"], skills=["Spark"],
                        summary="Spark pipelines.", experience=[])  # fmt: skip
    sync.drain()
    with db.session() as session:
        for kind, index, ids in (
            (EntityKind.JOB, jobs, [job]),
            (EntityKind.CANDIDATE, candidates, [kept, erased]),
        ):
            refs = vector_refs(session, kind, ids)
            assert set(refs) == set(ids)
            for entity_id in ids:
                d, ref = index.documents[entity_id], refs[entity_id]
                assert d.text_hashes is not None
                assert (ref.content_hash, ref.title_hash) == d.text_hashes
                assert (ref.skills, ref.language, ref.section_hashes, ref.occupation_code) == (
                    d.skills, d.language, d.section_hashes, d.occupation_code
                )  # fmt: skip
        assert (
            refs[kept].section_hashes and refs[kept].section_hashes != refs[erased].section_hashes
        )
    assert jobs.documents[job].language == "en" and candidates.documents[erased].language == "en"
    with db.session() as session:
        row = session.get(Candidate, erased)
        assert row is not None
        texts = CandidateProfile.from_row(row).embedded_texts()
        erase_candidate(session, tmp_path / "files", row, key_id="test", embedded_texts=texts)
    sync.drain()
    assert candidates.deleted == [erased]
    with db.session() as session:
        assert set(vector_refs(session, EntityKind.CANDIDATE, [kept, erased])) == {kept}
        assert session.scalar(select(Candidate.id).where(Candidate.id == erased)) is None
