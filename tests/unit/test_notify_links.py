"""Portal links in messages: which page a message is about, and how each channel carries the
link (a webhook field, an email link, a Markdown link for the bots, the end of an SMS)."""

from __future__ import annotations

import json
import uuid

from services.notify import bots, mail
from services.notify.links import KIND_ABOUT, PAGES, PortalLinks, about
from services.notify.rules import SMS_LIMIT, sms_text
from services.notify.templates import KINDS

CID = "5b0c9c2e-1111-4d6b-9a7e-3f1f0c2d4e5a"
PORTAL = PortalLinks("https://portal.example.cn")


def _payload(**extra: object) -> dict[str, object]:
    return {"kind": "issue_commented", "kind_label": "问题新留言", "title": "问题“电梯异响”有新回复",
            "body": "工作人员在您反映的问题下留言，请查看。", "compound_id": CID, **extra}


def test_each_kind_about_an_entity_names_a_portal_page() -> None:
    assert set(KIND_ABOUT) <= set(KINDS) and set(KIND_ABOUT.values()) <= set(PAGES)
    assert about("vote_opened", "p1", entity_id="v1") == {"about": "vote", "about_id": "v1"}
    assert about("issue_resolved", "i1") == {"about": "issue", "about_id": "i1"}
    assert about("announcement", "notice:1") == {"about": None, "about_id": None}


def test_the_link_is_the_pages_url_under_the_compound_or_none() -> None:
    page = _payload(**about("issue_commented", "i-42"))
    assert PORTAL.link(page) == f"https://portal.example.cn/c/{CID}/issues/i-42"
    assert PORTAL.link(_payload(about="meeting", about_id="m1")) == \
        f"https://portal.example.cn/c/{CID}/meetings"
    assert PortalLinks().link(page) is None  # no LINLI_PORTAL_URL: no link
    assert PORTAL.link(_payload(about="issue", about_id=None)) is None
    assert PORTAL.link({**page, "compound_id": None}) is None
    assert PortalLinks("https://p.cn/").base == "https://p.cn" and PortalLinks("").base is None
    added = json.loads(PORTAL.add_to(json.dumps(page)))
    assert added["link"].endswith("/issues/i-42") and added["title"] == page["title"]
    plain = json.dumps(_payload())
    assert PORTAL.add_to(plain) == plain


def test_an_sms_keeps_one_segment_and_takes_a_short_link_only() -> None:
    link = f"https://l.cn/c/{CID[:8]}"
    text = sms_text("问题“电梯异响”有新回复" * 5, link)
    assert len(text) == SMS_LIMIT and text.endswith(f"… {link}")
    assert sms_text("短标题", link) == f"【邻里】短标题 {link}"
    too_long = "https://portal.example.cn/" + "x" * 60
    assert too_long not in sms_text("短标题", too_long) and sms_text("短标题", too_long) == "【邻里】短标题"


def test_an_email_has_the_link_in_both_parts() -> None:
    link = f"https://portal.example.cn/c/{CID}/issues/i-42"
    message = mail.compose(_payload(), to="a@example.cn", sender=mail.sender_address(
        mail.MailConfig(), None), reply_to=None, unsubscribe=None, message_id=uuid.uuid4(),
        link=link)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert f"查看详情: {link}" in text.get_content()
    assert f'<a href="{link}">查看详情</a>' in html.get_content()


def test_the_bots_carry_a_markdown_link() -> None:
    link = f"https://portal.example.cn/c/{CID}/votes/v1"
    _, wecom = bots.request("wecom", "https://qyapi.example.cn/x", None, _payload(), link=link)
    assert f"[查看详情]({link})" in wecom["markdown"]["content"]
    _, ding = bots.request("dingtalk", "https://oapi.example.cn/x", None, _payload(), link=link)
    assert f"[查看详情]({link})" in ding["markdown"]["text"]
    _, feishu = bots.request("feishu", "https://open.example.cn/x", None, _payload(), link=link)
    assert f"[查看详情]({link})" in feishu["card"]["elements"][0]["content"]
