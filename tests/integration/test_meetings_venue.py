"""A council meeting held at a neighbourhood-centre venue books it; a clash is a clear 409 that
writes no meeting; cancelling the meeting releases the venue (the centre hears meeting.cancelled)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from linli.config import Settings
from services.centre.app import create_app as centre_app
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer, eventually
from tests.integration.test_centre_support import ALL_DAY, iso, tomorrow_at
from tests.integration.test_meetings_sessions import organisation
from tests.integration.test_meetings_support import new_compound, ok


async def bookings_of(centre: TestClient, cid: str, venue_id: str,
                      staff: dict[str, str]) -> list[dict[str, Any]]:
    page = await ok(await centre.get(f"/v1/compounds/{cid}/bookings", headers=staff))
    return [b for b in page["items"] if b["venue_id"] == venue_id]


async def test_a_meeting_at_a_centre_venue_books_it_and_cancelling_releases_it(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    centre = await serve(centre_app, port=settings.port("centre"))
    meetings = await serve(meetings_app)
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    staff = bearer(token(roles=["community"], compounds=[c.id]))
    room = await ok(await centre.post(f"/v1/compounds/{c.id}/venues", headers=staff, json={
        "name": "党群活动室", "kind": "room", "capacity": 40, "opening_hours": ALL_DAY,
        "max_minutes": 240, "advance_days": 30, "requires_approval": True}), 201)
    starts = tomorrow_at(19)
    body = {"kind": "party_masses_council", "title": "顶楼隔热改造议事会",
            "starts_at": iso(starts), "ends_at": iso(starts + dt.timedelta(hours=2)),
            "convener_org_id": branch, "venue_id": room["id"]}
    base = f"/v1/compounds/{c.id}/meetings"

    meeting = await ok(await meetings.post(base, json=body, headers=secretary), 201)
    assert meeting["place"] == "党群活动室" and meeting["venue_booking_id"]
    [booking] = await bookings_of(centre, c.id, room["id"], staff)
    assert booking["id"] == meeting["venue_booking_id"]
    # the council's booking needs no approval and names the meeting
    assert booking["status"] == "confirmed" and "顶楼隔热改造议事会" in booking["purpose"]

    later = {**body, "title": "暑期活动议事会",
             "starts_at": iso(starts + dt.timedelta(hours=1)),
             "ends_at": iso(starts + dt.timedelta(hours=3))}
    clash = await assert_problem(await meetings.post(base, json=later, headers=secretary),
                                 409, "venue-taken")
    assert "党群活动室" in clash["detail"]
    assert [m["title"] for m in (await ok(await meetings.get(base, headers=secretary)))["items"]] == [
        "顶楼隔热改造议事会"]  # the refused meeting was not written
    assert len(await bookings_of(centre, c.id, room["id"], staff)) == 1

    await ok(await meetings.post(f"{base}/{meeting['id']}/cancel", json={"reason": "改期"},
                                 headers=secretary))

    async def released() -> bool:
        [b] = await bookings_of(centre, c.id, room["id"], staff)
        return bool(b["status"] == "cancelled")

    await eventually(released)
    again = await ok(await meetings.post(base, json=later, headers=secretary), 201)
    assert again["venue_booking_id"] != meeting["venue_booking_id"]


async def test_a_venue_of_no_centre_is_a_clear_error_and_writes_nothing(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    await serve(centre_app, port=settings.port("centre"))
    meetings = await serve(meetings_app)
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    starts = tomorrow_at(19)
    base = f"/v1/compounds/{c.id}/meetings"
    problem = await assert_problem(await meetings.post(base, headers=secretary, json={
        "kind": "residents_council", "title": "议事会", "starts_at": iso(starts),
        "ends_at": iso(starts + dt.timedelta(hours=1)), "convener_org_id": branch,
        "venue_id": "00000000-0000-4000-8000-000000000000"}), 422, "validation-error")
    assert "场地" in problem["detail"]
    assert (await ok(await meetings.get(base, headers=secretary)))["items"] == []


async def test_street_officials_and_admins_without_a_role_here_convene_at_a_venue(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    """Meetings books the room in the convener's name, which it authenticated itself: the centre
    takes the platform service's word for them, though they hold no role in the compound."""
    directory = await serve(directory_app, port=settings.port("directory"))
    centre = await serve(centre_app, port=settings.port("centre"))
    meetings = await serve(meetings_app)
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    staff = bearer(token(roles=["community"], compounds=[c.id]))
    room = await ok(await centre.post(f"/v1/compounds/{c.id}/venues", headers=staff, json={
        "name": "党群活动室", "kind": "room", "capacity": 40, "opening_hours": ALL_DAY,
        "max_minutes": 240, "advance_days": 30}), 201)
    conveners = {"街道 (所有小区)": (["street_office"], ["*"]),
                 "街道 (本小区)": (["street_office"], [c.id]), "管理员": (["admin"], ["*"])}
    starts = tomorrow_at(8)
    for hour, (who, (roles, compounds)) in enumerate(conveners.items()):
        person = str(uuid.uuid4())  # nobody the directory knows in this compound
        at = starts + dt.timedelta(hours=2 * hour)
        meeting = await ok(await meetings.post(
            f"/v1/compounds/{c.id}/meetings",
            headers=bearer(token(roles=roles, compounds=compounds, person=person)),
            json={"kind": "residents_council", "title": f"{who}召集的议事会", "starts_at": iso(at),
                  "ends_at": iso(at + dt.timedelta(hours=1)), "convener_org_id": branch,
                  "venue_id": room["id"]}), 201)
        [booking] = [b for b in await bookings_of(centre, c.id, room["id"], staff)
                     if b["id"] == meeting["venue_booking_id"]]
        assert booking["booker_id"] == person and f"{who}召集的议事会" in booking["purpose"]
    assert len(await bookings_of(centre, c.id, room["id"], staff)) == 3
