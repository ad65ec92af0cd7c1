"""The one set of contact patterns: every contact shape found (and masked, and removed), and
the numbers of a résumé or posting that are not contacts left alone."""

from __future__ import annotations

import pytest

from core.contacts import find_phone, mask_contacts, names_in, remove_contacts
from ingestion.resume_text import extract_from_resume
from representation.fairness import blind_view, strip_contacts
from store.pii import redact_text

# (text as written, the part that must not stay readable)
CONTACTS = [
    ("0755-26881234", "26881234"),
    ("(0755) 2688 1234", "2688 1234"),
    ("0755 26881234", "26881234"),
    ("010-12345678转123", "12345678"),
    ("+852 9123 4567", "9123 4567"),
    ("电话：9123 4567", "9123 4567"),
    ("Tel: 9123 4567", "9123 4567"),
    ("+853 6612 3456", "6612 3456"),
    ("+886 912 345 678", "912 345 678"),
    ("0912-345-678", "0912-345-678"),
    ("+1 415 555 0134", "415 555 0134"),
    ("+1 (415) 555-0134", "555-0134"),
    ("+44 20 7946 0958", "7946 0958"),
    ("0044 20 7946 0958", "7946 0958"),
    ("微信：zhang_wei88", "zhang_wei88"),
    ("微信号 zhang_wei88", "zhang_wei88"),
    ("WeChat: zw-1988", "zw-1988"),
    ("wx: abc123", "abc123"),
    ("VX：lina_2024", "lina_2024"),
    ("QQ：12345678", "12345678"),
    ("QQ号 123456789", "123456789"),
    ("12345678@qq.com", "12345678@qq.com"),
    ("13912345678", "13912345678"),
    ("139-1234-5678", "1234-5678"),
    ("+86 139 1234 5678", "1234 5678"),
    ("lina.zhang@example.com", "lina.zhang@example.com"),
    ("身份证 440301199003071234", "440301199003071234"),
]

NOT_CONTACTS = [
    "月薪 15-25K，13薪",
    "2019.07-2021.03 腾讯 后端工程师",
    "2020/04—今 字节跳动",
    "12/2019 – 03/2021",
    "2018-2021 本科",
    "1990年 2019年 2021年",
    "职位编号 123456789",
    "JOB-0012345678",
    "订单号 202112010001234567",
    "价格 0.99 元，预算 20000-35000",
    "Python 3.11, Windows 10.0.19041, IP 192.168.0.100",
    "TOEIC 905，年薪 30-50万",
    "ISBN 978-7-111-12345-6",
    "WeChat 小程序开发，WeChat mini program, QQ音乐 2019",
    "iPhone app, Phone 12, mobile development since 2015",
    "0.5 years, 3.5万, +20% growth, +5 years",
    "HK$40,000\t36800\t36800\t12",
    "http://data.europa.eu/esco/occupation/1f2e-0103-4230-8756-ab",
    "Mobile\t43233004\tContact\t43232303",
    "sha256 9f86d081884c7d659a2feaa0c55ad01513912345678a1b2c3",
]


@pytest.mark.parametrize(("written", "secret"), CONTACTS)
def test_every_contact_shape_is_masked_and_removed(written: str, secret: str) -> None:
    text = f"联系方式 {written} 期待回复"
    masked = mask_contacts(text)
    assert secret not in masked
    assert masked.startswith("联系方式 ") and masked.endswith(" 期待回复")  # the rest stays
    assert secret not in remove_contacts(text)
    assert secret not in strip_contacts(text)
    assert secret not in (redact_text(text) or "")


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_numbers_that_are_not_contacts_are_left_alone(text: str) -> None:
    assert mask_contacts(text) == text
    assert remove_contacts(text) == text


def test_masks_keep_enough_to_tell_contacts_apart() -> None:
    assert mask_contacts("13912345678") == "139****5678"
    assert mask_contacts("lina.zhang@example.com") == "l***@example.com"
    assert mask_contacts("0755-26881234") == "0755-******34"
    assert mask_contacts("+852 9123 4567") == "+852 **** **67"
    assert mask_contacts("微信：zhang_wei88") == "微信：****"
    assert mask_contacts("440301199003071234") == "440301********1234"


def test_extraction_finds_the_same_contacts() -> None:
    text = "张伟\n电话：0755-26881234 邮箱：zhang@example.com\n手机 13912345678"
    fields = extract_from_resume(text).fields
    assert fields["email"].value == "zhang@example.com"
    assert fields["phone"].value == "13912345678"  # a mobile before a landline
    assert extract_from_resume("Tel +852 9123 4567").fields["phone"].value == "+85291234567"
    assert extract_from_resume("座机 0755-26881234").fields["phone"].value == "075526881234"
    match = find_phone("2019.07-2021.03 15-25K 职位编号 123456789")
    assert match is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("张伟 | 后端工程师\n五年经验", ["张伟"]),
        ("李娜\n数据分析师", ["李娜"]),
        ("求职意向：产品\n姓名：李娜\n电话", ["李娜"]),
        ("Name: Wei Zhang\nBackend", ["Wei Zhang"]),
        ("Wei Zhang\nSenior Backend Engineer", ["Wei Zhang"]),
        ("产品经理 | 5年经验", []),
        ("Senior Engineer\nPython", []),
        ("个人简历\n", []),
        ("Company Name: Tencent\n", []),
    ],
)
def test_names_as_a_resume_writes_them(text: str, names: list[str]) -> None:
    assert names_in(text) == names


def test_blind_view_hides_a_name_written_only_in_the_text() -> None:
    person = {
        "name": "Wei Zhang",
        "resume_text": "张伟 | 后端工程师\n微信：zhang_wei88 QQ：12345678\n负责支付系统",
        "summary": "张伟，五年后端经验，Wei 擅长 Go",
        "experience": [{"title": "后端", "description": "张伟主导重构，座机 0755-26881234"}],
        "desired_titles": ["后端开发"],
    }
    shown = blind_view(person)
    text = str(shown)
    for secret in ("张伟", "Wei", "Zhang", "zhang_wei88", "12345678", "26881234"):
        assert secret not in text, secret
    assert "负责支付系统" in shown["resume_text"] and "后端开发" in shown["desired_titles"]
    assert shown["name"] is None
