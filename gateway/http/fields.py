"""The constrained JSON types that request models are made of. Each carries its JSON Schema
constraints as msgspec `Meta`, so the OpenAPI document states them and validation applies them:
what a type says here is what the server accepts. (Answer field types, text as the database wrote
it, are in gateway/services/results.py.)"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType, field

# Dates in requests stay within these years: the engine accepts more, but Python's date type ends
# with 9999 and a range of days near it would overflow when read back.
YEARS = "^(19[0-9]{2}|[2-8][0-9]{3}|9000)-"
NO_NUL = "^[^\\u0000]*$"  # PostgreSQL text cannot hold NUL
LOCAL_DATE_TIME = "local-date-time"  # a wall-clock time without an offset (see validate.py)
BIGINT_MAX = 2**63 - 1
MAX_DAYS = 62


def _format(name: str) -> dict[str, Any]:
    return {"format": name}


# --- requests ----------------------------------------------------------------------------------

Text = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]  # non-empty, no NUL
Text500 = Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]
Text1000 = Annotated[str, Meta(min_length=1, max_length=1000, pattern=NO_NUL)]
Instant = Annotated[str, Meta(pattern=YEARS, extra_json_schema=_format("date-time"))]
Day = Annotated[str, Meta(pattern=YEARS, extra_json_schema=_format("date"))]
WallOrInstant = Annotated[
    str,
    Meta(
        pattern=YEARS,
        description="an instant with an offset (2027-03-28T10:30:00+02:00), or a wall-clock time "
        "at the service's location without one (2027-03-28T10:30, seconds optional). A wall-clock "
        "time the location's clocks skip (spring forward) is 422 off-grid (BK013); one they show "
        "twice (fall back) means its second occurrence, in standard time.",
        extra_json_schema={"anyOf": [{"format": "date-time"}, {"format": LOCAL_DATE_TIME}]},
    ),
]
EventId = Annotated[int, Meta(ge=1, le=BIGINT_MAX)]  # an id of the event log (a bigint)
Seats = Annotated[
    int,
    Meta(
        ge=1,
        le=100,
        description="how many seats of one resource to take, all or nothing (a class booked for "
        "a family); at most the service's max_seats (else 422 invalid-seats, BK026). Default 1",
    ),
]
SeenVersion = Annotated[
    int,
    Meta(
        ge=0,
        le=BIGINT_MAX,
        description="the availability version the slot was chosen from (`versions[<day>]` of "
        "GET availability, the number in its one-day ETag): a slot taken after it is 409 "
        "CACHE_CONFLICT, telling the caller to refresh what it shows",
    ),
]
# Free-form JSON kept with a booking: a recursive type no model expresses; its component schema
# is written by hand in gateway/http/openapi.py (SCHEMA_PATCHES).
BookingData = Annotated[
    dict[str, Any], Meta(extra_json_schema={"$ref": "#/components/schemas/BookingData"})
]

# --- header parameters shared by several operations ---------------------------------------


class IfNoneMatch(Struct, frozen=True):
    tag: str | UnsetType = field(default=UNSET, name="If-None-Match")


# --- example values ----------------------------------------------------------------------------

EXAMPLE_SERVICE = "30000000-0000-4000-8000-000000000001"
EXAMPLE_RESOURCE = "20000000-0000-4000-8000-000000000001"
EXAMPLE_HOLD = "7b0c2f1e-9a55-4e0a-b1f4-0d6a4b0f3c11"
