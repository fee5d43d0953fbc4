"""The read fence of one request: a WAL position (LSN) its reads must not be older than.

A write's answer carries the primary's WAL flush position read after the write committed (the
`Booking-Consistency` header, an LSN such as `0/1A2B3C8`); a client that sends it back with its
next reads is served only by a replica that has replayed that far, else by the primary. The
fence travels in a context variable, set by the HTTP middleware for the request's task, so the
database layer sees it without every engine method passing it on.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

HEADER = "Booking-Consistency"
_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")

_request_fence: ContextVar[int] = ContextVar("booking_read_fence", default=0)


def parse_lsn(text: str) -> int | None:
    """An LSN's text form (`X/Y`, hexadecimal halves) as a number; None when malformed."""
    match = _LSN.match(text.strip())
    if match is None:
        return None
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(lsn: int) -> str:
    """A number as PostgreSQL writes an LSN."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def request_fence() -> int:
    """The current request's fence (0: none)."""
    return _request_fence.get()


def set_request_fence(lsn: int) -> None:
    """Set the fence for the rest of the current task (one request)."""
    _request_fence.set(lsn)
