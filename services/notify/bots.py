"""IM group bots: the WeCom (企业微信) group robot, the DingTalk (钉钉) custom robot and the
Feishu/Lark (飞书) custom bot, each sent the way its platform documents it.

- WeCom: POST the key URL; `markdown` (or `text` with `mentioned_mobile_list` when people are to
  be @-ed by phone, which WeCom markdown cannot); success is `{"errcode": 0}`.
- DingTalk: the access-token URL plus `timestamp` (ms) and `sign` = urlencoded base64
  HMAC-SHA256, key the secret, of "timestamp\\nsecret"; `markdown` with `at.atMobiles` (the
  phones also written into the text as @phone); success is `{"errcode": 0}`.
- Feishu: `timestamp` (s) and `sign` = base64 HMAC-SHA256 keyed with "timestamp\\nsecret" over
  nothing, both in the JSON body; an `interactive` card with a markdown element; success is
  `{"code": 0}` (older deployments answer `{"StatusCode": 0}`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Any


def markdown(payload: dict[str, Any], link: str | None = None) -> str:
    """The message in Markdown: title, body, its kind; the portal link when there is one."""
    lines = [f"### {payload['title']}", "", payload["body"], "", f"> {payload['kind_label']}"]
    if link:
        lines += ["", f"[查看详情]({link})"]
    return "\n".join(lines)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def wecom(url: str, secret: str | None, payload: dict[str, Any], link: str | None,
          now: float) -> tuple[str, dict[str, Any]]:
    mobiles = payload.get("mention_mobiles") or []
    if mobiles:
        text = f"{payload['title']}\n{payload['body']}" + (f"\n{link}" if link else "")
        return url, {"msgtype": "text", "text": {"content": text, "mentioned_mobile_list": mobiles}}
    return url, {"msgtype": "markdown", "markdown": {"content": markdown(payload, link)}}


def dingtalk(url: str, secret: str | None, payload: dict[str, Any], link: str | None,
             now: float) -> tuple[str, dict[str, Any]]:
    mobiles = payload.get("mention_mobiles") or []
    text = markdown(payload, link) + "".join(f" @{m}" for m in mobiles)
    body = {"msgtype": "markdown", "markdown": {"title": payload["title"], "text": text},
            "at": {"atMobiles": mobiles, "isAtAll": False}}
    if secret:
        stamp = int(now * 1000)
        query = urllib.parse.urlencode({"timestamp": stamp, "sign": dingtalk_sign(secret, stamp)})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    return url, body


def feishu(url: str, secret: str | None, payload: dict[str, Any], link: str | None,
           now: float) -> tuple[str, dict[str, Any]]:
    content = payload["body"] + (f"\n[查看详情]({link})" if link else "")
    body: dict[str, Any] = {"msg_type": "interactive", "card": {
        "header": {"title": {"tag": "plain_text", "content": payload["title"]}},
        "elements": [{"tag": "markdown", "content": content},
                     {"tag": "note", "elements": [{"tag": "plain_text",
                                                    "content": payload["kind_label"]}]}]}}
    if secret:
        stamp = int(now)
        body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
    return url, body


PLATFORMS = {"wecom": wecom, "dingtalk": dingtalk, "feishu": feishu}


def accepted(platform: str, answer: Any) -> bool:
    """The platforms answer 200 with an error code in the body: only code 0 is delivered."""
    if not isinstance(answer, dict):
        return False
    if platform == "feishu":
        return answer.get("code", answer.get("StatusCode")) == 0
    return answer.get("errcode") == 0


def request(platform: str, url: str, secret: str | None, payload: dict[str, Any],
            link: str | None = None) -> tuple[str, dict[str, Any]]:
    """(the URL to POST, the JSON body) for this platform, signed when it has a secret."""
    return PLATFORMS[platform](url, secret, payload, link, time.time())
