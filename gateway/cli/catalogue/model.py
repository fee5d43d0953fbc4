"""What a catalogue file holds: one location, its resources with their weekly hours, its services
with their eligible resources in preference order and the further pools they need (a wash station
for the first 20 minutes), and optionally its schedule exceptions.

The file is the whole truth about what it lists: a field left out takes the default written here
(the same as `api.create_service`'s), not the value the database has. docs/OPERATIONS.md
("Catalogue as a file") describes the format.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from gateway.cli.catalogue.durations import Duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


class TimeRange:
    """Local working hours within one day, "09:00-17:00" ("24:00" ends at midnight). Plain
    classes (this and Moment), so that msgspec hands them to the decode hook as text."""

    __slots__ = ("end", "start")

    def __init__(self, start: str, end: str) -> None:
        self.start = start
        self.end = end

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimeRange):
            return NotImplemented
        return (self.start, self.end) == (other.start, other.end)

    def __hash__(self) -> int:
        return hash((self.start, self.end))

    def __repr__(self) -> str:
        return f"TimeRange({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        match = _RANGE.fullmatch(text.strip())
        if match is None:
            raise ValueError(f'{text!r} is not a time range: write e.g. "09:00-17:00"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        for hour, minute in ((h1, m1), (h2, m2)):
            if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
                raise ValueError(f"{text!r}: times run from 00:00 to 24:00")
        return cls(f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}")

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


class Moment:
    """The start or end of a schedule exception: a local wall time at the location
    ("2026-12-24 09:00", a date alone for its midnight), or an instant with an offset."""

    __slots__ = ("at",)

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Moment):
            return NotImplemented
        return (self.at, self.at.utcoffset()) == (other.at, other.at.utcoffset())

    def __hash__(self) -> int:
        return hash(self.at)

    def __repr__(self) -> str:
        return f"Moment({str(self)!r})"

    @classmethod
    def parse(cls, value: object) -> Moment:
        if isinstance(value, datetime):
            return cls(value)
        if isinstance(value, date):
            return cls(datetime.combine(value, time()))
        if isinstance(value, str):
            try:
                return cls(datetime.fromisoformat(value.strip()))
            except ValueError:
                pass
        raise ValueError(
            f'{value!r} is not a date and time: write e.g. "2026-12-24 09:00" (local time at the'
            ' location) or "2026-12-24T09:00:00+01:00"'
        )

    def __str__(self) -> str:
        return self.at.isoformat()


class WeeklyHours(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Working hours for each weekday; a weekday left out is not worked."""

    monday: list[TimeRange] = []
    tuesday: list[TimeRange] = []
    wednesday: list[TimeRange] = []
    thursday: list[TimeRange] = []
    friday: list[TimeRange] = []
    saturday: list[TimeRange] = []
    sunday: list[TimeRange] = []

    def as_api_json(self) -> list[dict[str, object]]:
        """The week as api.set_working_hours takes it: [{weekday (1 = Monday), start, end}]."""
        return [
            {"weekday": number, "start": r.start, "end": r.end}
            for number, day in enumerate(WEEKDAYS, 1)
            for r in getattr(self, day)
        ]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    id: UUID
    name: str
    time_zone: str
    max_live_holds_per_customer: int = 3
    active: bool = True


class Resource(msgspec.Struct, forbid_unknown_fields=True):
    id: UUID
    name: str
    kind: Literal["staff", "room", "equipment"] = "staff"
    # seats: how many customers it takes at once
    capacity: int = 1
    active: bool = True
    hours: WeeklyHours = msgspec.field(default_factory=WeeklyHours)


class Pool(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A further pool of a service: one of its resources is taken for a part of each appointment,
    counted from its start (lasts left out or null: until the end)."""

    # its number, 2 to 8; left out: 2 for the first pool listed, 3 for the second, ...
    pool: int | None = None
    name: str
    starts_after: Duration = Duration()
    lasts: Duration | None = None
    # by id or by name (as given in this file), first tried first
    resources: list[str]


class Service(msgspec.Struct, forbid_unknown_fields=True):
    id: UUID
    name: str
    duration: Duration
    buffer_before: Duration = Duration()
    buffer_after: Duration = Duration()
    slot_step: Duration = Duration(microseconds=15 * 60_000_000)
    min_notice: Duration = Duration()
    max_advance: Duration = Duration(days=90)
    hold_ttl: Duration = Duration(microseconds=10 * 60_000_000)
    conflict_strategy: str = "first_come_first_serve"
    price: Decimal = Decimal(0)
    currency: str = "PLN"
    max_seats: int = 1
    active: bool = True
    # the resources that perform it, by id or by name (as given in this file), first tried first
    resources: list[str] = []
    # what else it needs, each pool for its part of the appointment (none for most services)
    pools: list[Pool] = []


class ScheduleException(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    kind: Literal["time_off", "closure", "extra_hours"]
    start: Moment
    end: Moment
    # a resource of this file by id or name; left out: a closure of the whole location
    resource: str | None = None
    note: str | None = None


class Catalogue(msgspec.Struct, forbid_unknown_fields=True):
    location: Location
    resources: list[Resource] = []
    services: list[Service] = []
    # None (left out): the location's exceptions are left as they are; a list: exactly these
    exceptions: list[ScheduleException] | None = None
