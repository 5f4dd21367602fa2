"""Bad input and safety in the browser: codes are single use and limited, sessions expire and
come back to the page, forms need their CSRF token, uploads are checked, another compound's
pages do not exist, and the portal answers its health checks."""

from __future__ import annotations

import re
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from playwright.async_api import expect

from services.portal.app import create_app
from services.portal.models import PortalConfig
from tests.conftest import AppFactory
from tests.e2e.conftest import Http
from tests.portal.conftest import (
    Portal,
    Visitor,
    code_from_inbox,
    demo_compound,
    dev_sign_in,
    owners,
)


async def test_a_code_works_once_a_wrong_one_is_said_next_to_the_field_and_asking_is_limited(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "阳光花园")
    [me] = await owners(http, cid, 1, skip=1)
    v: Visitor = await visitors()
    page = await v.open("/sign-in")
    await page.get_by_label("手机号").fill("12345")
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.locator("#phone-error")).to_contain_text("11 位手机号码")
    await page.get_by_label("手机号").fill(me.phone)
    await page.get_by_role("button", name="获取验证码").click()
    code = await code_from_inbox(http, me)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    await page.get_by_label("验证码").fill(wrong)
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#code-error")).to_contain_text("验证码错误或已过期")
    await v.check("sign-in-wrong-code")
    await page.get_by_label("验证码").fill(code)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(rf"/c/{cid}$"))

    await page.get_by_role("button", name="退出登录").click()
    await page.wait_for_url(re.compile(r"/sign-in\?done=signed-out$"))
    await page.get_by_label("手机号").fill(me.phone)
    await page.get_by_role("button", name="获取验证码").click()
    await page.evaluate("() => document.querySelector('input[name=code]').value = ''")
    await page.get_by_label("验证码").fill(code)  # the used one, again
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#code-error")).to_contain_text("验证码错误或已过期")

    await page.goto(portal.url + "/sign-in")  # third code of this phone in the window
    await page.get_by_label("手机号").fill(me.phone)
    await page.get_by_role("button", name="获取验证码").click()
    await page.goto(portal.url + "/sign-in")  # the fourth is refused
    await page.get_by_label("手机号").fill(me.phone)
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.locator("#phone-error")).to_contain_text("过于频繁")


async def test_an_expired_session_goes_to_sign_in_and_back_to_the_page(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "阳光花园")
    [me] = await owners(http, cid, 1, skip=2)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/issues/new")
    await v.page.get_by_label("一句话说明问题").fill("楼道灯坏了")
    conn = await asyncpg.connect(portal.db)
    try:
        await conn.execute("UPDATE portal.sessions SET expires_at = now() - interval '1 second'"
                           " WHERE person_id = $1", me.person_id)
    finally:
        await conn.close()
    await v.page.get_by_role("button", name="提交").click()  # a form of an expired session
    await v.page.wait_for_url(re.compile(r"/sign-in\?next="))
    await v.page.goto(f"{portal.url}/c/{cid}/issues")
    await v.page.wait_for_url(re.compile(rf"/sign-in\?next=/c/{cid}/issues$"))
    await v.page.get_by_role("link", name="开发环境: 以演示居民身份登录").click()
    await dev_sign_in(v, me, then=v.page.url.split("next=", 1)[1])
    await v.page.wait_for_url(re.compile(rf"/c/{cid}/issues$"))


async def test_another_compounds_pages_are_not_found_and_forms_need_their_token(
    portal: Portal, http: Http, visitors: Any
) -> None:
    mine, theirs = await demo_compound(http, "阳光花园"), await demo_compound(http, "三盛四季公园")
    [me] = await owners(http, mine, 1, skip=3)
    [them] = await owners(http, theirs, 1, skip=3)
    token = http.platform.token(roles=["resident"], compounds=[theirs], person=them.person_id)
    issue = await http.post("issues", f"/v1/compounds/{theirs}/issues", token, {
        "category": "repair", "title": "健身器材坏了", "description": "单杠松动", "area": "facilities"},
        status=201)
    v: Visitor = await visitors()
    await dev_sign_in(v, me)
    for path in (f"/c/{theirs}", f"/c/{theirs}/issues/new", f"/c/{theirs}/issues/{issue['id']}",
                 f"/c/{mine}/issues/{issue['id']}", f"/c/{mine}/issues/not-an-id"):
        response = await v.page.goto(portal.url + path)
        assert response is not None and response.status == 404, path
        await v.check("not-found")
        assert "健身器材" not in await v.page.inner_text("main")
    forged = await v.page.request.post(f"{portal.url}/c/{mine}/issues/new", form={
        "category": "repair", "where": "area:road", "title": "伪造", "description": "没有令牌"})
    assert forged.status == 403 and "表单已过期" in await forged.text()


