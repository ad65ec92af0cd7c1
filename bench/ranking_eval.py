"""Ranking quality: MAP, nDCG@10, P@5 and recall@100 for search and for matching in both
directions, per signal (BM25 only, embeddings only, hybrid) and with the match scorer's
re-ranking, on Chinese, English and cross-language slices.

The labelled set is generated (``ingestion.sample_data``): a posting or candidate is
relevant to a query, posting or candidate of the same occupation archetype (graded 2),
related to one of the same occupation family (graded 1, counted in nDCG only).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from api.runtime import Runtime
from bench.encoder_quality import build_queries
from bench.metrics import average_precision, mean, precision_at, recall_at
from core.settings import Settings
from ingestion.sample_data import generate_candidates, generate_jobs
from matching.profiles import CandidateProfile
from matching.service import rank_candidates_for_job, rank_jobs_for_candidate
from search_index.protocol import SearchMode, SearchQuery
from store.candidates import candidates_by_ids, upsert_candidate
from store.jobs import jobs_by_ids, upsert_job
from store.keys import get_or_create_tenant

SYSTEMS: tuple[tuple[str, SearchMode], ...] = (
    ("BM25 only", "keyword"),
    ("embeddings only", "semantic"),
    ("hybrid", "hybrid"),
)
FAMILIES = {
    "tech": {
        "backend",
        "frontend",
        "data_analyst",
        "ml_engineer",
        "qa",
        "devops",
        "embedded",
        "hardware",
    },
    "product": {"product_manager", "ui_designer"},
    "business": {"sales", "ecommerce", "marketing", "customer_service"},
    "office": {"accountant", "finance_analyst", "hr", "legal"},
    "supply": {"logistics", "purchasing", "warehouse", "driver"},
    "factory": {"quality", "mechanical", "plc", "cnc", "construction"},
    "service": {"teacher", "nurse", "chef"},
}
FAMILY_OF = {key: family for family, keys in FAMILIES.items() for key in keys}


def grade(a: str, b: str) -> int:
    if a == b:
        return 2
    return 1 if FAMILY_OF.get(a) == FAMILY_OF.get(b) else 0


def graded_ndcg(ranking: list[int], grades: dict[int, int], k: int = 10) -> float:
    import math

    dcg = sum((2 ** grades.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


class Table:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def add(
        self,
        task: str,
        system: str,
        slice_name: str,
        ranking: list[int],
        labels: dict[int, str],
        target: str,
    ) -> None:
        grades = {d: grade(target, a) for d, a in labels.items()}
        relevant = {d for d, g in grades.items() if g == 2}
        if not relevant:
            return
        metrics = self.rows[(task, slice_name, system)]
        metrics["MAP"].append(average_precision(ranking, relevant))
        metrics["nDCG@10"].append(graded_ndcg(ranking, grades))
        metrics["P@5"].append(precision_at(ranking, relevant, 5))
        metrics["R@100"].append(recall_at(ranking, relevant, 100))

    def render(self) -> list[str]:
        lines = [
            "| task | slice | system | MAP | nDCG@10 | P@5 | recall@100 | n |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for (task, slice_name, system), m in sorted(self.rows.items()):
            lines.append(
                f"| {task} | {slice_name} | {system} | {mean(m['MAP']):.3f} | {mean(m['nDCG@10']):.3f} | "
                f"{mean(m['P@5']):.3f} | {mean(m['R@100']):.3f} | {len(m['MAP'])} |"
            )
        return lines


def _slice(query_language: str, doc_language: str) -> str:
    return f"{query_language}→{doc_language}"


def run_ranking_evaluation(
    *, output: str, postings: int = 1200, people: int = 600, probes: int = 60
) -> int:
    started = time.perf_counter()
    table = Table()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(environment="test", data_dir=Path(tmp)))
        runtime.start(background=False)
        with runtime.db.session() as session:
            get_or_create_tenant(session, "eval")
        job_records = list(generate_jobs(postings, seed=808))
        person_records = [
            r for r in generate_candidates(people, seed=909) if "resume_text" not in r.fields
        ]
        job_label: dict[int, str] = {}
        job_lang: dict[int, str] = {}
        person_label: dict[int, str] = {}
        person_lang: dict[int, str] = {}
        for start in range(0, len(job_records), 200):
            with runtime.db.session() as session:
                for record in job_records[start : start + 200]:
                    fields = {**record.fields, "private": False}
                    job, _ = upsert_job(session, tenant_id="eval", fields=fields)
                    job_label[job.id], job_lang[job.id] = record.archetype, record.language
            runtime.sync.drain()
        for start in range(0, len(person_records), 200):
            with runtime.db.session() as session:
                for record in person_records[start : start + 200]:
                    person, _ = upsert_candidate(session, tenant_id="eval", fields=record.fields)
                    person_label[person.id], person_lang[person.id] = (
                        record.archetype,
                        record.language,
                    )
            runtime.sync.drain()

        # Search: the encoder evaluation's queries against postings.
        for query in build_queries():
            vector = runtime.encode_query(query.text)
            for system, mode in SYSTEMS:
                hits = runtime.jobs_index.search(SearchQuery(viewer_tenant="eval", text=query.text, vector=vector,
                                                             limit=100, mode=mode, collapse_duplicates=False))  # fmt: skip
                ranking = [h.id for h in hits.hits]
                for doc_language in ("zh", "en"):
                    labels = {d: a for d, a in job_label.items() if job_lang[d] == doc_language}
                    table.add("search", system, _slice(query.language, doc_language),
                              [d for d in ranking if d in labels], labels, query.archetype)  # fmt: skip

        rng = random.Random(5)
        sampled_jobs = rng.sample(sorted(job_label), probes)
        sampled_people = rng.sample(sorted(person_label), probes)
        with runtime.db.session() as session:
            for job_id in sampled_jobs:
                job = jobs_by_ids(session, [job_id])[job_id]
                _direction(runtime, table, "job→candidates", job, job.title, list(job.required_skills) + list(job.preferred_skills),
                           runtime.jobs_index, runtime.candidates_index, person_label, person_lang, job_label[job_id],
                           job_lang[job_id], partial(_ranked_candidates, runtime, session, job))  # fmt: skip
            for person_id in sampled_people:
                person = candidates_by_ids(session, [person_id])[person_id]
                profile = CandidateProfile.from_row(person)
                _direction(runtime, table, "candidate→jobs", person, " ".join(profile.titles), list(person.skills),
                           runtime.candidates_index, runtime.jobs_index, job_label, job_lang, person_label[person_id],
                           person_lang[person_id], partial(_ranked_jobs, runtime, session, person))  # fmt: skip
        runtime.close()
    lines = [
        "# Ranking quality",
        "",
        f"`talentmatch eval ranking`, {time.strftime('%Y-%m-%d')}: {postings} generated postings, "
        f"{len(person_label)} candidates, {len(build_queries())} search queries, {probes} postings and {probes} "
        "candidates as matching probes. Relevant = same occupation archetype (grade 2); same occupation family "
        "= grade 1 (nDCG only). Slices are query language → document language.",
        "",
        *table.render(),
        "",
        f"Evaluation time: {time.perf_counter() - started:.0f} s.",
        "",
    ]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


def _direction(runtime: Runtime, table: Table, task: str, source: Any, title: str, skills: list[str], source_index: Any,
               target_index: Any, labels: dict[int, str], languages: dict[int, str], target_label: str,
               source_language: str, ranked: Callable[[], list[int]]) -> None:  # fmt: skip
    stored = source_index.vectors([source.id])[source.id]
    text = " ".join([title, *skills])
    results: dict[str, list[int]] = {}
    for system, mode in SYSTEMS:
        hits = target_index.search(SearchQuery(viewer_tenant="eval", text=text, vector=stored.vector, limit=100,
                                               mode=mode, collapse_duplicates=False))  # fmt: skip
        results[system] = [h.id for h in hits.hits]
    results["hybrid + re-ranking"] = ranked()
    for system, ranking in results.items():
        for doc_language in ("zh", "en"):
            subset = {d: a for d, a in labels.items() if languages[d] == doc_language}
            table.add(task, system, _slice(source_language, doc_language), [d for d in ranking if d in subset],
                      subset, target_label)  # fmt: skip


def _ranked_candidates(runtime: Runtime, session: Any, job: Any) -> list[int]:
    """The shipped matcher's ranking (hybrid retrieval, then the factor scorer)."""
    ranked = rank_candidates_for_job(
        job, tenant_id="eval", job_index=runtime.jobs_index, candidate_index=runtime.candidates_index,
        load_candidates=partial(candidates_by_ids, session), settings=runtime.settings.match, limit=100,
    )  # fmt: skip
    return [row.id for row, _ in ranked]


def _ranked_jobs(runtime: Runtime, session: Any, person: Any) -> list[int]:
    ranked = rank_jobs_for_candidate(
        person, job_index=runtime.jobs_index, candidate_index=runtime.candidates_index,
        load_jobs=partial(jobs_by_ids, session), settings=runtime.settings.match, limit=100,
    )  # fmt: skip
    return [row.id for row, _ in ranked]
