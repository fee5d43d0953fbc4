"""A Jepsen-style history of client-visible outcomes, the client processes that record it, and the
checker that holds it against the database afterwards.

Every operation is recorded with the moment it was invoked and the moment its answer arrived
(CLOCK_MONOTONIC, which all processes of one machine share). An operation takes effect at some
point between the two (its linearization point), so the checker only flags what no ordering of
those points can explain:

- an acknowledged hold or booking missing, or in another state than its client's later
  acknowledged operations left it in (each reservation is only touched by the client that made it);
- a hold or booking granted on time that another reservation *definitely* occupied for the whole
  call: acknowledged before the call began, and not released, cancelled or moved by any call begun
  before the grant answered;
- a conflict answered for time that *nothing* could have occupied at any moment of the call
  (for "any staff", on every eligible resource).

Overlaps of live reservations are checked on the database itself (a self-join), by the caller.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection

FOREVER = 1 << 62

HOLD_SQL = (
    "select api.create_hold_atomic(p_slot_id => null, p_user_id => %s::text,"
    " p_service_id => %s::uuid, p_start_time => %s::timestamptz, p_end_time => %s::timestamptz,"
    " p_expires_at => null, p_session_id => %s::text, p_resource_id => %s::uuid)"
)
BOOK_SQL = (
    "select api.create_booking_atomic(p_service_id => %s::uuid, p_start_time => %s::timestamptz,"
    " p_user_id => %s::text, p_booking_data => '{}'::jsonb, p_resource_id => %s::uuid,"
    " p_idempotency_key => %s::text)"
)
CONVERT_SQL = (
    "select api.convert_hold_to_booking(p_hold_id => %s::uuid,"
    " p_session_id => %s::text, p_booking_data => '{}'::jsonb)"
)
RELEASE_SQL = "select api.release_hold(p_hold_id => %s::uuid, p_session_id => %s::text)"
CANCEL_SQL = (
    "select api.cancel_booking(p_booking_id => %s::uuid, p_reason => 'race checker',"
    " p_expected_version => %s::bigint)"
)
RESCHEDULE_SQL = (
    "select api.reschedule_booking(p_booking_id => %s::uuid,"
    " p_new_start => %s::timestamptz, p_expected_version => %s::bigint,"
    " p_resource_id => %s::uuid)"
)

CREATES = ("hold", "book")


@dataclass
class Op:
    """One call as its client saw it. outcome: ok | conflict | failed (an error: nothing was
    written) | unknown (the connection broke: it may or may not have happened)."""

    process: int
    client: int
    kind: str  # hold | book | convert | release | cancel | reschedule
    invoke_ns: int
    complete_ns: int = 0
    outcome: str = "unknown"
    target: str | None = None  # the reservation acted on (created, for hold and book)
    resource: str | None = None  # requested resource; None: any eligible one
    start: str | None = None  # requested start (ISO 8601)
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Workload:
    """What the client processes race on: one service, its resources and a few starts."""

    url: str
    service_id: str
    resource_ids: tuple[str, ...]
    starts: tuple[str, ...]
    duration_s: float
    seconds: float
    clients_per_process: int


@dataclass
class _Client:
    process: int
    number: int
    conn: AsyncConnection[Any]
    work: Workload
    rng: random.Random
    ops: list[Op]
    holds: dict[str, str] = field(default_factory=dict)  # hold id -> session
    bookings: dict[str, int] = field(default_factory=dict)  # booking id -> version

    @property
    def user(self) -> str:
        return f"racer-{self.process}-{self.number}"

    async def call(self, op: Op, query: str, params: Iterable[Any]) -> dict[str, Any] | None:
        self.ops.append(op)
        try:
            cur = await self.conn.execute(query, tuple(params))
            row = await cur.fetchone()
        except psycopg.Error as exc:
            op.complete_ns = time.monotonic_ns()
            op.outcome = "unknown" if exc.sqlstate is None else "failed"
            op.result = {"sqlstate": exc.sqlstate, "error": str(exc)[:200]}
            if exc.sqlstate is None:
                raise
            return None
        op.complete_ns = time.monotonic_ns()
        assert row is not None
        result: dict[str, Any] = row[0]
        op.result = result
        op.outcome = "ok" if result.get("success") else "conflict"
        return result

    def op(self, kind: str, **fields: Any) -> Op:
        return Op(self.process, self.number, kind, time.monotonic_ns(), **fields)

    def any_resource(self) -> str | None:
        return None if self.rng.random() < 0.25 else self.rng.choice(self.work.resource_ids)

    async def create(self, kind: str) -> None:
        start = self.rng.choice(self.work.starts)
        end = (datetime.fromisoformat(start) + timedelta(seconds=self.work.duration_s)).isoformat()
        resource = self.any_resource()
        w = self.work
        if kind == "hold":
            session = uuid.uuid4().hex
            op = self.op("hold", resource=resource, start=start)
            result = await self.call(
                op, HOLD_SQL, (self.user, w.service_id, start, end, session, resource)
            )
            if result and result["success"]:
                op.target = result["hold_id"]
                self.holds[op.target] = session
        else:
            op = self.op("book", resource=resource, start=start)
            result = await self.call(
                op, BOOK_SQL, (w.service_id, start, self.user, resource, uuid.uuid4().hex)
            )
            if result and result["success"]:
                op.target = result["booking_id"]
                self.bookings[op.target] = int(result["version"])

    async def settle_hold(self, convert: bool) -> None:
        hold_id = self.rng.choice(list(self.holds))
        session = self.holds.pop(hold_id)
        if convert:
            result = await self.call(
                self.op("convert", target=hold_id), CONVERT_SQL, (hold_id, session)
            )
            if result and result["success"]:
                self.bookings[hold_id] = int(result["version"])
        else:
            await self.call(self.op("release", target=hold_id), RELEASE_SQL, (hold_id, session))

    async def change_booking(self, cancel: bool) -> None:
        booking_id = self.rng.choice(list(self.bookings))
        version = self.bookings[booking_id]
        if cancel:
            result = await self.call(
                self.op("cancel", target=booking_id), CANCEL_SQL, (booking_id, version)
            )
            if result and result["success"]:
                del self.bookings[booking_id]
            return
        start = self.rng.choice(self.work.starts)
        resource = self.any_resource()
        op = self.op("reschedule", target=booking_id, resource=resource, start=start)
        result = await self.call(op, RESCHEDULE_SQL, (booking_id, start, version, resource))
        if result and result["success"]:
            self.bookings[booking_id] = int(result["version"])

    def choose(self) -> Callable[[], Awaitable[None]]:
        rng = self.rng
        if self.holds and (len(self.holds) >= 2 or rng.random() < 0.3):
            convert = rng.random() < 0.6
            return lambda: self.settle_hold(convert)
        if self.bookings and (len(self.bookings) >= 2 or rng.random() < 0.3):
            cancel = rng.random() < 0.45
            return lambda: self.change_booking(cancel)
        kind = "hold" if rng.random() < 0.6 else "book"
        return lambda: self.create(kind)

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await self.choose()()


async def _run_process(work: Workload, process: int, seed: int) -> list[Op]:
    ops: list[Op] = []
    conns = [
        await AsyncConnection.connect(work.url, autocommit=True)
        for _ in range(work.clients_per_process)
    ]
    try:
        until = time.monotonic() + work.seconds
        clients = [
            _Client(process, n, c, work, random.Random(seed * 1000 + n), ops)
            for n, c in enumerate(conns)
        ]
        await asyncio.gather(*(c.run(until) for c in clients))
    finally:
        for c in conns:
            await c.close()
    return ops


def client_process(work: Workload, process: int, seed: int) -> str:
    """Entry point of one client process: its clients race until `work.seconds` have passed;
    returns the process's history as JSON lines."""
    ops = asyncio.run(_run_process(work, process, seed))
    return "\n".join(json.dumps(asdict(op)) for op in ops)