async def test_uploads_are_limited_in_type_and_size_and_said_next_to_the_field(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "阳光花园")
    [me] = await owners(http, cid, 1, skip=4)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/issues/new")
    page = v.page
    field = page.get_by_label("照片 (选填, 最多 3 张, 每张不超过 8 MB)")
    await field.set_input_files(files=[{"name": "a.jpg", "mimeType": "image/jpeg",
                                        "buffer": b"#!/bin/sh\necho not a photo\n"}])
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#photo-error")).to_have_text("无法识别的图片文件, 请换一张照片")
    await expect(page.locator("#title-error")).to_have_text("请用一句话说明问题")
    await v.check("issue-new-errors")
    await page.get_by_label("照片 (选填, 最多 3 张, 每张不超过 8 MB)").set_input_files(files=[{
        "name": "big.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (8 * 1024 * 1024 + 1)}])
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#photo-error")).to_have_text("照片不能超过 8 MB")


async def test_the_session_cookie_is_http_only_lax_and_secure_behind_tls(portal: Portal,
                                                                         http: Http) -> None:
    cid = await demo_compound(http, "阳光花园")
    [me] = await owners(http, cid, 1, skip=5)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(portal.url + "/sign-in") as r:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await r.text())
            assert csrf
        async with session.post(portal.url + "/dev/sign-in", allow_redirects=False,
                                headers={"X-Forwarded-Proto": "https"},
                                data={"csrf": csrf.group(1), "person_id": me.person_id}) as r:
            assert r.status == 303
            cookie = r.headers.getall("Set-Cookie")[0]
    assert cookie.startswith("linli_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    for path in ("/livez", "/readyz", "/metrics"):
        async with aiohttp.ClientSession() as session, session.get(portal.url + path) as r:
            assert r.status == 200, path


async def test_the_development_sign_in_does_not_exist_unless_enabled(serve: AppFactory) -> None:
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig(dev_login=False)))
    r = await client.get("/dev/sign-in")
    assert r.status == 404
    r = await client.get("/sign-in")
    assert r.status == 200 and "演示" not in await r.text()
    assert 'lang="zh-CN"' in await r.text()


@pytest.mark.parametrize("env, offered", [
    ({"LINLI_PORTAL_DEV_LOGIN": "1"}, False),  # LINLI_ENV unset: production
    ({"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "production"}, False),
    ({"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "staging"}, False),
    ({"LINLI_ENV": "development"}, False),
    ({"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "development"}, True),
    ({"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "test"}, True),
])
async def test_the_development_sign_in_needs_a_development_environment(
    serve: AppFactory, env: dict[str, str], offered: bool,
) -> None:
    """LINLI_PORTAL_DEV_LOGIN=1 copied into a production environment opens no account."""
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig.from_env(env)))
    page = await (await client.get("/sign-in")).text()
    assert ("/dev/sign-in" in page) is offered
    if not offered:
        assert (await client.get("/dev/sign-in")).status == 404
        r = await client.post("/dev/sign-in", data={"person_id": "x"}, allow_redirects=False)
        assert r.status in (403, 404) and "linli_session" not in r.headers.get("Set-Cookie", "")


async def test_an_address_opened_the_wrong_way_or_a_too_large_upload_is_said_in_chinese(
    serve: AppFactory,
) -> None:
    """aiohttp's own refusals ("405: Method Not Allowed", "Maximum request body size …") are
    English: the page says in Chinese what happened and what to do next."""
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig(
        max_photo_bytes=512 * 1024)))
    r = await client.get("/sign-out")  # a form's address, opened from history or a bookmark
    page = await r.text()
    assert r.status == 405 and "不支持的操作" in page
    assert "这个地址不能直接打开, 请返回上一页重新操作" in page and "Method" not in page
    too_large = "x" * (3 * 1024 * 1024)
    r = await client.post("/c/someone/issues/new", data={"title": "井盖松了", "photo": too_large})
    page = await r.text()  # the report form, the one that takes photos: the photo limit
    assert r.status == 413 and "上传的内容太大" in page and "Maximum" not in page
    assert "每张照片不能超过 0.5 MB" in page  # 512 KB, not rounded down to "0 MB"
    r = await client.post("/sign-in", data={"phone": "1" * 10, "file": too_large})
    page = await r.text()  # any other form (the desk's CSV, …) took no photo
    assert r.status == 413 and "上传的文件不能超过 0.5 MB" in page and "照片" not in page


UNREADABLE_FORMS = [  # (body, Content-Type, words of the page): aiohttp raised on each (500)
    (b"phone=\xff\xfe", "application/x-www-form-urlencoded", "不是 UTF-8 编码"),
    (b"phone=1", "application/x-www-form-urlencoded; charset=nope", "不是 UTF-8 编码"),
    (b"phone=1", "multipart/form-data", "multipart 格式有误"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--\r\n", "multipart/form-data; boundary=b",
     "multipart 格式有误"),
    (b'--b\r\nContent-Disposition: form-data; name="phone"\r\n'
     b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xff\r\n--b--\r\n",
     "multipart/form-data; boundary=b", "不是 UTF-8 编码"),
]


async def test_a_form_that_cannot_be_read_or_a_token_not_in_ascii_is_a_page_in_chinese(
    serve: AppFactory,
) -> None:
    """Bytes that are not UTF-8, an unknown charset, a multipart body without its boundary and
    a CSRF token or calendar signature with a character outside ASCII (hmac.compare_digest
    refused to compare them) each answered a 500 in JSON; now a page says what went wrong,
    before or after signing in, and nothing is done."""
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig(dev_login=False)))
    page = await (await client.get("/sign-in")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    for body, kind, words in UNREADABLE_FORMS:
        r = await client.post("/sign-in", data=body, headers={"Content-Type": kind})
        text = await r.text()
        assert r.status == 400 and "请求有误" in text and words in text, (kind, r.status, text[:300])
        assert r.content_type == "text/html"
        # the token sent in the header (as scripts do): the handler reads the form, same answer
        r = await client.post("/sign-in", data=body, headers={"Content-Type": kind,
                                                              "X-CSRF-Token": csrf.group(1)})
        assert r.status == 400 and words in await r.text(), kind
    r = await client.post("/sign-in", data={"csrf": "令牌", "phone": "13900000000"})
    text = await r.text()
    assert r.status == 403 and "表单已过期" in text and r.content_type == "text/html"
    person, compound = uuid.uuid4(), uuid.uuid4()
    r = await client.get(f"/calendar/{person}/{compound}/签名.ics")
    assert r.status == 404 and "找不到这个页面" in await r.text()
