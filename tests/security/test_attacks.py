"""The attacks a multi-tenant résumé store must withstand. Each case tries something it
must not be able to do and checks the status code and that nothing changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.schemas import MAX_ID
from store.db import Database
from store.models import Candidate, Feedback, Job, utcnow
from tests.api.test_files import zip_bomb
from tests.conftest import Api

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


async def _world(api: Api) -> dict[str, Any]:
    """acme holds a candidate; globex is the attacker; a fair shows one of acme's postings."""
    victim = await api.create_candidate("acme", name="受害者王五", external_id="crm-1",
                                        skills=["Python"], summary="Python 后端工程师")  # fmt: skip
    job = await api.create_job("acme", title="Python后端开发工程师")
    own_job = await api.create_job("globex", title="Python 工程师")
    await api.post(
        "/v1/fairs", "szu", {"id": "szu-fair", "name": "SZU"}
    )  # tenant keys are agency keys
    fair_key = api.new_key("szu-office", "fair")
    await api.client.post(
        "/v1/fairs", json={"id": "szu-fair", "name": "SZU"}, headers=bearer(fair_key)
    )
    await api.client.put(f"/v1/fairs/szu-fair/postings/{job['id']}", headers=bearer(fair_key))
    public = api.new_key("szu-office", "public", fair_id="szu-fair", origins=[SITE])
    return {"victim": victim, "job": job, "own_job": own_job, "public": public}


def _counts(api: Api) -> tuple[int, int, int]:
    db = Database(api.settings)
    try:
        with db.session() as session:
            return (
                int(session.scalar(select(func.count()).select_from(Candidate)) or 0),
                int(session.scalar(select(func.count()).select_from(Job)) or 0),
                int(session.scalar(select(func.count()).select_from(Feedback)) or 0),
            )
    finally:
        db.dispose()


def _ids(world: dict[str, Any]) -> dict[str, int]:
    return {
        "victim": world["victim"]["id"],
        "job": world["job"]["id"],
        "own_job": world["own_job"]["id"],
    }


