"""Candidate search on a hand-written résumé set: category names typed as recruiter queries.

``bench/data/candidate_search/`` holds résumés written for this project by hand (not by the
sample-data generator) in the styles a recruiter's inbox has, English and Chinese, one file
per category; each résumé starts with ``### <id>`` and may name a ``secondary=<category>``.
``queries.tsv`` has each category's names as recruiters type them. A résumé is graded 2 for
a query of its category, 1 for a query of its secondary category, else 0; MAP@50 counts
grade 2 as relevant, nDCG@10 is graded. Categories are split by a hash of their id into a
tuning half (the candidate re-ranking weights are fitted on it) and a reporting half.

Résumés go in through the candidate intake path the API uses (text → extraction → profile →
outbox → index) and queries through the service the search route calls
(``matching.search.search_candidates`` over ``runtime.search[EntityKind.CANDIDATE]``),
in-process: httpx is a development dependency only.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from api.runtime import Runtime
from api.schemas.search import SearchRequest
from bench import metrics
from bench.metrics import mean
from bench.report import write_report
from core.domain import EntityKind
from core.settings import EmbeddingSettings, Settings
from ingestion.resume_text import with_resume_extraction
from matching.search import code_query_occupations, search_candidates
from search_index.candidate_rerank import (
    CANDIDATE_RERANKER_PATH,
    CandidateExample,
    candidate_signals,
    fit_candidate_reranker,
)
from search_index.hybrid import HybridSearch
from search_index.protocol import SearchMode, SearchQuery
from search_index.query_understanding import skills_in
from search_index.rerank import text_language
from store.candidates import upsert_candidate
from store.keys import get_or_create_tenant

DATA_DIR = Path(__file__).resolve().parent / "data" / "candidate_search"
HALVES = ("reporting", "tuning")
MODES: tuple[SearchMode, ...] = ("keyword", "semantic", "hybrid")
TENANT = "eval-candidates"
_HEADER = re.compile(r"^### (\S+)(?:\s+secondary=(\S+))?\s*$")


@dataclass(frozen=True)
class Resume:
    id: str
    category: str
    secondary: str | None
    text: str

    @property
    def language(self) -> str:
        return text_language(self.text) or "en"


@dataclass(frozen=True)
class RecruiterQuery:
    text: str
    language: str
    category: str
    half: str


@dataclass(frozen=True)
class CandidateSet:
    resumes: tuple[Resume, ...]
    queries: tuple[RecruiterQuery, ...]

    def grades(self, query: RecruiterQuery) -> dict[str, int]:
        """Résumé id → grade for ``query``, for every résumé graded above 0."""
        return {r.id: g for r in self.resumes if (g := grade(query, r)) > 0}


def grade(query: RecruiterQuery, resume: Resume) -> int:
    """2 for the query's category, 1 where it is the résumé's secondary category, else 0."""
    if resume.category == query.category:
        return 2
    return 1 if resume.secondary == query.category else 0


def half_of(category: str) -> str:
    """The half a category belongs to: a hash of its id, the same on every run."""
    return HALVES[hashlib.sha256(category.encode()).digest()[0] % 2]


def parse_resumes(category: str, text: str) -> list[Resume]:
    """The résumés of one category file (each under its ``### id`` line)."""
    resumes: list[Resume] = []
    header: re.Match[str] | None = None
    lines: list[str] = []
    for line in [*text.splitlines(), "### end"]:
        match = _HEADER.match(line)
        if match is None:
            lines.append(line)
            continue
        if header is not None:
            resumes.append(Resume(header.group(1), category, header.group(2),
                                  "\n".join(lines).strip()))  # fmt: skip
        header, lines = match, []
    return resumes


def load_candidate_set(data_dir: Path = DATA_DIR) -> CandidateSet:
    """Every résumé and query of the set, queries split by category into the two halves."""
    with (data_dir / "categories.tsv").open(newline="", encoding="utf-8") as f:
        categories = [row["category"] for row in csv.DictReader(f, delimiter="\t")]
    resumes = [
        r
        for c in categories
        for r in parse_resumes(c, (data_dir / f"{c}.txt").read_text(encoding="utf-8"))
    ]
    with (data_dir / "queries.tsv").open(newline="", encoding="utf-8") as f:
        queries = [
            RecruiterQuery(row["query"], row["language"], row["category"], half_of(row["category"]))
            for row in csv.DictReader(f, delimiter="\t")
        ]
    return CandidateSet(tuple(resumes), tuple(queries))


def average_precision_at(ranking: Sequence[Any], relevant: set[Any], k: int = 50) -> float:
    """AP@k (``bench.metrics.average_precision_at``) with this set's cut-off."""
    return metrics.average_precision_at(ranking, relevant, k)


def ndcg_at(ranking: Sequence[Any], grades: dict[Any, int], k: int = 10) -> float:
    """Graded nDCG@k (``bench.metrics.graded_ndcg_at``)."""
    return metrics.graded_ndcg_at(ranking, grades, k)


_LATIN_WORD = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def plain_terms(text: str) -> list[str]:
    """Lower-cased Latin words and, for Chinese, each run's character bigrams (a one-character
    run: itself): no dictionary, no stemming, no synonyms."""
    text = text.lower()
    terms = _LATIN_WORD.findall(text)
    for run in _CJK_RUN.findall(text):
        terms += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return terms


class PlainBM25(metrics.BM25):
    """Okapi BM25 over ``plain_terms`` of the whole résumé text: the baseline to beat."""

    def __init__(self, documents: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:
        super().__init__(documents, plain_terms, k1=k1, b=b, top=50)


def ingest(runtime: Runtime, candidate_set: CandidateSet) -> dict[int, str]:
    """Each résumé through the candidate intake path (extraction, profile, outbox, index) into
    the evaluation's tenant; returns candidate id → résumé id."""
    with runtime.db.session() as session:
        get_or_create_tenant(session, TENANT)
    id_of: dict[int, str] = {}
    with runtime.db.session() as session:
        for resume in candidate_set.resumes:
            fields = with_resume_extraction({"external_id": resume.id, "resume_text": resume.text})
            candidate, _ = upsert_candidate(session, tenant_id=TENANT, fields=fields)
            session.flush()
            id_of[candidate.id] = resume.id
    if len(id_of) != len(candidate_set.resumes):
        raise RuntimeError("two résumés of the set were merged into one profile")
    runtime.sync.drain()
    return id_of


def _examples(
    runtime: Runtime, candidate_set: CandidateSet, id_of: dict[int, str], half: str
) -> list[CandidateExample]:
    """The re-ranker's signals for each query of ``half`` over what hybrid retrieval finds
    without a semantic floor (keyword hits and the nearest vectors), with their relevance."""
    indexed = runtime.search[EntityKind.CANDIDATE]
    # Without a floor: fitting chooses one (``fit_candidate_reranker``).
    unfloored = indexed.settings.model_copy(update={"semantic_floor": -1.0})
    search = HybridSearch(indexed.backend, unfloored, vectors=indexed.vectors)
    assert search.vectors is not None
    by_id = {r.id: r for r in candidate_set.resumes}
    examples = []
    for query in candidate_set.queries:
        if query.half != half:
            continue
        vector = runtime.encode_query(query.text)
        found: dict[str, dict[int, float]] = {}
        for mode in ("keyword", "semantic"):
            result = search.search(SearchQuery(viewer_tenant=TENANT, text=query.text,
                                               vector=vector, limit=200, mode=mode,
                                               collapse_duplicates=False))  # fmt: skip
            found[mode] = {
                h.id: (h.keyword_score if mode == "keyword" else h.semantic_score) or 0.0
                for h in result.hits
            }
        retrieved = list(dict.fromkeys([*found["keyword"], *found["semantic"]]))
        stored = search.vectors.stored_fields(retrieved)
        if not stored.ids:
            continue
        # The query's skills and coded occupations, as candidate search reads them.
        signals = candidate_signals(vector, stored,
                                    [found["keyword"].get(d, 0.0) for d in stored.ids],
                                    skills_in(query.text), code_query_occupations(query.text))  # fmt: skip
        resumes = [by_id[id_of[d]] for d in stored.ids]
        relevant = np.array([grade(query, r) == 2 for r in resumes], dtype=np.float64)
        total = sum(grade(query, r) == 2 for r in candidate_set.resumes)
        cross = np.array([r.language != query.language for r in resumes])
        examples.append(CandidateExample(signals, relevant, total, cross))
    return examples


@dataclass
class Scores:
    map50: list[float]
    ndcg10: list[float]


SYSTEM_ORDER = ("keyword", "semantic", "hybrid", "hybrid, RRF only", "plain BM25")


def _measure(
    runtime: Runtime, candidate_set: CandidateSet, id_of: dict[int, str]
) -> dict[tuple[str, str, str], Scores]:
    """(half, query language, system) → per-query scores, for each mode of the search
    service, the hybrid retrieval before re-ranking, and the plain BM25 baseline."""
    search = runtime.search[EntityKind.CANDIDATE]
    baseline = PlainBM25(r.text for r in candidate_set.resumes)
    scores: dict[tuple[str, str, str], Scores] = defaultdict(lambda: Scores([], []))
    for query in candidate_set.queries:
        rankings: dict[str, list[str]] = {}
        for mode in MODES:
            request = SearchRequest(query=query.text, page_size=50, mode=mode,
                                    include_duplicates=True, interpret_places=False)  # fmt: skip
            outcome = search_candidates(search, runtime.encode_query, viewer_tenant=TENANT,
                                        request=request)  # fmt: skip
            rankings[mode] = [id_of[h.id] for h in outcome.result.hits if h.id in id_of]
        plain = search.search(SearchQuery(viewer_tenant=TENANT, text=query.text,
                                          vector=runtime.encode_query(query.text), limit=50,
                                          mode="hybrid", collapse_duplicates=False))  # fmt: skip
        rankings["hybrid, RRF only"] = [id_of[h.id] for h in plain.hits if h.id in id_of]
        rankings["plain BM25"] = [candidate_set.resumes[i].id for i in baseline.rank(query.text)]
        grades = candidate_set.grades(query)
        # The same rankings over the résumés in the query's own language only (the issue's
        # public set was English queries over English résumés).
        own = {r.id for r in candidate_set.resumes if r.language == query.language}
        own_grades = {d: g for d, g in grades.items() if d in own}
        for system, ranking in rankings.items():
            own_ranking = [d for d in ranking if d in own]
            for language, ranked, graded in (
                ("all", ranking, grades), (query.language, ranking, grades),
                (f"{query.language}→{query.language}", own_ranking, own_grades),
            ):  # fmt: skip
                row = scores[(query.half, language, system)]
                relevant_here = {d for d, g in graded.items() if g == 2}
                row.map50.append(average_precision_at(ranked, relevant_here, 50))
                row.ndcg10.append(ndcg_at(ranked, graded, 10))
    return scores


def _table(half: str, scores: dict[tuple[str, str, str], Scores]) -> list[str]:
    lines = ["| queries → résumés | system | MAP@50 | nDCG@10 | n |", "|---|---|---|---|---|"]
    for language in ("all", "en", "zh", "en→en", "zh→zh"):
        for system in SYSTEM_ORDER:
            row = scores.get((half, language, system))
            if row is None:
                continue
            lines.append(f"| {language} | {system} | {mean(row.map50):.3f} | "
                         f"{mean(row.ndcg10):.3f} | {len(row.map50)} |")  # fmt: skip
    return lines


def _runtime(tmp: str, encoder: EmbeddingSettings | None) -> Runtime:
    settings = Settings(environment="test", data_dir=Path(tmp),
                        embedding=encoder or EmbeddingSettings())  # fmt: skip
    runtime = Runtime(settings)
    runtime.start(background=False)
    return runtime


def fit_shipped_weights(
    candidate_set: CandidateSet, *, encoder: EmbeddingSettings | None = None,
    path: Path = CANDIDATE_RERANKER_PATH, step: float = 0.05,
) -> str:  # fmt: skip
    """Fits the candidate re-ranking weights on the tuning half and writes them to ``path``
    (the shipped weights by default), on a weight grid of ``step``; returns the JSON written."""
    with tempfile.TemporaryDirectory() as tmp:
        runtime = _runtime(tmp, encoder)
        try:
            examples = _examples(runtime, candidate_set, ingest(runtime, candidate_set), "tuning")
            model = runtime.encoder.model_id
        finally:
            runtime.close()
    tuning = sorted({q.category for q in candidate_set.queries if q.half == "tuning"})
    reranker = fit_candidate_reranker(
        examples, version=time.strftime("%Y-%m-%d"), step=step,
        provenance={"fitted on": "tuning half of bench/data/candidate_search "
                                 "(talentmatch eval candidates --fit-default)",
                    "encoder": model, "categories": ", ".join(tuning)},
    )  # fmt: skip
    text = reranker.to_json() + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def run_candidate_search_evaluation(
    *, output: str, fit: bool = False, encoder: EmbeddingSettings | None = None,
    data_dir: Path = DATA_DIR,
) -> int:  # fmt: skip
    """Ingests the set through the real intake path, measures every system on both halves,
    writes ``output`` (first refitting the shipped weights on the tuning half if ``fit``)."""
    from search_index.candidate_rerank import default_candidate_reranker

    started = time.perf_counter()
    candidate_set = load_candidate_set(data_dir)
    if fit:
        fit_shipped_weights(candidate_set, encoder=encoder)
        default_candidate_reranker.cache_clear()
    reranker = default_candidate_reranker()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = _runtime(tmp, encoder)
        try:
            model = runtime.encoder.model_id
            scores = _measure(runtime, candidate_set, ingest(runtime, candidate_set))
        finally:
            runtime.close()
    languages = Counter(r.language for r in candidate_set.resumes)
    halves = {
        half: sorted({q.category for q in candidate_set.queries if q.half == half})
        for half in HALVES
    }
    weights = "; ".join(
        f"{key}: " + ", ".join(f"{name} {value}" for name, value in vars(w).items())
        for key, w in sorted(reranker.weights.items())
    )
    lines = [
        "# Candidate search (hand-written résumés, recruiter queries)",
        "",
        f"`talentmatch eval candidates`, {time.strftime('%Y-%m-%d')}, encoder `{model}`; "
        f"{len(candidate_set.resumes)} résumés ({languages['en']} English, {languages['zh']} "
        f"Chinese) in {len(halves['reporting']) + len(halves['tuning'])} categories, "
        f"{len(candidate_set.queries)} queries.",
        "",
        "Data: `bench/data/candidate_search/`, written by hand for this project (not the "
        "sample-data generator; see `bench/data/README.md`). Queries are category names as "
        "recruiters type them, in English and Chinese; every query runs over all résumés, so "
        "Chinese queries also meet English résumés of their category. Grades: the résumé's "
        "category 2, its secondary category 1, else 0. MAP@50 counts grade 2 as relevant (over "
        "min(relevant, 50)); nDCG@10 is graded (gain 2^grade − 1). Rows *all*, *en*, *zh*: "
        "queries of that language over every résumé; *en→en*, *zh→zh*: the same rankings "
        "restricted to the résumés in the query's language (the issue's public set was English "
        "queries over English résumés).",
        "",
        "Systems: *keyword*, *semantic*, *hybrid* are the candidate search API's modes, run "
        "in-process through the service the route calls (`matching.search.search_candidates` "
        "over `runtime.search[EntityKind.CANDIDATE]` with a `SearchRequest`: page size 50, no "
        "place reading), after each résumé went through the candidate intake path (extraction, "
        "profile, outbox, index). *hybrid* includes the candidate re-ranking "
        "(`search_index/candidate_rerank.py`, best-section cosine, title and content cosines, "
        "relative BM25, skills share, occupation proximity to the coded query); *hybrid, RRF "
        "only* is the index's hybrid retrieval without it. *plain BM25* is a baseline in "
        "`bench/candidate_search_eval.py` (k1 1.2, b 0.75, lower-cased Latin words and "
        "Chinese character bigrams of the whole résumé text).",
        "",
        f"Re-ranking weights (`search_index/data/candidate_reranker.json`, version "
        f"{reranker.version}, fitted on the tuning half only): {weights}; semantic floor "
        f"{reranker.semantic_floor}.",
        "",
        "## Reporting half",
        "",
        f"Categories: {', '.join(halves['reporting'])}. These are the reported numbers.",
        "",
        *_table("reporting", scores),
        "",
        "## Tuning half (not the reported numbers)",
        "",
        f"Categories: {', '.join(halves['tuning'])}. The re-ranking weights were fitted here.",
        "",
        *_table("tuning", scores),
        "",
    ]
    return write_report(output, lines, started)
