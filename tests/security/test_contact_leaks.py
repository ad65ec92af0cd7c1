"""Contacts leak nowhere: every contact shape planted in every free-text field of a candidate
and a posting, and every path that returns them read with keys without
``candidates:contact`` (an agency key without it, a partner key, a fair's browser key).
A key with the scope still sees them (the test would notice over-masking). Blind screening
and the keyword index hold no name, however the résumé writes it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio
SITE = "https://jobs.szu.edu.cn"

# (as written, the part no key without the contact scope may read)
PLANTED = [
    ("座机 0755-26881234", "26881234"),
    ("(0755) 2688 1234", "2688 1234"),
    ("公司 0755 26881235", "26881235"),
    ("香港 +852 9123 4567", "9123 4567"),
    ("电话：9123 4568", "9123 4568"),
    ("澳门 +853 6612 3456", "6612 3456"),
    ("台湾 +886 912 345 678", "912 345 678"),
    ("0912-345-679", "0912-345-679"),
    ("US +1 415 555 0134", "555 0134"),
    ("UK +44 20 7946 0958", "7946 0958"),
    ("微信：zhang_wei88", "zhang_wei88"),
    ("WeChat: zw-1988", "zw-1988"),
    ("wx: abc123x", "abc123x"),
    ("VX：lina_2024", "lina_2024"),
    ("QQ：87654321", "87654321"),
    ("QQ号 123456789", "123456789"),
    ("55667788@qq.com", "55667788@qq.com"),
    ("手机 13912345678", "13912345678"),
    ("邮箱 lina.zhang@example.com", "lina.zhang@example.com"),
    ("身份证 440301199003071234", "440301199003071234"),
]
BLOCK = "联系方式：" + "；".join(written for written, _ in PLANTED) + "。"
SECRETS = [secret for _, secret in PLANTED]
PROFILE_EMAIL, PROFILE_PHONE = "wei.zhang.contact@example.com", "13800001111"
ALL_SECRETS = [*SECRETS, PROFILE_EMAIL, PROFILE_PHONE]


def _planted_candidate() -> dict[str, Any]:
    """A candidate with the contacts in every free-text field (short fields get one each)."""
    short = iter(written for written, _ in PLANTED)
    return {
        "name": "Wei Zhang",
        "email": PROFILE_EMAIL,
        "phone": PROFILE_PHONE,
        "city": "深圳",
        "desired_titles": ["Python后端开发工程师", f"后端 {next(short)}", f"架构师 {next(short)}"],
        "years_experience": 6,
        "education": {
            "level": "bachelor",
            "school": f"深圳大学 {next(short)}",
            "major": f"计算机科学 {next(short)}",
        },  # fmt: skip
        "experience": [
            {
                "title": f"后端工程师 {next(short)}",
                "company": f"某科技公司 {next(short)}",
                "start": "2019-07",
                "end": "present",
                "description": f"负责 Python 支付系统开发。{BLOCK}",
            },  # fmt: skip
        ],
        "skills": ["Python", "MySQL", "Docker"],
        "languages": ["普通话", f"英语 {next(short)}"],
        "certificates": [f"PMP {next(short)}"],
        "summary": f"六年 Python 后端开发经验。{BLOCK}",
        "resume_text": f"张伟 | Python后端工程师\n{BLOCK}\n2019.07-至今 某科技公司 后端工程师 Python",
    }


def _bearer(key: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


def _leaks(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = json.dumps(response.json(), ensure_ascii=False)
    return [secret for secret in ALL_SECRETS if secret in body]


async def _world(api: Api) -> dict[str, Any]:
    """acme holds a planted candidate (by API) and an uploaded one (by file), a planted
    posting shown at a fair, feedback quoting a contact; keys with and without the scope."""
    full = api.key("acme")  # an agency key: contact scope by default
    person = await api.create_candidate("acme", **_planted_candidate())
    upload = await api.client.post(
        "/v1/candidates/files", headers=_bearer(full),
        files=[("files", ("cv.txt", f"李娜\nPython后端工程师\n{BLOCK}\n".encode()))],
    )  # fmt: skip
    assert upload.status_code == 200, upload.text
    uploaded = upload.json()["results"][0]["id"]
    job = await api.create_job(
        "acme", title="Python后端开发工程师", required_skills=["Python"],
        description=f"负责 Python 支付系统开发，简历请发：{BLOCK}",
    )  # fmt: skip
    fair_key = api.new_key("szu-office", "fair")
    await api.client.post("/v1/fairs", json={"id": "szu-fair", "name": "SZU"},
                          headers=_bearer(fair_key))  # fmt: skip
    await api.client.put(f"/v1/fairs/szu-fair/postings/{job['id']}", headers=_bearer(fair_key))
    feedback = await api.client.post(
        "/v1/feedback", headers=_bearer(full),
        json={"job_id": job["id"], "candidate_id": person["id"], "action": "shortlisted",
              "reason": f"约面试：{BLOCK}"},
    )  # fmt: skip
    assert feedback.status_code == 201, feedback.text
    return {
        "person": person["id"],
        "uploaded": uploaded,
        "job": job["id"],
        "full": full,
        # An agency's key without the contact scope, and partner apps (none by default).
        "agency": api.new_key(
            "acme",
            "agency",
            scopes=["jobs:read", "candidates:read", "candidates:write", "match", "feedback:write"],
        ),
        "partner": api.new_key("acme", "partner"),
        "other_partner": api.new_key("seekapp", "partner"),
        "public": api.new_key("szu-office", "public", fair_id="szu-fair", origins=[SITE]),
    }


CANDIDATE_PATHS = [
    ("GET", "/v1/candidates/{person}", None),
    ("GET", "/v1/candidates/{uploaded}", None),
    ("GET", "/v1/candidates", None),
    ("GET", "/v1/candidates/{person}/export?purpose=call%200755-26881234", None),
    ("GET", "/v1/candidates/{uploaded}/export?purpose=review", None),
    ("GET", "/v1/jobs/{job}/matches", None),
    ("GET", "/v1/jobs/{job}/matches?blind=true", None),
    ("GET", "/v1/candidates/{person}/matches", None),
    ("GET", "/v1/candidates/{person}/matches?blind=true", None),
    ("GET", "/v1/feedback", None),
    ("POST", "/v1/search/candidates", {"query": "Python 支付系统 联系方式 微信 QQ 电话 手机"}),
    ("POST", "/v1/search/candidates?blind=true", {"query": "Python 支付系统 联系方式 微信"}),
    ("GET", "/v1/jobs/{job}", None),
    ("GET", "/v1/jobs", None),
    ("POST", "/v1/search/jobs", {"query": "Python 支付系统 简历 联系方式 微信 QQ 电话"}),
]
POSTING_PATHS = [
    ("GET", "/v1/jobs/{job}", None),
    ("GET", "/v1/jobs", None),
    ("GET", "/v1/fairs/szu-fair/postings", None),
    ("POST", "/v1/search/jobs", {"query": "Python 支付系统 简历 联系方式 微信 QQ 电话"}),
    ("POST", "/v1/search/jobs", {"query": "简历请发", "mode": "keyword"}),
]


async def _call(api: Api, key: str, method: str, path: str, body: Any,
                world: dict[str, Any], **headers: str) -> httpx.Response:  # fmt: skip
    url = path.format(**world)
    return await api.client.request(method, url, json=body, headers=_bearer(key, **headers))


@pytest.mark.parametrize("key_name", ["agency", "partner"])
async def test_no_candidate_path_shows_contacts_without_the_scope(api: Api, key_name: str) -> None:
    world = await _world(api)
    leaks = {}
    for method, path, body in CANDIDATE_PATHS:
        response = await _call(api, world[key_name], method, path, body, world)
        leaks[f"{method} {path}"] = _leaks(response)
    assert sorted(path for path, found in leaks.items() if found) == [], leaks
    # Search hits and highlights were there to leak from: the paths were not empty.
    hits = (await _call(api, world[key_name], *CANDIDATE_PATHS[10], world)).json()["hits"]
    assert {h["id"] for h in hits} >= {world["person"]}
    person_hit = next(h for h in hits if h["id"] == world["person"])
    assert "****" in json.dumps(person_hit["highlights"], ensure_ascii=False)


@pytest.mark.parametrize("key_name", ["public", "other_partner"])
async def test_no_posting_path_shows_contacts_to_browsers_and_partners(
    api: Api, key_name: str
) -> None:
    world = await _world(api)
    headers = {"Origin": SITE} if key_name == "public" else {}
    leaks = {}
    for method, path, body in POSTING_PATHS:
        response = await _call(api, world[key_name], method, path, body, world, **headers)
        leaks[f"{method} {path} {body}"] = _leaks(response)
    assert sorted(path for path, found in leaks.items() if found) == [], leaks
    found = await _call(api, world[key_name], *POSTING_PATHS[3], world, **headers)
    hits = found.json()["hits"]
    assert [h["id"] for h in hits] == [world["job"]]
    snippets = " ".join(hits[0]["highlights"]["description"])
    assert "<em>简历</em>" in snippets and "****" in snippets  # highlighted, contacts masked


async def test_the_original_file_needs_the_contact_scope(api: Api) -> None:
    world = await _world(api)
    for key_name in ("agency", "partner"):
        refused = await api.client.get(
            f"/v1/candidates/{world['uploaded']}/file", headers=_bearer(world[key_name])
        )
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "insufficient_scope"
        assert {"field": "scope", "message": "candidates:contact"} in error["details"]
    served = await api.client.get(
        f"/v1/candidates/{world['uploaded']}/file", headers=_bearer(world["full"])
    )
    assert served.status_code == 200
    assert "zhang_wei88" in served.content.decode()
    # Without the scope the export gives the file's text, masked; ids and digests intact.
    path = f"/v1/candidates/{world['uploaded']}/export?purpose=review"
    masked = (await api.client.get(path, headers=_bearer(world["agency"]))).json()["files"][0]
    full = (await api.client.get(path, headers=_bearer(world["full"]))).json()["files"][0]
    assert masked["sha256"] == full["sha256"] and masked["size"] == full["size"]
    assert "微信：****" in masked["text"] and "Python后端工程师" in masked["text"]


async def test_a_key_with_the_scope_still_sees_every_contact(api: Api) -> None:
    world = await _world(api)
    profile = (await _call(api, world["full"], "GET", "/v1/candidates/{person}", None,
                           world)).json()  # fmt: skip
    assert (profile["email"], profile["phone"]) == (PROFILE_EMAIL, PROFILE_PHONE)
    for field in ("resume_text", "summary"):
        assert [s for s in SECRETS if s not in profile[field]] == [], field
    export = (
        await _call(api, world["full"], "GET", "/v1/candidates/{uploaded}/export?purpose=review",
                    None, world)
    ).json()  # fmt: skip
    assert [s for s in SECRETS if s not in export["files"][0]["text"]] == []
    posting = (await _call(api, world["full"], "GET", "/v1/jobs/{job}", None, world)).json()
    assert [s for s in SECRETS if s not in posting["description"]] == []
    feedback = (await _call(api, world["full"], "GET", "/v1/feedback", None, world)).json()
    assert "zhang_wei88" in feedback["items"][0]["reason"]


@pytest.mark.parametrize(
    "query", ["zhang_wei88", "87654321", "0755-26881234", "26881234", "9123 4567", "abc123x",
              "lina_2024", "55667788", "13912345678", "440301199003071234"],
)  # fmt: skip
async def test_the_keyword_index_holds_no_contact(api: Api, query: str) -> None:
    world = await _world(api)
    for path in ("/v1/search/candidates", "/v1/search/jobs"):
        response = await api.client.post(
            path, json={"query": query, "mode": "keyword"}, headers=_bearer(world["full"])
        )
        assert response.status_code == 200, response.text
        assert response.json()["hits"] == [], (path, query)


async def _labelled_only(api: Api) -> dict[str, Any]:
    """A candidate whose name field is empty and whose résumé names her in a labelled line."""
    return await api.create_candidate(
        "acme", name=None, skills=["Python"], summary="Python 后端开发",
        resume_text="求职意向：Python后端工程师\n姓名：李娜\n负责 Python 支付系统开发",
    )  # fmt: skip


async def test_a_name_finds_nobody_in_the_keyword_index(api: Api) -> None:
    """The name field, a name written in another script in the header, a labelled name with
    an empty name field, and a résumé whose first line is the name."""
    world = await _world(api)
    labelled = await _labelled_only(api)
    for query in ("Wei Zhang", "Zhang", "张伟", "李娜"):
        response = await api.client.post("/v1/search/candidates", headers=_bearer(world["full"]),
                                          json={"query": query, "mode": "keyword"})  # fmt: skip
        assert response.json()["hits"] == [], query
    # Still found by what is evidence of fit.
    fit = await api.client.post("/v1/search/candidates", headers=_bearer(world["full"]),
                                json={"query": "支付系统", "mode": "keyword"})  # fmt: skip
    assert {world["person"], labelled["id"]} <= {h["id"] for h in fit.json()["hits"]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/jobs/{job}/matches?blind=true", None),
        ("POST", "/v1/search/candidates?blind=true", {"query": "Python 支付系统 张伟 李娜"}),
    ],
)
async def test_blind_views_show_no_name_however_written_and_no_contact(
    api: Api, method: str, path: str, body: Any
) -> None:
    world = await _world(api)
    labelled = await _labelled_only(api)
    response = await _call(api, world["full"], method, path, body, world)
    assert response.status_code == 200, response.text
    people = response.json().get("matches") or response.json().get("hits")
    assert {world["person"], world["uploaded"], labelled["id"]} <= {p["id"] for p in people}
    text = json.dumps(people, ensure_ascii=False)
    names = ["Wei Zhang", "Zhang", "张伟", "李娜"]
    assert [n for n in [*names, *ALL_SECRETS] if n in text] == []
    assert "支付系统" in text  # what is evidence of fit stays


async def test_highlights_quote_the_masked_description_a_browser_is_shown(api: Api) -> None:
    world = await _world(api)
    simple = await api.create_job(
        "acme", title="数据分析师", required_skills=["SQL"],
        description="简历投递请联系 HR 手机 13912345678 或 lina.zhang@example.com，数据分析岗位",
    )  # fmt: skip
    fair_key = api.new_key("szu-office", "fair")
    await api.client.put(f"/v1/fairs/szu-fair/postings/{simple['id']}", headers=_bearer(fair_key))
    found = await api.client.post(
        "/v1/search/jobs", json={"query": "简历投递 数据分析", "mode": "keyword"},
        headers=_bearer(world["public"], Origin=SITE),
    )  # fmt: skip
    hit = next(h for h in found.json()["hits"] if h["id"] == simple["id"])
    assert "13912345678" not in hit["job"]["description"]
    snippets = " ".join(hit["highlights"]["description"])
    assert "<em>简历</em>" in snippets or "<em>简历投递</em>" in snippets
    assert "13912345678" not in snippets and "lina.zhang@example.com" not in snippets
    assert "139****5678" in snippets