def parse_history(lines: Iterable[str]) -> list[Op]:
    return [Op(**json.loads(line)) for chunk in lines for line in chunk.splitlines() if line]


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class Row:
    """A reservation as the database holds it at the end."""

    id: str
    status: str
    resource: str
    start: datetime


@dataclass(frozen=True)
class Segment:
    """Reservation `owner` occupied `start` on `resource` from `since` to `until` (monotonic ns)."""

    owner: str
    resource: str
    start: datetime
    since: int
    until: int


@dataclass
class Verdict:
    violations: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def flag(self, message: str) -> None:
        self.violations.append(message)


def _granted_place(op: Op) -> tuple[str, datetime]:
    return str(op.result["resource_id"]), datetime.fromisoformat(op.result["start_time"])


def check(
    history: list[Op],
    rows: dict[str, Row],
    resources: tuple[str, ...],
    occupied: Callable[[datetime], tuple[datetime, datetime]],
) -> Verdict:
    """Hold the history against the final rows; `occupied(start)` is a start's occupied range
    (the slot widened by the service's buffers)."""
    verdict = Verdict()
    by_target: dict[str, list[Op]] = defaultdict(list)
    for op in history:
        if op.target is not None:
            by_target[op.target].append(op)
    for ops in by_target.values():
        ops.sort(key=lambda o: o.invoke_ns)

    definite: list[Segment] = []  # surely occupied during [since, until]
    possible: list[Segment] = []  # perhaps occupied during [since, until]
    for target, ops in by_target.items():
        _replay(target, ops, rows.get(target), verdict, definite, possible)
    # calls that broke off with no answer may have created something we cannot name
    for op in history:
        if op.outcome == "unknown" and op.kind in CREATES:
            for resource in [op.resource] if op.resource else resources:
                assert op.start is not None
                possible.append(
                    Segment("?", resource, datetime.fromisoformat(op.start), op.invoke_ns, FOREVER)
                )

    def overlaps(a: datetime, b: datetime) -> bool:
        (a0, a1), (b0, b1) = occupied(a), occupied(b)
        return a0 < b1 and b0 < a1

    for op in history:
        granted = op.outcome == "ok" and op.kind in (*CREATES, "reschedule")
        if granted:
            verdict.checked["grants"] += 1
            resource, start = _granted_place(op)
            for s in definite:
                if (
                    s.owner != op.target
                    and s.resource == resource
                    and s.since <= op.invoke_ns
                    and s.until >= op.complete_ns
                    and overlaps(s.start, start)
                ):
                    verdict.flag(
                        f"{op.kind} {op.target} granted {resource} at {start} during "
                        f"[{op.invoke_ns}, {op.complete_ns}] while {s.owner} surely "
                        f"held it [{s.since}, {s.until}]"
                    )
        refused = op.outcome == "conflict" and op.kind in (*CREATES, "reschedule")
        if refused and op.result.get("conflict_type") in ("HOLD_CONFLICT", "BOOKING_CONFLICT"):
            verdict.checked["refusals"] += 1
            assert op.start is not None
            start = datetime.fromisoformat(op.start)
            wanted = [op.resource] if op.resource else list(resources)
            if op.kind == "reschedule" and not op.resource:
                wanted = [_resource_before(by_target[op.target or ""], op, rows)]
            for resource in wanted:
                if not any(
                    s.owner != op.target
                    and s.resource == resource
                    and s.since <= op.complete_ns
                    and s.until >= op.invoke_ns
                    and overlaps(s.start, start)
                    for s in possible
                ):
                    verdict.flag(
                        f"{op.kind} refused {resource} at {start} during "
                        f"[{op.invoke_ns}, {op.complete_ns}] though nothing could "
                        f"occupy it then ({op.result.get('conflict_type')})"
                    )
    return verdict


