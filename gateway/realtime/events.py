"""An event of the log as the relay sees it, its wire form per topic, and who may hear a topic."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from gateway.principal import Role

AVAILABILITY_UPDATED = "availability:updated"
TOPIC = re.compile(
    r"^(availability:[0-9a-f-]{36}:\d{4}-\d{2}-\d{2}|user:.{1,200}|location:[0-9a-f-]{36}"
    r"|service:[0-9a-f-]{36})$"
)
PUBLIC_PREFIXES = ("availability:", "location:", "service:")


@dataclass(frozen=True, slots=True)
class Event:
    """One row of `api.read_events`."""

    id: int
    type: str
    topics: list[str]
    payload: dict[str, Any]
    created_at: datetime


def event_name(event: Event, topic: str) -> str:
    """The protocol's name of an event on a topic: availability topics hear `availability:updated`,
    the user and catalogue topics the specific type (`booking:confirmed`, `hold:expired`...)."""
    return AVAILABILITY_UPDATED if topic.startswith("availability:") else event.type


def encode(event: Event, topic: str) -> str:
    """The server message for an event on a topic, encoded once and shared by its subscribers."""
    return json.dumps(
        {
            "type": "event",
            "id": event.id,
            "event": event_name(event, topic),
            "topic": topic,
            "payload": event.payload,
        },
        separators=(",", ":"),
        default=str,
    )


def valid_topic(topic: object) -> bool:
    if not isinstance(topic, str) or not TOPIC.match(topic):
        return False
    if topic.startswith("availability:"):
        _, sid, day = topic.split(":")
        try:
            UUID(sid)
            date.fromisoformat(day)
        except ValueError:
            return False
    return True


def may_subscribe(role: Role, sub: str, topic: str, limited_to_locations: bool = False) -> bool:
    """Customers hear public topics and their own `user:<sub>`; staff and admins hear anything,
    except that one limited to some locations (a "locations" claim) hears no other customer's
    `user:` topic, which carries events from every location."""
    if role in ("staff", "admin") and not limited_to_locations:
        return True
    return topic.startswith(PUBLIC_PREFIXES) or topic == f"user:{sub}"


def availability_days(event: Event) -> list[tuple[UUID, date]]:
    """The (service, day) pairs whose availability the event changed."""
    out: list[tuple[UUID, date]] = []
    for topic in event.topics:
        if topic.startswith("availability:"):
            _, sid, day = topic.split(":")
            out.append((UUID(sid), date.fromisoformat(day)))
    return out


def catalogue_services(event: Event) -> list[UUID]:
    """The services of a location whose catalogue changed (every day of them)."""
    return [UUID(t.split(":", 1)[1]) for t in event.topics if t.startswith("service:")]
