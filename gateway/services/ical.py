"""A feed's bookings as an iCalendar file (RFC 5545), written with the `icalendar` package.

One VEVENT per booking: UID `<booking id>@booking` (stable across reschedules and cancellation),
SEQUENCE the booking's version (every change bumps it), DTSTART/DTEND in the location's zone with
its VTIMEZONE (so a booking keeps its wall-clock times whatever daylight saving does), STATUS
CONFIRMED or CANCELLED. SUMMARY is the service's name; DESCRIPTION names who performs it and, in a
resource's feed only, the customer's display name (staff see it in the staff views; no e-mail, no
phone). DTSTAMP and LAST-MODIFIED are the booking's last change, so the same bookings always make
the same file."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from gateway.services.feed_results import Feed, FeedItem

PRODUCT_ID = "-//atomic-booking//calendar feed//EN"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _event(item: FeedItem) -> Event:
    zone = ZoneInfo(item["time_zone"])
    event = Event()
    event.add("uid", f"{item['id']}@booking")
    event.add("dtstamp", _instant(item["updated_at"]))
    event.add("created", _instant(item["created_at"]))
    event.add("last-modified", _instant(item["updated_at"]))
    event.add("dtstart", _instant(item["start_time"]).astimezone(zone))
    event.add("dtend", _instant(item["end_time"]).astimezone(zone))
    event.add("sequence", item["version"])
    event.add("status", "CANCELLED" if item["status"] == "cancelled" else "CONFIRMED")
    event.add("summary", item["service_name"])
    event.add("location", item["location_name"])
    lines = [f"With {item['resource_name']}"]
    if item["customer_name"]:
        lines.append(f"Customer: {item['customer_name']}")
    if item["seats"] > 1:
        lines.append(f"Seats: {item['seats']}")
    event.add("description", "\n".join(lines))
    event.add("transp", "TRANSPARENT" if item["status"] == "cancelled" else "OPAQUE")
    return event


def calendar_file(feed: Feed) -> bytes:
    """The feed as the bytes of a text/calendar file."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = feed["name"]
    if feed["location_name"]:
        name = f"{name} ({feed['location_name']})"
    calendar.add("x-wr-calname", name)
    if feed["time_zone"]:
        calendar.add("x-wr-timezone", feed["time_zone"])
    for item in feed["items"]:
        calendar.add_component(_event(item))
    if feed["items"]:
        # the zones' rules over the feed's own span only: a short VTIMEZONE, the same for the
        # same bookings
        first = min(_instant(i["start_time"]) for i in feed["items"]).date() - timedelta(days=1)
        last = max(_instant(i["end_time"]) for i in feed["items"]).date() + timedelta(days=1)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    body: bytes = calendar.to_ical()
    return body
