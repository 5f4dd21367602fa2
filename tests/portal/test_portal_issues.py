"""Residents report, follow and co-sign issues in the browser (issue 11's first two flows)."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image
from playwright.async_api import expect

from tests.e2e.conftest import Http
from tests.portal.conftest import (
    Portal,
    Resident,
    Visitor,
    code_from_inbox,
    demo_compound,
    dev_sign_in,
    owners,
    unique,
)


def phone_photo(tmp_bytes: io.BytesIO) -> bytes:
    """A 'phone photo': large, with the camera's make and the GPS position in its EXIF."""
    image = Image.new("RGB", (3000, 2000), (180, 120, 60))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (24.0, 56.0, 30.0), 3: "E", 4: (118.0, 36.0, 0.0)}
    image.save(tmp_bytes, "JPEG", exif=exif)
    return tmp_bytes.getvalue()


async def sign_in_with_code(v: Visitor, http: Http, who: Resident, then: str) -> None:
    page = await v.open(then)
    assert "/sign-in" in page.url  # not signed in yet: to sign-in, and back afterwards
    await v.check("sign-in")
    await page.get_by_label("手机号").fill(who.phone)
    await page.get_by_role("button", name="获取验证码").click()
    await v.check("sign-in-code")
    code = await code_from_inbox(http, who)
    await page.get_by_label("验证码").fill(code)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_load_state("load")


async def test_a_resident_signs_in_with_a_code_reports_with_a_photo_and_finds_it_under_my_issues(
    portal: Portal, http: Http, visitors: object
) -> None:
    cid = await demo_compound(http)
    [me] = await owners(http, cid, 1)
    v: Visitor = await visitors()  # type: ignore[operator]
    await sign_in_with_code(v, http, me, f"/c/{cid}/issues/new")
    page = v.page
    assert page.url.endswith(f"/c/{cid}/issues/new")
    await v.check("issue-new")
    title = unique("5号楼楼顶漏水, 雨天顶楼天花板渗水")
    await page.get_by_label("问题类别").select_option(label="公共设施报修")
    await page.get_by_label("地点").select_option(label="屋顶")
    await page.get_by_label("一句话说明问题").fill(title)
    await page.get_by_label("详细情况").fill("连续下雨三天, 602 室卧室天花板大面积渗水, 墙皮脱落。")
    await page.get_by_label("照片 (选填, 最多 3 张, 每张不超过 8 MB)").set_input_files(files=[{
        "name": "roof.jpg", "mimeType": "image/jpeg", "buffer": phone_photo(io.BytesIO())}])
    await page.get_by_role("button", name="提交").click()
    await page.wait_for_url(re.compile(r"/issues/[0-9a-f-]{36}\?done=reported$"))
    await v.check("issue")
    assert await page.get_by_role("heading", level=1).inner_text() == title
    assert "问题已提交" in await page.inner_text("main")
    photo = page.get_by_role("img", name="问题照片 1")
    stored = await page.request.get(portal.url + (await photo.get_attribute("src") or ""))
    assert stored.ok and stored.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(await stored.body())) as kept:
        assert max(kept.size) == 1600  # resized
        assert dict(kept.getexif()) == {}  # no camera, no location

    await page.get_by_role("link", name="我的问题").first.click()
    await v.check("my-issues")
    assert await page.get_by_role("link", name=title).count() == 1


async def report_by_api(http: Http, who: Resident, title: str, anonymous: bool) -> str:
    token = http.platform.token(roles=["resident", "owner"], compounds=[who.compound_id],
                                person=who.person_id)
    issue = await http.post("issues", f"/v1/compounds/{who.compound_id}/issues", token, {
        "category": "lift", "title": title, "description": "电梯停在 5 楼不动, 按钮没有反应",
        "area": "lift", "anonymous": anonymous, "attributes": {"trapped": "no"}}, status=201)
    return str(issue["id"])


async def test_a_neighbour_finds_an_open_issue_as_similar_and_cosigns_without_seeing_the_reporter(
    portal: Portal, http: Http, visitors: object
) -> None:
    cid = await demo_compound(http)
    reporter, neighbour = await owners(http, cid, 2, skip=2)
    title = unique("3号楼电梯停在5楼不动了")
    issue_id = await report_by_api(http, reporter, title, anonymous=True)
    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, neighbour, then=f"/c/{cid}/issues/new")
    page = v.page
    await page.get_by_label("问题类别").select_option(label="电梯故障")
    await page.get_by_label("是否有人被困").select_option(label="否")
    await page.get_by_label("地点").select_option(label="电梯")
    await page.get_by_label("一句话说明问题").fill("3号楼电梯停在5楼")
    await page.get_by_label("详细情况").fill("电梯一直不动")
    await page.get_by_role("button", name="提交").click()
    await page.wait_for_load_state("load")
    await v.check("issue-similar")
    similar = page.locator("li", has=page.get_by_role("link", name=title))
    await similar.get_by_role("button", name="我也遇到, 附议").click()
    await page.wait_for_url(re.compile(rf"/issues/{issue_id}\?done=cosigned$"))
    await v.check("issue-cosigned")
    main = await page.inner_text("main")
    assert "已附议" in main and "1 人附议" in main
    assert "匿名居民" in main and reporter.name not in main
    staff = http.platform.token(roles=["community"], compounds=[cid])
    issue = await http.get("issues", f"/v1/compounds/{cid}/issues/{issue_id}", staff)
    assert issue["cosign_count"] == 1


async def test_the_reporter_sees_the_status_change_live_and_a_not_fixed_rating_reopens_it(
    portal: Portal, http: Http, visitors: object
) -> None:
    cid = await demo_compound(http)
    [me] = await owners(http, cid, 1, skip=4)
    title = unique("2号楼地下车库照明灯不亮")
    issue_id = await report_by_api(http, me, title, anonymous=False)
    v: Visitor = await visitors()  # type: ignore[operator]
    await dev_sign_in(v, me, then=f"/c/{cid}/issues/{issue_id}")
    badge = v.page.locator('[data-field="status"]')
    await expect(badge).to_have_text("已提交")
    navigations: list[str] = []
    v.page.on("framenavigated", lambda frame: navigations.append(frame.url))
    staff = http.platform.token(roles=["property"], compounds=[cid])
    path = f"/v1/compounds/{cid}/issues/{issue_id}/status"
    await http.post("issues", path, staff, {"to": "accepted", "template": "received"})
    await expect(badge).to_have_text("已受理", timeout=15_000)  # over SSE
    assert navigations == []
    await http.post("issues", path, staff, {"to": "resolved", "note": "已更换灯管"})
    await v.page.reload()
    await v.check("issue-resolved")
    await v.page.get_by_label("没有解决 (重新打开)").check()
    await v.page.get_by_label("满意度 (1–5 分)").select_option("2")
    await v.page.get_by_label("说几句 (选填)").fill("只换了一盏, 还有三盏不亮")
    await v.page.get_by_role("button", name="提交评价").click()
    await v.page.wait_for_url(re.compile(r"done=rated$"))
    await expect(badge).not_to_have_text("已解决")
    timeline = await v.page.inner_text(".timeline")
    assert "评价" in timeline and "重新打开" in timeline
