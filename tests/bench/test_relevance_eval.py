"""The job-title relevance evaluation: its set built from real ESCO/CSCO labels, its metrics
on hand-computed rankings, and a small run end to end."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.relevance_eval import (
    ESCO_PATH,
    NOT_MEASURED,
    SYSTEM_ORDER,
    BigramBM25,
    Occupation,
    average_precision_at,
    build_title_set,
    character_bigrams,
    csco_occupations,
    esco_occupations,
    grade,
    half_of,
    held_out_coder,
    ndcg_at,
    run_relevance_evaluation,
    true_code,
    without_shared_labels,
)
from core.settings import EmbeddingSettings
from taxonomy.occupations import code_title, csco_coder, esco_coder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["zh", "en"])
def occupations(request: pytest.FixtureRequest) -> list[Occupation]:
    return csco_occupations() if request.param == "zh" else esco_occupations()


def _key(label: str) -> str:
    return " ".join(label.lower().split())


def test_a_query_is_never_one_of_its_own_occupations_postings(
    occupations: list[Occupation],
) -> None:
    title_set = build_title_set(occupations)
    assert 90 <= len(title_set.queries) <= 210 and 2000 <= len(title_set.postings) <= 3000
    for query in title_set.queries:
        own = [_key(p.title) for p in title_set.postings if p.occupation == query.occupation]
        assert len(own) >= 2
        assert _key(query.text) not in own


def test_the_split_is_disjoint_by_occupation_and_stable(occupations: list[Occupation]) -> None:
    title_set = build_title_set(occupations)
    halves: dict[str, set[str]] = {"reporting": set(), "tuning": set()}
    for query in title_set.queries:
        halves[query.half].add(query.occupation)
        assert query.half == half_of(query.occupation)
    assert len(halves["reporting"]) == len(halves["tuning"]) == 100
    assert not halves["reporting"] & halves["tuning"]
    assert build_title_set(occupations) == title_set
    # Another process (another string-hash seed) splits the same way.
    ids = sorted(halves["reporting"] | halves["tuning"])[:20]
    script = (
        "import sys; from bench.relevance_eval import half_of; "
        "print(' '.join(half_of(i) for i in sys.argv[1:]))"
    )
    other = subprocess.run([sys.executable, "-c", script, *ids], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    assert other == [half_of(i) for i in ids]


def test_grades_follow_the_occupation_and_its_neighbourhood(
    occupations: list[Occupation],
) -> None:
    title_set = build_title_set(occupations)
    if title_set.language == "zh":
        # The 小类 of 2-02-09-01 is 2-02-09.
        def unit(occupation: str) -> str:
            return occupation.rsplit("-", 1)[0]
    else:
        with ESCO_PATH.open(newline="", encoding="utf-8") as f:
            isco = {row["conceptUri"]: row["iscoGroup"] for row in csv.DictReader(f)}

        def unit(occupation: str) -> str:
            return isco[occupation]

    seen: Counter[int] = Counter()
    for query in title_set.queries:
        for posting in title_set.postings:
            expected = (
                2
                if posting.occupation == query.occupation
                else 1
                if unit(posting.occupation) == unit(query.occupation)
                else 0
            )
            assert grade(query, posting) == expected
            seen[expected] += 1
        assert set(title_set.grades(query).items()) == {
            (i, g) for i, p in enumerate(title_set.postings) if (g := grade(query, p)) > 0
        }
    assert seen[2] >= 2 * len(title_set.queries) and seen[1] > 0 and seen[0] > 0


def test_labels_shared_by_two_occupations_are_dropped() -> None:
    pool = [
        Occupation("a", "en", "1111", ("nurse", "ward nurse", "Nurse Aide", "carer")),
        Occupation("b", "en", "1112", ("nurse aide", "care assistant", "carer ")),
    ]
    labels = {o.id: set(o.labels) for o in without_shared_labels(pool)}
    assert labels == {"a": {"nurse", "ward nurse"}, "b": {"care assistant"}}


def test_average_precision_at_k_on_a_hand_computed_ranking() -> None:
    ranking = [1, 9, 2, 8, 3]
    relevant = {1, 2, 3, 4}
    # Hits at ranks 1, 3, 5: (1/1 + 2/3 + 3/5) / 4 relevant.
    assert average_precision_at(ranking, relevant, 100) == pytest.approx((1 + 2 / 3 + 3 / 5) / 4)
    # Cut at 3: (1/1 + 2/3) over min(4, 3).
    assert average_precision_at(ranking, relevant, 3) == pytest.approx((1 + 2 / 3) / 3)
    assert average_precision_at([9, 8], relevant) == 0.0
    assert average_precision_at(ranking, set()) == 0.0


def test_graded_ndcg_at_k_on_a_hand_computed_ranking() -> None:
    grades = {10: 1, 11: 2, 12: 2}
    # Gains 2^g − 1 = 1, 3, 0 at ranks 1..3; the ideal order is 3, 3, 1.
    dcg = 1 / math.log2(2) + 3 / math.log2(3) + 0
    ideal = 3 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at([10, 11, 13], grades, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at([11, 12, 10], grades, 3) == pytest.approx(1.0)
    # Only the top k count, in the ranking and in the ideal.
    assert ndcg_at([13, 14, 11], grades, 2) == 0.0
    many = {10: 2, 11: 2, 12: 2, 13: 1}
    assert ndcg_at([13, 10], many, 2) == pytest.approx(
        (1 + 3 / math.log2(3)) / (3 + 3 / math.log2(3))
    )
    assert ndcg_at([1, 2], {}, 10) == 0.0


def test_the_bigram_baseline_matches_shared_characters() -> None:
    assert character_bigrams("药剂师") == ["药剂", "剂师"]
    assert character_bigrams("Sea Captain x") == [
        "se",
        "ea",
        "ca",
        "ap",
        "pt",
        "ta",
        "ai",
        "in",
        "x",
    ]
    index = BigramBM25(["药房药剂员", "调度员", "药剂师助理", "酒吧服务员"])
    ranked = index.rank("药剂师")
    assert ranked[:2] == [2, 0] and 1 not in ranked and 3 not in ranked


def test_a_small_run_writes_both_halves_for_each_language_and_system(tmp_path: Path) -> None:
    output = tmp_path / "relevance.md"
    assert run_relevance_evaluation(output=str(output), queries_per_half=5, titles=150,
                                    encoder=EmbeddingSettings(provider="hashing")) == 0  # fmt: skip
    text = output.read_text(encoding="utf-8")
    reporting, tuning = text.split("## Reporting half")[1].split("## Tuning half")
    assert "search_postings" in text and "in-process" in text
    for section in (reporting, tuning):
        rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| zh")
                or line.startswith("| en")]  # fmt: skip
        assert {(c[0].strip(), c[1].strip()) for c in rows} == {
            (language, system) for language in ("zh", "en") for system in SYSTEM_ORDER
        }
        for cells in rows:
            if cells[1].strip() in NOT_MEASURED:
                assert cells[2].strip() == "n/a" and cells[4].strip() == "0"
                continue
            assert 0.0 <= float(cells[2]) <= 1.0 and 0.0 <= float(cells[3]) <= 1.0
            assert cells[4].strip() == "5"
        # Real titles of one occupation share words: keyword search finds some of them.
        keyword = [float(c[2]) for c in rows if c[1].strip() == "keyword (words + characters)"]
        assert len(keyword) == 2 and all(value > 0.05 for value in keyword)
    # The coding is held out, and its accuracy is reported beside the rows.
    assert "leave_out=True" in text and "queries coded right (top 1)" in text


def test_the_held_out_coder_never_answers_a_label_by_looking_it_up() -> None:
    zh, en = held_out_coder("zh"), held_out_coder("en")
    # Exact labels: the product's coder finds the label itself; held out, the label's own
    # entries are ignored and the score comes from the occupation's other labels (lower).
    for whole, label in ((csco_coder(), "调解员"), (esco_coder(), "forklift operator"),
                         (esco_coder(), "camera operator")):  # fmt: skip
        exact = whole.code(label, top=1)[0]
        held_out = whole.code(label, top=1, leave_out=True)[0]
        assert held_out.score < exact.score, (label, exact, held_out)
        assert code_title(label) is not None
    for coder, label in ((zh, "调解员"), (en, "forklift operator")):
        assert coder(label), label
    # It still codes from the occupation's other labels and near neighbours.
    assert zh("调解员")[0][0] == "3-03-01-03"
    assert true_code("en", next(iter(_esco_uri("forklift operator")))) == "ISCO-08:8344"


def _esco_uri(label: str) -> set[str]:
    with ESCO_PATH.open(newline="", encoding="utf-8") as f:
        return {row["conceptUri"] for row in csv.DictReader(f) if row["preferredLabel"] == label}
