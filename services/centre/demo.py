"""Demo data of the neighbourhood centre at 三盛四季公园 (DESIGN.md §1): 图书角, the lit
篮球场 and the 活动室; this month's plans for the three resident groups; yoga, tai chi and
running groups; a few activities with sign-ups, one full with a waiting list; some loans.

Ids derive from names (uuid5) and rows are inserted only when missing, so loading twice
changes nothing. Times are placed in the days after loading, so the activities are upcoming.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from linli.db import Connection, Pool, transaction
from services.centre import rules

NAMESPACE = uuid.UUID("0d7c5a52-7f0e-4c53-a4f4-5d0d6a9c1e08")
COMPOUND = "三盛四季公园"
STAFF = "demo:三盛四季公园物业服务中心"
People = list[tuple[uuid.UUID, str]]


def demo_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(map(str, parts)))


def _hours(opens: str, closes: str) -> str:
    return msgspec.json.encode([{"weekday": d, "opens": opens, "closes": closes}
                                for d in range(1, 8)]).decode()


VENUES = [  # name, kind, capacity, opens, closes, approval, facilities, rules
    ("图书角", "library", 12, "08:00", "21:00", False, ["书架", "阅读桌", "空调"],
     "安静阅读，借书请到前台登记"),
    ("篮球场", "court", 20, "06:00", "22:00", False, ["灯光", "篮球架", "计分牌"],
     "灯光开放至 22:00，每次最长 2 小时"),
    ("活动室", "room", 40, "08:00", "21:30", True, ["投影仪", "音响", "空调", "桌椅 40 套"],
     "由物业审核，使用后请恢复桌椅"),
]
BOOKS = [
    ("平凡的世界", "路遥", 2), ("活着", "余华", 2), ("围城", "钱锺书", 1), ("红楼梦", "曹雪芹", 1),
    ("三体", "刘慈欣", 1), ("白鹿原", "陈忠实", 1), ("边城", "沈从文", 1), ("骆驼祥子", "老舍", 1),
    ("朝花夕拾", "鲁迅", 1), ("城南旧事", "林海音", 2), ("稻草人", "叶圣陶", 1),
    ("小王子", "圣埃克苏佩里", 2), ("夏洛的网", "E.B.怀特", 1), ("窗边的小豆豆", "黑柳彻子", 1),
    ("草房子", "曹文轩", 2), ("米小圈上学记", "北猫", 2), ("十万个为什么", "少年儿童出版社", 2),
    ("黄帝内经养生智慧", "曲黎敏", 1), ("高血压怎么吃", "中国营养学会", 1),
    ("太极拳入门", "李德印", 1), ("瑜伽之光", "艾扬格", 1), ("跑步圣经", "乔治·希恩", 1),
    ("人间烟火", "汪曾祺", 1), ("文化苦旅", "余秋雨", 1), ("额尔古纳河右岸", "迟子建", 1),
    ("泉州古城踏寻", "泉州市地方志", 1), ("闽南方言趣谈", "周长楫", 1),
    ("家庭理财入门", "刘彦斌", 1), ("时间管理", "张永锡", 1), ("家常菜谱大全", "甘智荣", 2),
]
GROUPS = [  # name, kind, description
    ("瑜伽小组", "yoga", "每周三晚上在活动室练习，欢迎上班族"),
    ("太极拳队", "tai_chi", "每周二、四早上 7 点在篮球场练习"),
    ("四季夜跑团", "running", "每周一、五晚上 8 点小区门口集合，5 公里"),
]
PLANS = [  # audience, title, summary
    ("elderly", "老年人活动计划", "健康讲座、太极入门、读报会"),
    ("families", "亲子家庭活动计划", "绘本共读、亲子手工"),
    ("young_workers", "青年上班族活动计划", "周末篮球赛、夜跑"),
]
# audience, title, venue, day offset, start hour, hours, capacity, sign-ups
ACTIVITIES = [
    ("elderly", "健康讲座：高血压的饮食与运动", "活动室", 2, 9, 2, 30, 18),
    ("families", "亲子绘本共读", "图书角", 3, 10, 1, 10, 14),  # full, four waiting
    ("young_workers", "周五夜篮球友谊赛", "篮球场", 4, 19, 2, 20, 12),
]


async def _insert(conn: Connection, table: str, fields: dict[str, object]) -> bool:
    marks = ", ".join(f"${i}" for i in range(1, len(fields) + 1))
    done = await conn.fetchval(
        f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks})"
        " ON CONFLICT DO NOTHING RETURNING true", *fields.values())
    return bool(done)


async def _venues(conn: Connection, cid: uuid.UUID) -> dict[str, uuid.UUID]:
    ids = {}
    for name, kind, capacity, opens, closes, approval, facilities, text in VENUES:
        ids[name] = demo_id("venue", name)
        await _insert(conn, "venues", {
            "id": ids[name], "compound_id": cid, "name": name, "kind": kind,
            "capacity": capacity, "opening_hours": _hours(opens, closes), "max_minutes": 120,
            "advance_days": 14, "bookers": ["group", "organisation", "resident"],
            "requires_approval": approval, "facilities": facilities, "rules": text,
            "created_by": STAFF})
    return ids


async def _books(conn: Connection, cid: uuid.UUID, people: People) -> None:
    today = dt.datetime.now(rules.LOCAL)
    for i, (title, author, copies) in enumerate(BOOKS):
        book_id = demo_id("book", title)
        donor = f"{people[i % len(people)][1]}捐赠" if i % 3 == 0 else "业委会购置"
        await _insert(conn, "books", {"id": book_id, "compound_id": cid, "title": title,
                                      "author": author, "copies": copies, "donated_by": donor})
        if i < 6:  # a few loans; 三体 is out and held by the next reader
            reader = people[(i * 5) % len(people)][0]
            await _insert(conn, "loans", {
                "id": demo_id("loan", title), "book_id": book_id, "compound_id": cid,
                "person_id": str(reader), "lent_by": STAFF,
                "due_on": rules.due_on(today - dt.timedelta(days=3 * i)), "status": "active"})
        if title == "三体":
            await _insert(conn, "holds", {
                "id": demo_id("hold", title), "book_id": book_id, "compound_id": cid,
                "person_id": str(people[7][0]), "status": "waiting"})


async def _groups(conn: Connection, cid: uuid.UUID, people: People) -> None:
    for gi, (name, kind, text) in enumerate(GROUPS):
        group_id = demo_id("group", name)
        await _insert(conn, "interest_groups", {
            "id": group_id, "compound_id": cid, "name": name, "kind": kind, "description": text,
            "status": "approved", "requires_approval": False,
            "proposed_by": str(people[gi][0]), "approved_by": STAFF})
        for mi in range(8 + 3 * gi):
            pid, pname = people[(gi * 11 + mi) % len(people)]
            await _insert(conn, "group_members", {
                "group_id": group_id, "person_id": str(pid), "name": pname,
                "role": "leader" if mi == 0 else "member", "status": "active"})


async def _activities(conn: Connection, cid: uuid.UUID, venues: dict[str, uuid.UUID],
                      people: People, now: dt.datetime) -> None:
    period = now.astimezone(rules.LOCAL).strftime("%Y-%m")
    for audience, title, summary in PLANS:
        await _insert(conn, "activity_plans", {
            "id": demo_id("plan", audience, period), "compound_id": cid, "audience": audience,
            "period": period, "title": f"{period} {title}", "summary": summary,
            "status": "published", "created_by": STAFF, "published_at": now})
    today = now.astimezone(rules.LOCAL).date()
    for audience, title, venue, offset, hour, hours, capacity, signups in ACTIVITIES:
        start = dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(hour), rules.LOCAL)
        end = start + dt.timedelta(hours=hours)
        activity_id, booking_id = demo_id("activity", title), demo_id("booking", title)
        await conn.execute(
            "INSERT INTO bookings (id, compound_id, venue_id, booker_id, booked_by, purpose,"
            " starts_at, ends_at, blocked, status) VALUES ($1, $2, $3, $4, $4, $5, $6, $7,"
            " tstzrange($6, $7), 'confirmed') ON CONFLICT DO NOTHING",
            booking_id, cid, venues[venue], STAFF, title, start, end)
        await _insert(conn, "activities", {
            "id": activity_id, "compound_id": cid,
            "plan_id": demo_id("plan", audience, period), "title": title,
            "organiser": "河市社区居民委员会", "audience": audience, "venue_id": venues[venue],
            "booking_id": booking_id, "starts_at": start, "ends_at": end, "capacity": capacity,
            "signup_opens_at": now, "signup_closes_at": start, "status": "open",
            "created_by": STAFF})
        for si in range(signups):
            pid, pname = people[(offset * 7 + si) % len(people)]
            await _insert(conn, "signups", {
                "id": demo_id("signup", title, si), "activity_id": activity_id,
                "compound_id": cid, "person_id": str(pid), "name": pname,
                "status": "confirmed" if si < capacity else "waiting",
                "code": demo_id("code", title, si).hex[:8]})


async def load_demo(pool: Pool, *, compound_id: uuid.UUID, people: People) -> None:
    """Load (or complete) the centre of 三盛四季公园; `people` are its residents."""
    if len(people) < 20:
        raise ValueError("the centre demo needs at least 20 residents of the compound")
    now = dt.datetime.now(dt.UTC)
    async with transaction(pool) as conn:
        venues = await _venues(conn, compound_id)
        await _books(conn, compound_id, people)
        await _groups(conn, compound_id, people)
        await _activities(conn, compound_id, venues, people, now)
