"""The embedded backend's cached filter masks stay exact under every kind of write.

Masks are cached per viewer and per filter value and updated on the slots each write
touches; a randomized run of upserts, field-changing re-upserts, deletes, commits and clears
checks every filtered answer against a brute-force evaluation of the filter grammar."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.settings import SearchSettings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import IndexDocument, SearchFilters
from search_index.query_syntax import Match
from search_index.testing import ENCODER, doc

DIM = 16
TENANTS = ("acme", "globex", "initech")
CITIES = (440300, 440100, 441900, None)
DISTRICTS = (440305, 440306, None)
EMPLOYMENT = ("full_time", "part_time", None)
COMPANIES = ("腾讯", "华为", "字节", None)
SKILLS = ("python", "java", "sql", "go", "excel")
WORDS = ("alpha", "beta", "gamma")
# Few distinct titles, as in real postings: the index keeps one copy of each title vector.
TITLE_VECTORS = np.linalg.qr(np.random.default_rng(0).normal(size=(DIM, 6)))[0].T.astype(np.float32)


def open_index(path: Path, dim: int = DIM, model_id: str = "random") -> EmbeddedIndex:
    settings = SearchSettings(semantic_floor=-1.0, embedded={"exact_search_threshold": 10**9})  # type: ignore[arg-type]
    return EmbeddedIndex(path, dim=dim, model_id=model_id, settings=settings)


@dataclass
class Model:
    """What the index should hold: the documents now, and as last committed (what the
    keyword side and exclusions see)."""

    docs: dict[int, IndexDocument] = field(default_factory=dict)
    committed: dict[int, IndexDocument] = field(default_factory=dict)


def random_document(rng: np.random.Generator, doc_id: int) -> IndexDocument:
    vector = rng.normal(size=DIM).astype(np.float32)
    vector /= np.linalg.norm(vector)
    low = None if rng.random() < 0.2 else float(rng.integers(3, 40) * 1000)
    high = None if low is None or rng.random() < 0.1 else low + float(rng.integers(0, 20) * 1000)
    return IndexDocument(
        id=doc_id,
        tenant_id=str(rng.choice(TENANTS)),
        private=bool(rng.random() < 0.3),
        title=f"doc {doc_id}",
        text=" ".join(rng.choice(WORDS, size=2).tolist()),
        vector=vector,
        title_vector=TITLE_VECTORS[int(rng.integers(0, len(TITLE_VECTORS)))],
        timestamp=float(rng.integers(0, 1000)),
        city_code=rng.choice(np.array(CITIES, dtype=object)),
        district_code=rng.choice(np.array(DISTRICTS, dtype=object)),
        salary_min=low,
        salary_max=high,
        employment_type=rng.choice(np.array(EMPLOYMENT, dtype=object)),
        education_rank=None if rng.random() < 0.2 else int(rng.integers(1, 6)),
        years=None if rng.random() < 0.2 else float(rng.integers(0, 12)),
        skills=tuple(sorted(set(rng.choice(SKILLS, size=int(rng.integers(0, 4))).tolist()))),
        company=rng.choice(np.array(COMPANIES, dtype=object)),
    )


def changed_document(rng: np.random.Generator, old: IndexDocument) -> IndexDocument:
    """``old`` with one or two of the filtered fields changed (a re-upsert)."""
    new = random_document(rng, old.id)
    fields = ["city_code", "tenant_id", "private", "skills", "salary_min", "salary_max",
              "employment_type", "company", "education_rank", "years", "district_code",
              "title_vector"]  # fmt: skip
    chosen = rng.choice(fields, size=int(rng.integers(1, 3)), replace=False).tolist()
    return replace(old, **{name: getattr(new, name) for name in chosen})


def random_filters(rng: np.random.Generator, known_ids: list[int]) -> dict[str, Any]:
    def some(values: tuple[Any, ...]) -> tuple[Any, ...]:
        real = [v for v in values if v is not None] + ["nobody's"] * (values is COMPANIES)
        return tuple(rng.choice(np.array(real, dtype=object), size=int(rng.integers(1, 3))))

    options: dict[str, Any] = {
        "city_codes": lambda: tuple(int(c) for c in some(CITIES)),
        "district_codes": lambda: tuple(int(c) for c in some(DISTRICTS)),
        "employment_types": lambda: some(EMPLOYMENT),
        "companies": lambda: some(COMPANIES),
        "salary_min": lambda: float(rng.integers(0, 50) * 1000),
        "salary_max": lambda: float(rng.integers(0, 50) * 1000),
        "years_min": lambda: float(rng.integers(0, 10)),
        "years_max": lambda: float(rng.integers(0, 10)),
        "education_min_rank": lambda: int(rng.integers(1, 6)),
        "education_max_rank": lambda: int(rng.integers(1, 6)),
        "skills_all": lambda: tuple(rng.choice(SKILLS, size=int(rng.integers(1, 3))).tolist()),
        "skills_any": lambda: tuple(rng.choice(SKILLS, size=int(rng.integers(1, 3))).tolist()),
        "ids": lambda: tuple(int(i) for i in rng.choice(known_ids + [10**6], size=5)),
    }
    names = rng.choice(list(options), size=int(rng.integers(0, 4)), replace=False).tolist()
    return {name: options[name]() for name in names}


def passes(d: IndexDocument, viewer: str, f: SearchFilters, model: Model) -> bool:
    """The filter grammar of ``search_index.protocol``, one document at a time."""

    def within(value: Any, low: Any, high: Any) -> bool:
        if low is None and high is None:
            return True
        if value is None:
            return False
        return (low is None or value >= low) and (high is None or value <= high)

    def one_of(value: Any, allowed: tuple[Any, ...]) -> bool:
        return not allowed or (value is not None and value in allowed)

    excluded_words = {word for q in f.exclude if isinstance(q, Match) for word in q.tokens}
    committed = model.committed[d.id].text.split() if d.id in model.committed else []
    return (
        (d.tenant_id == viewer or not d.private)
        and (f.ids is None or d.id in f.ids)
        and one_of(d.city_code, f.city_codes)
        and one_of(d.district_code, f.district_codes)
        and one_of(d.employment_type, f.employment_types)
        and one_of(d.company, f.companies)
        and (f.salary_min is None or (d.salary_max is not None and d.salary_max >= f.salary_min))
        and (f.salary_max is None or (d.salary_min is not None and d.salary_min <= f.salary_max))
        and within(d.years, f.years_min, f.years_max)
        and within(d.education_rank, f.education_min_rank, f.education_max_rank)
        and set(f.skills_all) <= set(d.skills)
        and (not f.skills_any or bool(set(f.skills_any) & set(d.skills)))
        and not excluded_words & set(committed)
    )


def check_answers(index: EmbeddedIndex, model: Model, rng: np.random.Generator) -> None:
    """Every mask-based answer (listing, facet counts, vector search) equals brute force."""
    f = SearchFilters(**random_filters(rng, list(model.docs)))
    if rng.random() < 0.3:
        f = replace(f, exclude=(Match("body", (str(rng.choice(WORDS)),)),))
    viewer = str(rng.choice((*TENANTS, "stranger")))
    expected = {i for i, d in model.docs.items() if passes(d, viewer, f, model)}
    for collapse in (False, True):  # collapsing only folds groups; every id is its own group
        page = index.list_recent(viewer, f, offset=0, limit=10**6, collapse_duplicates=collapse)
        assert page.total == len(expected), (viewer, f)
        assert {hit.id for hit in page.hits} == expected, (viewer, f)
    query = rng.normal(size=DIM).astype(np.float32)
    found = index.vector_search(viewer, query / np.linalg.norm(query), f, limit=10**6)
    assert {doc_id for doc_id, _ in found} == expected, (viewer, f)
    cities: dict[int, int] = {}
    for i in expected:
        if (city := model.docs[i].city_code) is not None:
            cities[city] = cities.get(city, 0) + 1
    assert index.facet_counts("city", viewer, f, collapse_duplicates=False) == cities
    stored = index.stored_fields(sorted(expected))
    for i in sorted(expected):
        row = stored[i]
        assert np.array_equal(row.title_vector, model.docs[i].title_vector), i
        assert np.array_equal(row.vector, model.docs[i].vector), i
    # The keyword side filters what was committed (every document has two of WORDS).
    matched = {i for i, d in model.committed.items() if passes(d, viewer, f, model)}
    found_words = index.keyword_search(viewer, WORDS, f, limit=10**5)
    assert found_words.total == len(matched), (viewer, f)
    assert {doc_id for doc_id, _ in found_words.hits} == matched, (viewer, f)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_filtered_answers_stay_exact_through_random_writes(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    index = open_index(tmp_path / "idx")
    model = Model()
    next_id = 1
    try:
        # Past 1024 documents the columns (and every cached mask) grow.
        for step in range(260):
            action = rng.choice(["insert", "change", "delete", "query", "query", "commit"])
            if action == "insert" or len(model.docs) < 20:
                batch = [random_document(rng, next_id + i) for i in range(int(rng.integers(1, 12)))]
                next_id += len(batch)
                index.upsert(batch)
                model.docs.update({d.id: d for d in batch})
            elif action == "change":
                chosen = rng.choice(list(model.docs), size=int(rng.integers(1, 6)), replace=False)
                batch = [changed_document(rng, model.docs[int(i)]) for i in chosen]
                index.upsert(batch)
                model.docs.update({d.id: d for d in batch})
            elif action == "delete":
                chosen = rng.choice(list(model.docs), size=int(rng.integers(1, 6)), replace=False)
                index.delete([int(i) for i in chosen] + [10**7])  # an unknown id is ignored
                for i in chosen:
                    model.docs.pop(int(i))
            elif action == "commit":
                index.commit()
                model.committed = dict(model.docs)
            if step == 200:  # what a checkpoint holds serves the same answers after a reopen
                index.checkpoint()
                index.close()
                index = open_index(tmp_path / "idx")
                model.committed = dict(model.docs)
            if step == 130:  # a clear drops every cached mask with the documents
                index.clear()
                index.commit()
                model = Model()
            for _ in range(3 if action == "query" else 1):
                check_answers(index, model, rng)
        assert index.count() == len(model.docs)
    finally:
        index.close()


def test_bulk_loads_grow_the_cached_masks_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    index = open_index(tmp_path / "idx")
    model = Model()
    try:
        for start in range(1, 5001, 1000):  # capacity doubles twice with masks cached
            batch = [random_document(rng, i) for i in range(start, start + 1000)]
            index.upsert(batch)
            model.docs.update({d.id: d for d in batch})
            for _ in range(5):
                check_answers(index, model, rng)
    finally:
        index.close()


def test_a_commit_renews_the_answers_of_a_query_with_exclusions(tmp_path: Path) -> None:
    index = open_index(tmp_path / "idx", dim=ENCODER.dim, model_id=ENCODER.model_id)
    without_alpha = SearchFilters(exclude=(Match("body", ("alpha",)),))
    try:
        index.upsert([doc(1, "alpha role"), doc(2, "beta role")])
        # Exclusions match what is committed: before the commit nothing is excluded.
        listed = index.list_recent(
            "acme", without_alpha, offset=0, limit=10, collapse_duplicates=False
        )
        assert {hit.id for hit in listed.hits} == {1, 2}
        index.commit()
        listed = index.list_recent(
            "acme", without_alpha, offset=0, limit=10, collapse_duplicates=False
        )
        assert {hit.id for hit in listed.hits} == {2}
    finally:
        index.close()


def test_an_index_of_the_previous_format_rebuilds_and_serves(tmp_path: Path) -> None:
    """A checkpoint of an older on-disk format is ignored: the index opens empty (the
    caller replays the outbox from the start) and takes new documents in the new format."""
    path = tmp_path / "idx"
    old = open_index(path, dim=ENCODER.dim, model_id=ENCODER.model_id)
    old.upsert([doc(1, "Python engineer", city_code=440300)])
    old.checkpoint(applied_through=41)
    old.close()
    manifest = json.loads((path / "checkpoint.json").read_text())
    manifest["format"] = 7  # the format before one visibility term per document
    (path / "checkpoint.json").write_text(json.dumps(manifest))

    again = open_index(path, dim=ENCODER.dim, model_id=ENCODER.model_id)
    try:
        assert again.applied_through() is None
        assert again.count() == 0
        again.upsert([doc(1, "Python engineer", city_code=440300), doc(2, "Java", private=True)])
        again.commit()
        found = again.keyword_search("acme", ["python"], SearchFilters(), limit=10)
        assert [doc_id for doc_id, _ in found.hits] == [1]
        assert again.keyword_search("globex", ["java"], SearchFilters(), limit=10).total == 0
        assert again.keyword_search("acme", ["java"], SearchFilters(), limit=10).total == 1
    finally:
        again.close()


def test_a_clear_removes_documents_not_yet_committed(tmp_path: Path) -> None:
    index = open_index(tmp_path / "idx", dim=ENCODER.dim, model_id=ENCODER.model_id)
    try:
        index.upsert([doc(1, "python role")])
        index.clear()
        index.upsert([doc(2, "java role")])
        index.commit()
        assert index.keyword_search("acme", ["python"], SearchFilters(), limit=10).total == 0
        assert index.keyword_search("acme", ["java"], SearchFilters(), limit=10).total == 1
    finally:
        index.close()


def test_hnsw_answers_under_wide_and_narrow_masks_pass_the_filter(tmp_path: Path) -> None:
    """Wide masks are applied after an oversampled HNSW query, narrow ones inside it: either
    way every hit passes the filter, as many as asked come back, and the nearest are found."""
    rng = np.random.default_rng(11)
    settings = SearchSettings(semantic_floor=-1.0, embedded={"exact_search_threshold": 0})  # type: ignore[arg-type]
    index = EmbeddedIndex(tmp_path / "idx", dim=DIM, model_id="random", settings=settings)
    share = rng.random(3000)
    cities = np.select([share < 0.6, share < 0.9], [1, 2], default=3)  # 60% / 30% / 10%
    docs = [replace(random_document(rng, i + 1), city_code=int(cities[i])) for i in range(3000)]
    docs = [replace(d, private=False) for d in docs]
    vectors = np.stack([d.vector for d in docs])
    try:
        index.upsert(docs)
        for codes in [(), (1,), (1, 2), (2,), (3,)]:
            admitted = np.array([not codes or d.city_code in codes for d in docs])
            allowed = np.flatnonzero(admitted)
            recall = []
            for probe in vectors[rng.integers(0, len(docs), 20)]:
                found = index.vector_search(
                    "acme", probe, SearchFilters(city_codes=codes), limit=50
                )
                assert len(found) == 50
                assert all(admitted[doc_id - 1] for doc_id, _ in found), codes
                truth = allowed[np.argsort(-(vectors[allowed] @ probe))[:10]] + 1
                recall.append(len({d for d, _ in found[:10]} & set(truth.tolist())) / 10)
            assert np.mean(recall) >= 0.9, (codes, np.mean(recall))
    finally:
        index.close()


def test_vector_search_for_every_document_survives_deletes_and_re_adds(tmp_path: Path) -> None:
    """hnswlib cannot always reach k neighbours when k is near the number of documents in a
    graph worn by deletes and re-adds; the answer is still every document, best first."""
    settings = SearchSettings(semantic_floor=-1.0, embedded={"exact_search_threshold": 0})  # type: ignore[arg-type]
    index = EmbeddedIndex(
        tmp_path / "idx", dim=ENCODER.dim, model_id=ENCODER.model_id, settings=settings
    )
    docs = [doc(i, f"python engineer {i}", city_code=440300) for i in range(1, 201)]
    try:
        index.upsert(docs)
        for _ in range(6):
            index.delete([d.id for d in docs])
            index.upsert(docs)
            for f in (SearchFilters(), SearchFilters(city_codes=(440300,))):
                found = index.vector_search("acme", docs[0].vector, f, limit=300)
                assert sorted(doc_id for doc_id, _ in found) == list(range(1, 201))
                scores = [score for _, score in found]
                assert scores == sorted(scores, reverse=True)
    finally:
        index.close()
