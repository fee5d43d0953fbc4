"""Request types shared by the catalogue's route modules (locations, services, resources, schedule
exceptions): intervals in whole minutes, the `If-Match` header of a change, and the answer
headers of a catalogue entry. (The general request types are in gateway/http/fields.py.)

An interval over HTTP is a whole number of minutes, named `<setting>_minutes` (`duration_minutes:
45`), in requests and answers alike; the bounds below are the database's (BK018 otherwise)."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType, field

from gateway.http.fields import NO_NUL

INT_MAX = 2**31 - 1  # minutes travel as a PostgreSQL integer

Duration = Annotated[int, Meta(ge=1, le=720, description="minutes, 1 to 720 (12 hours)")]
Buffer = Annotated[
    int, Meta(ge=0, le=720, description="minutes kept free around each appointment, 0 to 720")
]
SlotStep = Annotated[
    int,
    Meta(ge=5, le=1440, description="minutes between starts (from local midnight), 5 to 1440"),
]
MinNotice = Annotated[
    int, Meta(ge=0, le=INT_MAX, description="minutes ahead a start must be at least")
]
MaxAdvance = Annotated[
    int,
    Meta(ge=1, le=INT_MAX, description="minutes ahead a start may be, more than min_notice"),
]
HoldTtl = Annotated[int, Meta(ge=1, le=1440, description="minutes a hold lasts at most, 1 to 1440")]
Price = Annotated[
    float, Meta(ge=0, lt=100_000_000, description="in the currency's main unit, at most 2 decimals")
]
Currency = Annotated[
    str, Meta(pattern="^[A-Za-z]{3}$", description="ISO 4217 code (any case, stored in capitals)")
]
TimeZone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=100,
        pattern=NO_NUL,
        description="IANA time zone name, e.g. Europe/Warsaw (any case)",
    ),
]
HoldCap = Annotated[
    int, Meta(ge=1, le=100, description="live holds one customer may have here at once")
]
Capacity = Annotated[
    int,
    Meta(
        ge=1,
        le=1000,
        description="seats: customers it takes at once, 1 to 1000 (1 for a stylist or a room)",
    ),
]
MaxSeats = Annotated[
    int, Meta(ge=1, le=100, description="the most seats one hold or booking may take, 1 to 100")
]
PoolNumber = Annotated[
    int, Meta(ge=2, le=8, description="2 to 8, each once (pool 1 is who performs the service)")
]
PoolStart = Annotated[
    int,
    Meta(
        ge=0,
        le=720,
        description="minutes after the appointment's start the pool is needed from, less than "
        "the duration",
    ),
]
PoolLength = Annotated[
    int,
    Meta(
        ge=1,
        le=720,
        description="minutes the pool is needed for (beyond the end: until the end)",
    ),
]
CancelFuture = Annotated[
    bool,
    Meta(
        description="with active false: cancel the future bookings and release the live holds "
        "too (otherwise having any is 409 future-bookings)"
    ),
]


class CatalogueIfMatch(Struct, frozen=True):
    """If-Match on a catalogue change: the version read (the entry's ETag)."""

    tag: (
        Annotated[
            str,
            Meta(
                pattern=r'^(\*|(W/)?"[0-9]{1,18}")$',
                description='the version you read, as an entity tag: "3" (or * for any); a '
                "newer one is 412 catalogue-version-conflict and nothing is written",
            ),
        ]
        | UnsetType
    ) = field(default=UNSET, name="If-Match")
