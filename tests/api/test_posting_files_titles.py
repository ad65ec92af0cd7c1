"""Posting files whose first line is not a short title: a long first line gives its leading
clause as the title, a text with no usable title is that file's error, and the other files of
the batch are stored either way (it used to be a 500 for the whole batch)."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.anyio

LONG_FIRST_LINE = (
    "高级Java开发工程师（跨境电商方向）招聘启事，欢迎有志之士加入我们的团队一起成长，"
    "公司提供完善的培训体系与晋升通道，期待你的加入\n"
    "工作地点：深圳南山区。薪资：15-25K·13薪。要求3年以上Java开发经验，本科。"
)
GOOD = "数据分析师\n工作地点：深圳福田区。要求熟悉SQL和Python，本科及以上学历，两年经验。"
NO_TITLE = (
    "我们是一家位于深圳的跨境电商公司业务覆盖全球多个国家和地区正在快速发展中现诚聘各类人才加入"
    "我们的团队共同成长发展期待你的加入与我们一起创造更好的未来\n要求三年以上相关工作经验。"
)


async def test_a_long_first_line_gives_a_title_and_a_file_without_one_is_its_own_error(
    api: Api,
) -> None:
    files = [("long.txt", LONG_FIRST_LINE), ("good.txt", GOOD), ("none.txt", NO_TITLE)]
    response = await api.client.post(
        "/v1/jobs/files",
        files=[("files", (name, text.encode())) for name, text in files],
        headers=api.auth("acme"),
    )
    assert response.status_code == 200, response.text
    results = {r["filename"]: r for r in response.json()["results"]}
    assert results["long.txt"]["status"] == "created"
    assert results["good.txt"]["status"] == "created"
    assert results["none.txt"]["status"] == "error"
    assert results["none.txt"]["error"]["code"] == "invalid_content"
    assert "title" in results["none.txt"]["error"]["message"]
    long_job = await api.get(f"/v1/jobs/{results['long.txt']['id']}", "acme")
    assert long_job.json()["title"] == "高级Java开发工程师"
    good_job = await api.get(f"/v1/jobs/{results['good.txt']['id']}", "acme")
    assert good_job.json()["title"] == "数据分析师"
