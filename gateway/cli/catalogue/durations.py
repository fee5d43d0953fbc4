"""Durations in a catalogue file: "60 minutes", "1 hour 30 minutes", "90 days", ISO 8601 "PT45M".

A Duration keeps the three fields a PostgreSQL interval has (months, days, microseconds) apart,
so a value read from the database and written back is the same interval, field for field: "1 day"
stays one day and "24 hours" stays 24 hours (they differ across a daylight-saving change).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MICROSECONDS = {"hour": 3_600_000_000, "minute": 60_000_000, "second": 1_000_000}

# "<number> <unit>" pairs: whole numbers, seconds may have a fraction
_WORD = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_UNITS = {
    "month": "month",
    "months": "month",
    "week": "week",
    "weeks": "week",
    "day": "day",
    "days": "day",
    "hour": "hour",
    "hours": "hour",
    "minute": "minute",
    "minutes": "minute",
    "second": "second",
    "seconds": "second",
}
# ISO 8601 durations as PostgreSQL writes them (intervalstyle iso_8601) and people type them
_ISO = re.compile(
    r"P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
HOW_TO_WRITE = 'write e.g. "45 minutes", "1 hour 30 minutes", "90 days", "0", or ISO 8601 "PT45M"'


class Duration:
    """A non-negative length of time as PostgreSQL keeps an interval: months, days, microseconds.

    A plain class rather than a dataclass, so that msgspec hands it to the file's decode hook
    as text instead of expecting an object."""

    __slots__ = ("days", "microseconds", "months")

    def __init__(self, months: int = 0, days: int = 0, microseconds: int = 0) -> None:
        self.months = months
        self.days = days
        self.microseconds = microseconds

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return (self.months, self.days, self.microseconds) == (
            other.months,
            other.days,
            other.microseconds,
        )

    def __hash__(self) -> int:
        return hash((self.months, self.days, self.microseconds))

    def __repr__(self) -> str:
        return f"Duration({str(self)!r})"

    @classmethod
    def parse(cls, text: str) -> Duration:
        """The duration a text names; ValueError saying how to write one for anything else."""
        spelled = text.strip()
        if spelled == "0":
            return cls()
        iso = _ISO.fullmatch(spelled.upper())
        if iso is not None:
            return cls._from_iso(iso)
        return cls._from_words(spelled.lower(), text)

    @classmethod
    def _from_iso(cls, match: re.Match[str]) -> Duration:
        years, months, weeks, days, hours, minutes, seconds = match.groups()
        return cls(
            months=12 * int(years or 0) + int(months or 0),
            days=7 * int(weeks or 0) + int(days or 0),
            microseconds=int(hours or 0) * MICROSECONDS["hour"]
            + int(minutes or 0) * MICROSECONDS["minute"]
            + _seconds(seconds or "0"),
        )

    @classmethod
    def _from_words(cls, spelled: str, original: str) -> Duration:
        pairs = _WORD.findall(spelled)
        if not pairs or _WORD.sub("", spelled).strip() != "":
            raise ValueError(f"{original!r} is not a duration: {HOW_TO_WRITE}")
        months = days = microseconds = 0
        for number, word in pairs:
            unit = _UNITS.get(word)
            if unit is None:
                raise ValueError(
                    f"{original!r}: unknown unit {word!r} (use months, weeks, days, hours,"
                    " minutes or seconds)"
                )
            if unit == "second":
                microseconds += _seconds(number)
                continue
            if "." in number:
                raise ValueError(f"{original!r}: only seconds may have a fraction")
            whole = int(number)
            if unit == "month":
                months += whole
            elif unit in ("week", "day"):
                days += whole * (7 if unit == "week" else 1)
            else:
                microseconds += whole * MICROSECONDS[unit]
        return cls(months, days, microseconds)

    @classmethod
    def from_iso(cls, text: str) -> Duration:
        """An interval as PostgreSQL writes it with intervalstyle iso_8601 ("P60D", "PT1H30M")."""
        match = _ISO.fullmatch(text)
        if match is None:
            raise ValueError(f"unexpected interval from the database: {text!r}")
        return cls._from_iso(match)

    def __str__(self) -> str:
        """The duration in words, largest unit first: "1 hour 30 minutes", "60 days", "0"."""
        parts = [_count(self.months, "month"), _count(self.days, "day")]
        rest = self.microseconds
        for unit in ("hour", "minute"):
            whole, rest = divmod(rest, MICROSECONDS[unit])
            parts.append(_count(whole, unit))
        if rest:
            seconds = Decimal(rest) / MICROSECONDS["second"]
            parts.append(f"{seconds.normalize():f} second{'' if seconds == 1 else 's'}")
        words = " ".join(p for p in parts if p)
        return words or "0"


def _count(number: int, unit: str) -> str:
    if number == 0:
        return ""
    return f"{number} {unit}{'' if number == 1 else 's'}"


def _seconds(number: str) -> int:
    try:
        micro = Decimal(number) * MICROSECONDS["second"]
    except InvalidOperation:
        raise ValueError(f"{number!r} is not a number of seconds") from None
    if micro != micro.to_integral_value():
        raise ValueError(f"{number} seconds: at most 6 decimals")
    return int(micro)