async def _attempt(api: Api, method: str, path: str, body: dict[str, Any] | None,
                   ids: dict[str, int], headers: dict[str, str]) -> httpx.Response:  # fmt: skip
    """Send one attack: ``{victim}``-style placeholders in the path and body become ids."""
    payload = {k: (ids[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v)
               for k, v in (body or {}).items()} or None  # fmt: skip
    return await api.client.request(method, path.format(**ids), json=payload, headers=headers)


CROSS_TENANT = [
    ("GET", "/v1/candidates/{victim}", None, 404),
    ("PATCH", "/v1/candidates/{victim}", {"name": "pwned"}, 404),
    ("DELETE", "/v1/candidates/{victim}", None, 404),
    ("GET", "/v1/candidates/{victim}/matches", None, 404),
    ("GET", "/v1/candidates/{victim}/export?purpose=x", None, 404),
    ("GET", "/v1/candidates/{victim}/file", None, 404),
    (
        "POST",
        "/v1/feedback",
        {"job_id": "{job}", "candidate_id": "{victim}", "action": "hired"},
        404,
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), CROSS_TENANT)
async def test_another_tenants_candidate_is_out_of_reach(api: Api, method: str, path: str,
                                                         body: Any, expected: int) -> None:  # fmt: skip
    world = await _world(api)
    ids = _ids(world)
    before = _counts(api)
    response = await _attempt(api, method, path, body, ids, api.auth("globex"))
    assert response.status_code == expected, response.text
    assert _counts(api) == before
    still = (await api.get(f"/v1/candidates/{ids['victim']}", "acme")).json()
    assert still["name"] == "受害者王五"


async def test_search_match_and_feedback_lists_never_show_another_tenants_candidates(
    api: Api,
) -> None:
    world = await _world(api)
    found = (
        await api.post("/v1/search/candidates", "globex", {"query": "受害者王五 Python"})
    ).json()
    assert found["hits"] == []
    matches = (await api.get(f"/v1/jobs/{world['own_job']['id']}/matches", "globex")).json()
    assert world["victim"]["id"] not in [m["id"] for m in matches["matches"]]
    listed = (
        await api.get("/v1/feedback", "globex", params={"candidate_id": world["victim"]["id"]})
    ).json()
    assert listed["items"] == []
    # The same external id in another tenant is another record, not a takeover.
    mine = await api.create_candidate("globex", name="globex's own", external_id="crm-1")
    assert mine["id"] != world["victim"]["id"]
    assert (await api.get(f"/v1/candidates/{world['victim']['id']}", "acme")).json()[
        "name"
    ] == "受害者王五"


PUBLIC_KEY_ABUSE = [
    ("POST", "/v1/jobs", {"title": "spam"}, 403),
    ("PATCH", "/v1/jobs/{job}", {"title": "defaced"}, 403),
    ("DELETE", "/v1/jobs/{job}", None, 403),
    ("POST", "/v1/candidates", {"name": "x"}, 403),
    ("GET", "/v1/candidates", None, 403),
    ("POST", "/v1/search/candidates", {"query": "Python"}, 403),
    ("GET", "/v1/jobs/{job}/matches", None, 403),
    (
        "POST",
        "/v1/feedback",
        {"job_id": "{job}", "candidate_id": "{victim}", "action": "viewed"},
        403,
    ),
    ("PUT", "/v1/fairs/szu-fair/postings/{own_job}", None, 403),
    ("GET", "/v1/admin/keys", None, 403),
    ("GET", "/v1/jobs/{own_job}", None, 404),  # a posting not shown at its fair
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), PUBLIC_KEY_ABUSE)
async def test_a_fairs_browser_key_cannot_do_more_than_search_its_fair(
    api: Api, method: str, path: str, body: Any, expected: int
) -> None:
    world = await _world(api)
    before = _counts(api)
    response = await _attempt(api, method, path, body, _ids(world),
                              bearer(world["public"], Origin=SITE))  # fmt: skip
    assert response.status_code == expected, response.text
    assert _counts(api) == before


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://jobs.szu.edu.cn",
        "https://jobs.szu.edu.cn.evil.example",
        None,
    ],
)
async def test_a_browser_key_works_from_its_own_origin_only(api: Api, origin: str | None) -> None:
    world = await _world(api)
    headers = bearer(world["public"]) | ({"Origin": origin} if origin else {})
    response = await api.client.post("/v1/search/jobs", json={"query": "Python"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"


@pytest.mark.parametrize(
    "case", ["revoked", "expired", "malformed", "wrong secret", "no header", "basic auth"]
)
async def test_bad_keys_are_refused(api: Api, case: str) -> None:
    key = api.new_key("acme", "agency")
    if case == "revoked":
        admin = api.new_key("operator", "admin")
        await api.client.delete(f"/v1/admin/keys/{key.split('_')[1]}", headers=bearer(admin))
    if case == "expired":
        key = api.new_key("acme", "agency", expires_at=utcnow() + timedelta(days=1))
        api.expire_key(key)
    headers = {
        "malformed": {"Authorization": "Bearer not-a-key"},
        "wrong secret": bearer(key[:-4] + "AAAA"),
        "no header": {},
        "basic auth": {"Authorization": "Basic YWNtZTpwYXNz"},
    }.get(case, bearer(key))
    response = await api.client.get("/v1/jobs", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


INJECTIONS = [
    "title:Python", "Python AND NOT Java", "*", "?", '"unterminated', "(((", "a^10", "a~2",
    "[a TO z]", "'; DROP TABLE jobs; --", "1' OR '1'='1", "Python\" OR \"1\"=\"1", ".*(a+)+$",
    "(a|aa)*b" * 20, "a{1000000}", "\\", "\x00\x01", "%00", "${jndi:ldap://x}", "<script>alert(1)</script>",
    "深圳 ) OR ( 1=1", "+-&&||!(){}[]^\"~*?:\\/",
]  # fmt: skip


# Malformed in the search syntax (an unclosed quote or parenthesis): refused with a 422
# naming ``query`` and the position, as any other malformed input.
MALFORMED = {'"unterminated', "(((", "深圳 ) OR ( 1=1", '+-&&||!(){}[]^"~*?:\\/'}


@pytest.mark.parametrize("query", INJECTIONS)
async def test_query_syntax_is_just_text(api: Api, query: str) -> None:
    """Other engines' syntax, SQL and template injections are words, or the project's own
    syntax; never executed, never a 500, nothing stored changes."""
    world = await _world(api)
    before = _counts(api)
    for path, tenant in (("/v1/search/jobs", "acme"), ("/v1/search/candidates", "acme")):
        response = await api.post(path, tenant, {"query": query})
        if any(ord(ch) < 32 for ch in query) or query in MALFORMED:
            # Control characters are no text; malformed syntax is named where it breaks.
            assert response.status_code == 422, response.text
            detail = response.json()["error"]["details"][0]
            assert detail["field"] == "query"
            if query in MALFORMED:
                assert isinstance(detail["position"], int)
            continue
        assert response.status_code == 200, response.text
        # Highlights escape HTML: nothing a page would execute comes back.
        assert "<script>" not in response.text
    assert _counts(api) == before
    assert world["victim"]["id"] in [
        c["id"] for c in (await api.get("/v1/candidates", "acme")).json()["items"]
    ]


async def test_hostile_uploads_are_refused_and_leave_nothing(api: Api) -> None:
    before = _counts(api)
    hostile = [
        ("bomb.docx", zip_bomb()),
        ("fake.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 100),
        ("big.txt", b"x" * (api.settings.uploads.max_file_bytes + 1)),
        ("renamed.pdf", b"PK\x03\x04 not really a pdf"),
    ]
    response = await api.client.post("/v1/candidates/files", files=[("files", f) for f in hostile],
                                     headers=api.auth("acme"))  # fmt: skip
    assert response.status_code == 200
    assert all(r["status"] == "error" for r in response.json()["results"])
    assert _counts(api) == before
    files_dir = api.settings.files_dir
    stored = [p for p in files_dir.rglob("*") if p.is_file()] if files_dir.exists() else []
    assert stored == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.txt",
        "..\\..\\windows\\win.ini.txt",
        "/etc/shadow.txt",
        "a/../../../b.txt",
        "\x00evil.txt",
    ],
)
async def test_path_traversal_names_stay_metadata(api: Api, name: str) -> None:
    content = "李雷 Python 深圳 五年经验 lilei@example.com".encode()
    response = await api.client.post("/v1/candidates/files", files=[("files", (name, content))],
                                     headers=api.auth("acme"))  # fmt: skip
    assert response.status_code == 200
    root = api.settings.data_dir.resolve()
    for path in api.settings.data_dir.parent.rglob("*"):
        if path.is_file() and path.name.endswith(".txt"):
            assert root in path.resolve().parents, path  # nothing written outside the data dir


async def test_ids_cannot_be_enumerated(api: Api) -> None:
    world = await _world(api)
    existing = await api.get(f"/v1/candidates/{world['victim']['id']}", "globex")
    missing = await api.get(f"/v1/candidates/{world['victim']['id'] + 1000}", "globex")
    assert existing.status_code == missing.status_code == 404
    # The same answer, word for word, whether the id exists in another tenant or not.
    assert existing.json()["error"]["message"].replace(str(world["victim"]["id"]), "N") == \
        missing.json()["error"]["message"].replace(str(world["victim"]["id"] + 1000), "N")  # fmt: skip
    for bad in (0, -1, MAX_ID + 1, 10**30):
        response = await api.get(f"/v1/candidates/{bad}", "globex")
        assert response.status_code == 422


async def test_oversize_and_malformed_bodies(api: Api) -> None:
    big = await api.client.post("/v1/jobs", content=b'{"title": "' + b"x" * 1_100_000 + b'"}',
                                headers=api.auth("acme") | {"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413
    broken = await api.client.post("/v1/jobs", content=b'{"title": ', headers=api.auth("acme") |
                                   {"content-type": "application/json"})  # fmt: skip
    assert broken.status_code == 422
    deep = await api.client.post("/v1/search/jobs", content=b"[" * 5000 + b"]" * 5000,
                                 headers=api.auth("acme") | {"content-type": "application/json"})  # fmt: skip
    assert deep.status_code in (400, 422)
    assert deep.json()["error"]["code"]  # the project's error body, not a stack trace
    huge_page = await api.get("/v1/jobs", "acme", params={"page_size": 100_000})
    assert huge_page.status_code == 422
    assert _counts(api) == (0, 0, 0)
