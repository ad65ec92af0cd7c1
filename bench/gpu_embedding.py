"""Bulk embedding throughput of a sentence-transformers model on a GPU (for the scale plan:
how long re-embedding millions of postings takes). Standalone: needs torch and
sentence-transformers, not the service's dependencies.

    python -m bench.gpu_embedding MODEL_DIR [N_TEXTS]
"""

from __future__ import annotations

import sys
import time

from ingestion.sample_data import generate_jobs


def posting_texts(count: int) -> list[str]:
    """Title, skills and description, as the service embeds a posting."""
    texts = []
    for record in generate_jobs(count, seed=77):
        f = record.fields
        skills = ", ".join(f["required_skills"] + f["preferred_skills"])
        texts.append(f"{f['title']}. {skills}. {f['description']}"[:1200])
    return texts


def main() -> int:
    import torch
    from sentence_transformers import SentenceTransformer

    model_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    texts = posting_texts(count)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"device: {torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu'}; torch {torch.__version__}"
    )
    print(f"{count} posting texts, mean {sum(map(len, texts)) / count:.0f} characters")
    model = SentenceTransformer(model_dir, device=device)
    if device == "cuda":
        model = model.half()
    model.encode(texts[:512], batch_size=256)  # warm-up: kernels, allocator
    print("| batch size | texts/s | seconds |")
    print("|---|---|---|")
    for batch_size in (64, 256, 1024):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        model.encode(texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True)
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        print(f"| {batch_size} | {count / elapsed:,.0f} | {elapsed:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
