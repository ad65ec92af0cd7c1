"""An English age written without a unit, a bare number beside the person or the title
("Nurse (32)", "Jane Doe, 32,", "(F, 32)"), is neutralized like "age 32"; the numbers a
résumé means as work (years of experience, pay, counts, versions, dates, phones) stay."""

from __future__ import annotations

import pytest

from representation.fairness import blind_text, neutralize
from tests.conftest import Api

AGES = {
    "Nurse (32)": "Nurse",
    "Registered Nurse (41)\nICU nurse since 2015": "Registered Nurse\nICU nurse since 2015",
    "Jane Doe, 32,": "",
    "Jane Doe, 32, Shanghai": "Shanghai",
    "Senior Nurse, 45": "Senior Nurse",
    "Charge Nurse, 29; ICU": "Charge Nurse; ICU",
    "(F, 32)": "",
    "Li Na (32/F) Nurse": "Li Na Nurse",
    "Ward nurse (M 28), night shifts": "Ward nurse, night shifts",
    "Jane Doe (32, female)": "",
    "Jane Doe (female, 32)\nNurse": "Nurse",
    "护士 (F，36)": "护士",
    # A bracket that keeps other words loses the separator the age leaves.
    "Nurse (ICU, age 32)": "Nurse (ICU)",
}

REAL_NUMBERS = [
    "5 years of Python",
    "Salary 25k",
    "Led a team of 32 engineers",
    "Python 3.11, Java 11",
    "JDK 17",
    "2020-05 to 2023-03",
    "Phone 138 0013 8000",
    "Built 32 services (32 in production)",
    "Released v2 (2021)",
    "Budget (32M)",
    "Python (3.11)",
    "Kubernetes, 12 clusters",
    "Shenzhen, 518000",
    "Nurse, 32 beds",
    "Nurse (12 years)",
    "Nurse (5)",
    "ICU, 24/7 cover",
    "Windows 10",
]


@pytest.mark.parametrize("text", list(AGES))
def test_a_bare_english_age_beside_the_person_or_title_is_removed(text: str) -> None:
    assert neutralize(text, "Jane Doe") == AGES[text]
    assert blind_text(text, "Jane Doe") == AGES[text]


@pytest.mark.parametrize("text", REAL_NUMBERS)
def test_numbers_that_are_work_stay(text: str) -> None:
    assert neutralize(text, "Jane Doe") == text


RESUMES = {
    "a": "Jane Doe, 37, Shenzhen\nRegistered Nurse\nIntensive care since 2012; 5 years as shift lead.",
    "b": "Mary Major (F, 38)\nHead Nurse\nRuns the cardiac ward of Shenzhen General Hospital.",
    "c": "Emily Stone\nIntensive Care Nurse (39)\nNight shifts, ventilator care, 25k monthly.",
    "d": "Tom Lee\nCharge Nurse\nLed a team of 36 nurses in intensive care.",
}


async def _people(api: Api) -> dict[str, int]:
    ids = {}
    for n, (key, text) in enumerate(RESUMES.items()):
        response = await api.post(
            "/v1/candidates", "acme", {"resume_text": text, "email": f"age{n}@example.com"}
        )
        assert response.status_code == 201, response.text
        ids[key] = int(response.json()["id"])
    return ids


@pytest.mark.anyio
async def test_a_candidate_search_for_the_age_finds_nobody_and_real_numbers_still_match(
    api: Api,
) -> None:
    ids = await _people(api)
    for age in ("37", "38", "39"):
        found = (
            await api.post("/v1/search/candidates", "acme", {"query": age, "mode": "keyword"})
        ).json()
        assert found["hits"] == [], age
    # The same kind of number meant as work is still in the index.
    team = (
        await api.post("/v1/search/candidates", "acme", {"query": "36", "mode": "keyword"})
    ).json()
    assert [h["id"] for h in team["hits"]] == [ids["d"]]
    nurses = (
        await api.post("/v1/search/candidates", "acme", {"query": "Nurse", "mode": "keyword"})
    ).json()
    assert {h["id"] for h in nurses["hits"]} == set(ids.values())


@pytest.mark.anyio
async def test_blind_mode_hides_a_bare_english_age(api: Api) -> None:
    ids = await _people(api)
    job = await api.create_job("acme", title="ICU Nurse", description="Intensive care nursing.",
                               required_skills=[], preferred_skills=[], language="en")  # fmt: skip
    response = await api.post(
        "/v1/search/candidates?blind=true",
        "acme",
        {"query": "Nurse intensive care", "page_size": 10},
    )
    assert response.status_code == 200
    hits = response.json()["hits"]
    assert {ids["a"], ids["b"], ids["c"]} <= {h["id"] for h in hits}
    shown = [str(hits)]
    matches = await api.get(f"/v1/jobs/{job['id']}/matches?blind=true", "acme")
    assert {ids["a"], ids["b"], ids["c"]} <= {m["id"] for m in matches.json()["matches"]}
    shown.append(str(matches.json()))
    for person in ids.values():
        mine = await api.get(f"/v1/candidates/{person}/matches?blind=true", "acme")
        shown.append(str(mine.json()))
    text = "".join(shown)
    for age in (", 37,", "37, Shenzhen", "(F, 38)", "(39)", "Jane Doe", "Mary Major"):
        assert age not in text, age
    assert "Intensive care since 2012" in text or "intensive care" in text.lower()
