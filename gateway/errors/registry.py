"""The one registry of error codes: every SQLSTATE the engine raises or the gateway maps, and
every conflict type, with the HTTP status and problem type the gateway answers and what it means.

The gateway's SQLSTATE → problem table (gateway/errors/problem.py), its conflict table
(gateway/http/problems.py), the codes it retries (gateway/services/db.py) and docs/ERRORS.md
(`python -m gateway.cli.errordoc`) are all made from `REGISTRY`. tests/test_errors_doc.py checks
it against the SQL: every code raised in sql/functions is registered, and every registered engine
code is raised there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Source(enum.Enum):
    """Who produces a code."""

    ENGINE = "engine"  # a function in sql/functions raises it (`using errcode = 'BKnnn'`)
    POSTGRESQL = "postgresql"  # PostgreSQL raises it itself (a standard SQLSTATE, or a class)
    CONFLICT = "conflict"  # a `conflict_type` in a `{"success": false}` result, not an error


@dataclass(frozen=True, slots=True)
class ProblemKind:
    """How the gateway answers: HTTP status, problem type slug and title."""

    status: int
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One code: a SQLSTATE (`BK001`, `23514`), a SQLSTATE class (`08xxx`) or a conflict type."""

    code: str
    source: Source
    answer: ProblemKind | None  # None: retried by the gateway, 500 only when every retry fails
    meaning: str  # one Markdown sentence or more, for docs/ERRORS.md

    @property
    def is_class(self) -> bool:
        """Whether this is a whole SQLSTATE class (its first two characters), not one code."""
        return self.code.endswith("xxx")


INVALID_ARGUMENT = ProblemKind(400, "invalid-argument", "Invalid argument")
FORBIDDEN = ProblemKind(403, "forbidden", "Not allowed for this role")
UNAVAILABLE = ProblemKind(503, "unavailable", "Service unavailable")

ENGINE = Source.ENGINE
POSTGRESQL = Source.POSTGRESQL
CONFLICT = Source.CONFLICT