def _resource_before(ops: list[Op], op: Op, rows: dict[str, Row]) -> str:
    """The resource a booking was on when `op` (a reschedule keeping its resource) was called."""
    resource = None
    for earlier in ops:
        if earlier is op:
            break
        if earlier.outcome == "ok" and "resource_id" in earlier.result:
            resource = str(earlier.result["resource_id"])
    return resource or rows[ops[0].target or ""].resource


def _replay(
    target: str,
    ops: list[Op],
    row: Row | None,
    verdict: Verdict,
    definite: list[Segment],
    possible: list[Segment],
) -> None:
    """Walk one reservation's calls (made one after another by one client): the state they
    leave, and the time it surely and perhaps occupied."""
    first = ops[0]
    if first.kind not in CREATES or first.outcome != "ok":
        return
    verdict.checked["acknowledged"] += 1
    if row is None:
        verdict.flag(f"acknowledged {first.kind} {target} is missing")
        return
    resource, start = _granted_place(first)
    status = "held" if first.kind == "hold" else "confirmed"
    sure_since: int | None = first.complete_ns
    maybe_since = first.invoke_ns
    certain = True
    for op in ops[1:]:
        # from this call's start the reservation may be gone or elsewhere
        if sure_since is not None:
            definite.append(Segment(target, resource, start, sure_since, op.invoke_ns))
            sure_since = None
        if op.outcome in ("unknown",):
            certain = False
            possible.append(Segment(target, resource, start, maybe_since, FOREVER))
            if op.kind == "reschedule" and op.start:
                place = op.resource or resource
                possible.append(
                    Segment(target, place, datetime.fromisoformat(op.start), op.invoke_ns, FOREVER)
                )
            return
        if op.outcome == "ok" and op.kind in ("release", "cancel"):
            possible.append(Segment(target, resource, start, maybe_since, op.complete_ns))
            status = str(op.result.get("status"))
            break
        if op.outcome == "ok" and op.kind == "reschedule":
            possible.append(Segment(target, resource, start, maybe_since, op.complete_ns))
            resource, start = _granted_place(op)
            maybe_since = op.invoke_ns
        if op.outcome == "ok" and op.kind == "convert":
            status = "confirmed"
        if op.kind == "convert" and op.outcome != "ok":
            certain = False  # a refused conversion: the hold's fate is its expiry's
        sure_since = op.complete_ns
    else:
        possible.append(Segment(target, resource, start, maybe_since, FOREVER))
        if sure_since is not None:
            definite.append(Segment(target, resource, start, sure_since, FOREVER))
    if not certain:
        return
    verdict.checked["final states"] += 1
    if row.status != status:
        verdict.flag(f"{target}: the client was told {status}, the database says {row.status}")
    elif status in ("held", "confirmed") and (row.resource, row.start) != (resource, start):
        verdict.flag(
            f"{target}: the client was told {resource} at {start}, the database has "
            f"{row.resource} at {row.start}"
        )
