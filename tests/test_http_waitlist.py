"""Waiting lists over HTTP and the websocket, against the real gateway: join a taken slot, hear
`waitlist:offered` on your own topic when it frees, book the offer like any hold; decline and
leave pass it on; the problems a waiter can meet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gateway.client import BookingClient
from tests.fixtures import HttpCatalogue, next_test_day
from tests.support.wsclient import connect, next_event, subscribe

PROBLEM = "application/problem+json"


async def _book(c: BookingClient, cat: HttpCatalogue, hour: int, day: Any) -> str:
    r = await c.create_booking(cat.solo_service_id, cat.at(day, hour))
    assert r.status_code == 201, r.text
    return str(r.json()["booking_id"])


async def test_a_waiter_is_offered_the_cancelled_slot_and_books_it(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day, cat = next_test_day(), http_catalogue
    async with (
        BookingClient(gateway_url, mint("wl-bob")) as bob,
        BookingClient(gateway_url, mint("wl-alice")) as alice,
        BookingClient(gateway_url, mint("wl-carol")) as carol,
    ):
        booking = await _book(bob, cat, 10, day)
        joined = await alice.join_waitlist(cat.solo_service_id, cat.at(day, 10))
        assert joined.status_code == 201, joined.text
        entry = joined.json()
        assert (entry["status"], entry["position"], entry["offer"]) == ("waiting", 1, None)
        assert joined.headers["location"] == f"/v1/waitlist/{entry['entry_id']}"
        assert joined.headers["etag"] == '"1"'
        second = await carol.join_waitlist(cat.solo_service_id, cat.at(day, 10))
        assert second.json()["position"] == 2
        again = await alice.join_waitlist(cat.solo_service_id, cat.at(day, 10))
        assert again.status_code == 200 and again.json()["entry_id"] == entry["entry_id"]

        assert (await bob.cancel_booking(booking)).status_code == 200

        read = await alice.get_waitlist_entry(entry["entry_id"])
        assert read.status_code == 200, read.text
        offered = read.json()
        assert offered["status"] == "offered" and offered["offer"]["hold_id"]
        assert offered["offer"]["session_id"] == f"waitlist:{entry['entry_id']}"
        assert read.headers["etag"] == f'"{offered["version"]}"'
        assert (await carol.get_waitlist_entry(second.json()["entry_id"])).json()["position"] == 1

        booked = await alice.convert_hold(
            offered["offer"]["hold_id"], offered["offer"]["session_id"]
        )
        assert booked.status_code == 201, booked.text
        assert booked.json()["status"] == "confirmed"
        final = (await alice.get_waitlist_entry(entry["entry_id"])).json()
        assert (final["status"], final["end_reason"]) == ("accepted", "converted")


async def test_declining_passes_the_offer_on_and_leaving_takes_you_off(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day, cat = next_test_day(), http_catalogue
    async with (
        BookingClient(gateway_url, mint("wl-dan")) as dan,
        BookingClient(gateway_url, mint("wl-erin")) as erin,
        BookingClient(gateway_url, mint("wl-fred")) as fred,
        BookingClient(gateway_url, mint("wl-gail")) as gail,
    ):
        booking = await _book(dan, cat, 11, day)
        e_erin = (await erin.join_waitlist(cat.solo_service_id, cat.at(day, 11))).json()
        e_fred = (await fred.join_waitlist(cat.solo_service_id, cat.at(day, 11))).json()
        e_gail = (await gail.join_waitlist(cat.solo_service_id, cat.at(day, 11))).json()
        left = await fred.leave_waitlist(e_fred["entry_id"])
        assert left.status_code == 200 and left.json()["status"] == "left"
        await dan.cancel_booking(booking)

        declined = await erin.decline_offer(e_erin["entry_id"])
        assert declined.status_code == 200 and declined.json()["status"] == "declined"
        gail_now = (await gail.get_waitlist_entry(e_gail["entry_id"])).json()
        assert gail_now["status"] == "offered", "fred left: the offer skips him and goes to gail"
        gone = await gail.leave_waitlist(e_gail["entry_id"])
        assert gone.json()["status"] == "left"
        hold = await gail.request("GET", f"/v1/bookings/{gail_now['offer']['hold_id']}")
        assert hold.json()["status"] == "released", "leaving releases the open offer"


async def test_what_a_waiter_can_get_wrong_is_a_problem(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day, cat = next_test_day(), http_catalogue
    async with (
        BookingClient(gateway_url, mint("wl-hal")) as hal,
        BookingClient(gateway_url, mint("wl-ike")) as ike,
    ):
        await _book(hal, cat, 12, day)
        entry = (await ike.join_waitlist(cat.solo_service_id, cat.at(day, 12))).json()
        cases = {
            "BK030": await ike.decline_offer(entry["entry_id"]),  # waiting: nothing to decline
            "BK029": await hal.get_waitlist_entry(entry["entry_id"]),  # someone else's
            "BK031": await ike.join_waitlist(
                cat.solo_service_id, cat.at(day, 12), resource_id=cat.resource_a
            ),
            "BK015": await ike.join_waitlist(cat.solo_service_id, cat.at(day, 12), user_id="wl-x"),
        }
        statuses = {code: (r.status_code, r.json().get("code")) for code, r in cases.items()}
        assert statuses == {
            "BK030": (409, "BK030"),
            "BK029": (404, "BK029"),
            "BK031": (409, "BK031"),
            "BK015": (403, "BK015"),
        }
        assert all(r.headers["content-type"] == PROBLEM for r in cases.values())
        staff = await hal.with_token(mint("wl-desk", "staff")).request(
            "GET", f"/v1/services/{cat.solo_service_id}/waitlist"
        )
        assert staff.status_code == 200, staff.text
        assert entry["entry_id"] in {e["entry_id"] for e in staff.json()["entries"]}
        refused = await hal.request("GET", f"/v1/services/{cat.solo_service_id}/waitlist")
        assert refused.status_code == 403


async def test_the_waiter_hears_waitlist_offered_on_its_own_topic(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day, cat = next_test_day(), http_catalogue
    ws = await connect(gateway_url, mint("wl-listener"))
    await subscribe(ws, ["user:wl-listener"])
    async with (
        BookingClient(gateway_url, mint("wl-canceller")) as canceller,
        BookingClient(gateway_url, mint("wl-listener")) as listener,
    ):
        booking = await _book(canceller, cat, 13, day)
        entry = (await listener.join_waitlist(cat.solo_service_id, cat.at(day, 13))).json()
        assert (await canceller.cancel_booking(booking)).status_code == 200

        async def offered() -> dict[str, Any]:
            while True:
                event = await next_event(ws)
                if event["event"] == "waitlist:offered":
                    return event

        event = await asyncio.wait_for(offered(), 10)
        read = await listener.get_waitlist_entry(entry["entry_id"])
    await ws.close()
    assert event["topic"] == "user:wl-listener"
    assert event["payload"]["entry_id"] == entry["entry_id"]
    assert event["payload"]["session_id"] == f"waitlist:{entry['entry_id']}"
    assert read.json()["offer"]["hold_id"] == event["payload"]["hold_id"]