REGISTRY: tuple[ErrorCode, ...] = (
    ErrorCode(
        "BK001",
        ENGINE,
        ProblemKind(404, "unknown-service", "Unknown service"),
        "The service does not exist.",
    ),
    ErrorCode(
        "BK002",
        ENGINE,
        ProblemKind(422, "service-inactive", "Service no longer offered"),
        "The service exists but is no longer offered (inactive).",
    ),
    ErrorCode(
        "BK003",
        ENGINE,
        ProblemKind(422, "outside-working-hours", "Nobody works at that time"),
        "Nobody eligible works for the whole slot (outside working hours, time off, closure).",
    ),
    ErrorCode(
        "BK004",
        ENGINE,
        ProblemKind(422, "too-soon", "Start is in the past or inside the minimum notice"),
        "The start is in the past or closer than the service's minimum notice.",
    ),
    ErrorCode(
        "BK005",
        ENGINE,
        ProblemKind(422, "too-far-ahead", "Start is beyond the advance booking limit"),
        "The start is further ahead than the service's maximum advance.",
    ),
    ErrorCode(
        "BK006",
        ENGINE,
        ProblemKind(422, "wrong-duration", "Slot length does not match the service"),
        "The slot does not last exactly the service's duration (an `end_time` that is given ≠ "
        "`start_time` + duration; a hold without one lasts the duration).",
    ),
    ErrorCode(
        "BK007",
        ENGINE,
        ProblemKind(422, "invalid-hold-expiry", "Hold expiry is not in the future"),
        "A hold's requested `expires_at` is not in the future.",
    ),
    ErrorCode(
        "BK008",
        ENGINE,
        ProblemKind(404, "reservation-not-found", "Hold or booking not found"),
        "The hold, booking, conflict or customer (export, erasure) does not exist — or belongs to "
        "another customer (a customer never learns that someone else's id exists).",
    ),
    ErrorCode(
        "BK009",
        ENGINE,
        ProblemKind(403, "foreign-session", "Hold belongs to another session"),
        "The hold belongs to another session (release/convert with the wrong `session_id`).",
    ),
    ErrorCode(
        "BK010",
        ENGINE,
        ProblemKind(409, "invalid-state", "Reservation is not in a state that allows this"),
        "The reservation is in a state that does not allow this: converting a "
        "released/cancelled/preempted hold, releasing a booking, cancelling or rescheduling "
        "something that is not a confirmed booking, confirming a conflict not awaiting "
        "confirmation.",
    ),
    ErrorCode(
        "BK011",
        ENGINE,
        ProblemKind(422, "idempotency-key-reused", "Idempotency key used for another request"),
        "The `Idempotency-Key` was already used by this customer for a different request; "
        "nothing was written.",
    ),
    ErrorCode(
        "BK012",
        ENGINE,
        ProblemKind(422, "resource-not-eligible", "Resource does not perform this service"),
        "The named resource does not perform this service (or is inactive).",
    ),
    ErrorCode(
        "BK013",
        ENGINE,
        ProblemKind(422, "off-grid", "Start is not on the service's slot grid"),
        "The start is not on the service's slot grid (or is a non-existent local time).",
    ),
    ErrorCode(
        "BK014",
        ENGINE,
        INVALID_ARGUMENT,
        "An argument is missing or out of range (empty session or user id, `p_days` outside "
        "1 to 62, `p_limit` outside 1 to 1000, lease TTL, `p_booking_data` not an object, "
        "idempotency key length). Over HTTP the gateway checks `days`, `limit`, `ttl_seconds` and "
        "`booking_data` first and answers `422 validation-error` naming the field.",
    ),
    ErrorCode(
        "BK015",
        ENGINE,
        ProblemKind(403, "acting-as-another", "A customer can act only as itself"),
        "A customer tried to act as another subject (`user_id` ≠ its own `sub`).",
    ),
    ErrorCode(
        "BK016",
        ENGINE,
        ProblemKind(409, "too-many-holds", "Too many live holds at this location"),
        "The customer already has the location's maximum number of live holds.",
    ),
    ErrorCode(
        "BK017",
        ENGINE,
        ProblemKind(403, "role-required", "This needs another role"),
        "The caller may not do this. Either the JWT role: `api.resolve_conflict`, "
        "`api.erase_customer`, `api.audit_log` and the catalogue changes need `admin` (seen "
        "only by a session that may execute them outside a caller role, such as the owner or a "
        "trusted login role that sets claims as PostgREST does; the roles `booking_customer` and "
        "`booking_staff` have no EXECUTE on them and get `42501`), and staff may add and remove "
        "time off but no other schedule exception. Or the location: a staff or admin token whose "
        "`locations` claim does not name the location of what it touches (a reservation, "
        "conflict, catalogue entry), an admin with a `locations` claim opening a new location, "
        "or erasing a customer who has data at other locations.",
    ),
    ErrorCode(
        "BK018",
        ENGINE,
        ProblemKind(422, "invalid-catalogue-value", "Catalogue value not allowed"),
        "A catalogue change carries a value that is not allowed, named in the message: a name, "
        "duration, buffer, grid step, notice, advance, hold TTL, strategy, price, currency, "
        "capacity or `max_seats` out of range; a further pool's number (2 to 8), name, offsets "
        "or members; an unknown time zone (IANA names only, e.g. `Europe/Warsaw`); working hours "
        "whose end is not after their start or that overlap; an exception of the same kind "
        "overlapping another; a resource listed twice; a closed location; an id already taken.",
    ),
    ErrorCode(
        "BK019",
        ENGINE,
        ProblemKind(404, "catalogue-entry-not-found", "Location, resource or exception not found"),
        "The location, resource or schedule exception does not exist (a resource also when it "
        "belongs to another location than the one named; a location also when it is closed, for "
        "the public catalogue). An unknown service is `BK001`.",
    ),
    ErrorCode(
        "BK020",
        ENGINE,
        ProblemKind(409, "future-bookings", "It has future bookings"),
        "Deactivating a location, resource or service that still has future bookings or live "
        "holds; the message counts them. Cancel or move them first, or pass "
        "`p_cancel_future => true` to cancel them with the deactivation. Also lowering a "
        "resource's `capacity` below a seat that a future booking or live hold still uses.",
    ),
    ErrorCode(
        "BK021",
        ENGINE,
        ProblemKind(
            412, "catalogue-version-conflict", "The catalogue entry changed since you read it"
        ),
        "`p_expected_version` (`If-Match`) names a version the location, resource or service no "
        "longer has (its eligible resources and working hours count as changes of the service "
        "and the resource); nothing was written.",
    ),
    ErrorCode(
        "BK022",
        ENGINE,
        ProblemKind(422, "invalid-contact", "Contact details are not acceptable"),
        "The `contact` object of `booking_data` (`name`, `email`, `phone`, each optional) is not "
        "acceptable: not an object, an unknown or non-text detail, a name outside 1 to 200 "
        "characters, an e-mail that is not one address, or a phone that is not 6 to 15 digits with "
        "an optional leading `+`. Nothing was written.",
    ),
    ErrorCode(
        "BK023",
        ENGINE,
        ProblemKind(422, "pool-outside-service", "A pool is not needed within the service"),
        "A further pool of a service (`api.set_service_pools`) would start at or after the end of "
        "the appointment: its `starts_after` is not less than the service's duration (also when "
        "`api.update_service` shortens the duration below a pool's start). Nothing was written.",
    ),
    ErrorCode(
        "BK024",
        ENGINE,
        ProblemKind(422, "resource-in-two-pools", "A resource is in one pool of a service"),
        "A resource would be in two pools of one service: listed in two further pools, or in a "
        "further pool and among the resources that perform the service (its main pool). Take it "
        "out of the one it is in first. Nothing was written.",
    ),
    ErrorCode(
        "BK026",
        ENGINE,
        ProblemKind(422, "invalid-seats", "Seats out of range"),
        "`p_seats` (`seats`) is not between 1 and the service's `max_seats`, the most seats one "
        "hold or booking of it may take (1 for an appointment). Nothing was written.",
    ),
    ErrorCode(
        "BK027",
        ENGINE,
        ProblemKind(422, "not-enough-seats", "No resource has that many seats"),
        "No resource that could take the hold or booking has as many seats as asked for (its "
        "`capacity`): the named resource, or every eligible one working then; also a reschedule "
        "onto a resource smaller than the booking. Ask for fewer seats. Nothing was written.",
    ),
    ErrorCode(
        "BK029",
        ENGINE,
        ProblemKind(404, "waitlist-entry-not-found", "Waiting-list entry not found"),
        "The waiting-list entry does not exist — or belongs to another customer (a customer never "
        "learns that someone else's entry exists).",
    ),
    ErrorCode(
        "BK030",
        ENGINE,
        ProblemKind(409, "waitlist-entry-not-offered", "The entry has no open offer"),
        "Declining an offer of a waiting-list entry that is not offered (still waiting, or "
        "accepted, lapsed, left). Leave the list with `api.leave_waitlist` instead.",
    ),
    ErrorCode(
        "BK031",
        ENGINE,
        ProblemKind(409, "already-waiting", "Already on the waiting list for this slot"),
        "The customer already waits (or holds an offer) for this slot with other seats or "
        "another resource; the message names the entry. Joining again with the same ones returns "
        "that entry instead.",
    ),
    ErrorCode(
        "BK032",
        ENGINE,
        ProblemKind(409, "too-many-waitlist-entries", "Waiting for too many slots here"),
        "The customer already has the most live waiting-list entries (waiting or offered) a "
        "customer may have at one location (20); leave one first.",
    ),
    ErrorCode(
        "BK033",
        ENGINE,
        ProblemKind(404, "unknown-webhook-endpoint", "Unknown webhook endpoint"),
        "The webhook endpoint does not exist (or was deleted).",
    ),
    ErrorCode(
        "BK034",
        ENGINE,
        ProblemKind(422, "invalid-webhook-endpoint", "Invalid webhook endpoint values"),
        "A webhook endpoint's URL is not http(s) or too long, its event types are not 1-100 names "
        "like `booking:confirmed`, a rotation's grace period is outside 0-30 days, or a deliveries "
        "filter or redelivery range is invalid.",
    ),
    ErrorCode(
        "BK035",
        ENGINE,
        ProblemKind(404, "unknown-webhook-delivery", "No such webhook delivery"),
        "The endpoint has no delivery of the events named for redelivery.",
    ),
    ErrorCode(
        "BK037",
        ENGINE,
        ProblemKind(404, "feed-token-not-found", "Feed token not found"),
        "Revoking a calendar feed token that does not exist — or that the caller may not see: a "
        "customer sees only its own tokens, staff and admins only the tokens of resources.",
    ),
    ErrorCode(
        "BK038",
        ENGINE,
        ProblemKind(404, "unknown-feed", "No such calendar feed"),
        "The calendar feed URL names a token that is unknown, malformed or revoked (or belongs to "
        "an erased customer): all answer alike, so a feed URL tells nothing about other tokens.",
    ),
    ErrorCode(
        "BK039",
        ENGINE,
        ProblemKind(409, "too-many-feed-tokens", "Too many live feed tokens"),
        "The resource or customer already has the most live calendar feed tokens (10); revoke "
        "one first.",
    ),
    ErrorCode(
        "42501",
        POSTGRESQL,
        FORBIDDEN,
        "insufficient_privilege: the caller's database role has no EXECUTE on the function "
        "(e.g. a customer or staff token resolving a conflict, or a customer taking a lease).",
    ),
    ErrorCode(
        "22P02",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "invalid_text_representation: a value is not valid text for its type.",
    ),
    ErrorCode(
        "22007",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "invalid_datetime_format: a date or time cannot be read.",
    ),
    ErrorCode(
        "22008",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "datetime_field_overflow: a date or time is out of range.",
    ),
    ErrorCode(
        "22023",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "invalid_parameter_value: an argument is not acceptable (also what the gateway answers "
        "when the driver cannot send a value at all).",
    ),
    ErrorCode(
        "22021",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "character_not_in_repertoire: text with bytes that are not valid in the encoding.",
    ),
    ErrorCode(
        "22P05",
        POSTGRESQL,
        INVALID_ARGUMENT,
        "untranslatable_character: text with a character the database cannot store.",
    ),
    ErrorCode(
        "23514",
        POSTGRESQL,
        ProblemKind(422, "constraint-violated", "A value is outside what is allowed"),
        "check_violation: a check constraint refused a value that no `BKnnn` check caught first "
        "(a missing engine check).",
    ),
    ErrorCode(
        "40001",
        POSTGRESQL,
        None,
        "serialization_failure: retried by the gateway up to `MAX_RETRIES` with jittered "
        "backoff; only if every retry fails it is answered 500.",
    ),
    ErrorCode(
        "40P01",
        POSTGRESQL,
        None,
        "deadlock_detected: retried as `40001` is.",
    ),
    ErrorCode(
        "08xxx",
        POSTGRESQL,
        UNAVAILABLE,
        "connection_exception: the connection to the database was lost or could not be made.",
    ),
    ErrorCode(
        "53xxx",
        POSTGRESQL,
        UNAVAILABLE,
        "insufficient_resources: the database is out of connections, memory or disk.",
    ),
    ErrorCode(
        "57xxx",
        POSTGRESQL,
        UNAVAILABLE,
        "operator_intervention: the database is shutting down or cancelled the statement "
        "(e.g. `57014` query_canceled).",
    ),
    ErrorCode(
        "HOLD_CONFLICT",
        CONFLICT,
        ProblemKind(409, "hold-conflict", "The time is held by someone else"),
        "The time is held by someone else (may free up; `Retry-After` when known).",
    ),
    ErrorCode(
        "BOOKING_CONFLICT",
        CONFLICT,
        ProblemKind(409, "booking-conflict", "The time is already booked"),
        "The time is booked.",
    ),
    ErrorCode(
        "CACHE_CONFLICT",
        CONFLICT,
        ProblemKind(409, "cache-conflict", "The availability you saw is out of date"),
        "The caller acted on an out-of-date availability version.",
    ),
    ErrorCode(
        "VERSION_CONFLICT",
        CONFLICT,
        ProblemKind(412, "version-conflict", "The booking changed since you read it"),
        "`If-Match` named a version the booking no longer has.",
    ),
)


def codes_from(source: Source) -> tuple[ErrorCode, ...]:
    """The registered codes one source produces, in registry order."""
    return tuple(e for e in REGISTRY if e.source is source)


def answered_sqlstates() -> dict[str, ProblemKind]:
    """Exact SQLSTATE -> how the gateway answers it (classes and retried codes left out)."""
    return {
        e.code: e.answer
        for e in REGISTRY
        if e.source is not CONFLICT and not e.is_class and e.answer is not None
    }


def answered_conflicts() -> dict[str, ProblemKind]:
    """conflict_type -> how the gateway answers it."""
    return {e.code: e.answer for e in codes_from(CONFLICT) if e.answer is not None}


# SQLSTATEs the gateway retries (serialization_failure, deadlock_detected).
RETRYABLE = frozenset(e.code for e in REGISTRY if e.answer is None)
