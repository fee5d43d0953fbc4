"""Generates from the database catalog docs/SQL_API.md (signature, result and COMMENT of every
api.* function, plus a psql example from EXAMPLES) and gateway/http/sql_comments.json (each
function's COMMENT, which the OpenAPI document uses as the description of the operation calling
it). `python -m gateway.cli.sqldoc DATABASE_URL` writes both."""

from __future__ import annotations

import json
import sys

import psycopg

from gateway.http.openapi import SQL_COMMENTS
from gateway.paths import PROJECT_ROOT

SQL_API_DOC = PROJECT_ROOT / "docs" / "SQL_API.md"

SVC = "'30000000-0000-4000-8000-000000000001'"
LOC = "'10000000-0000-4000-8000-000000000001'"
ANNA = "'20000000-0000-4000-8000-000000000001'"
CELINA = "'20000000-0000-4000-8000-000000000003'"
COLOURING = "'30000000-0000-4000-8000-000000000004'"
WASH = "20000000-0000-4000-8000-000000000005"
MONDAYS = '[{"weekday": 1, "start": "09:00", "end": "13:00"},\n  {"weekday": 1, "start": "14:00", "end": "18:00"}]'
SATURDAY = '[{"start": "10:00", "end": "16:00"}]'
EXAMPLES: dict[str, str] = {
    "get_availability": f"select * from api.get_availability({SVC}, '2026-12-07', p_days => 2);",
    "availability_version": f"select api.availability_version({SVC}, '2026-12-07');",
    "validate_service_availability": f"select api.validate_service_availability({SVC}, '2026-12-07', '10:00');",
    "create_hold_atomic": (
        f"select api.create_hold_atomic(null, 'alice', {SVC},\n"
        "  '2026-12-07 10:00 Europe/Warsaw', '2026-12-07 11:00 Europe/Warsaw', null, 'session-1');\n"
        "-- three mats of a yoga class (a service with max_seats >= 3, a room with a capacity)\n"
        "select api.create_hold_atomic(null, 'alice', '<yoga_service_id>',\n"
        "  '2026-12-07 18:00 Europe/Warsaw', null, null, 'session-1', p_seats => 3);"
    ),
    "convert_hold_to_booking": (
        "select api.convert_hold_to_booking('<hold_id>', 'session-1',\n"
        '  \'{"note": "first visit", "contact": {"email": "alice@example.com"}}\');'
    ),
    "create_booking_atomic": (
        f"select api.create_booking_atomic({SVC}, '2026-12-07 12:00 Europe/Warsaw', 'bob',\n"
        '  \'{"contact": {"name": "Bob Nowak", "phone": "+48 600 000 000"}}\','
        " p_idempotency_key => 'desk-0001');"
    ),
    "release_hold": "select api.release_hold('<hold_id>', 'session-1');",
    "resolve_local_time": (
        f"select api.resolve_local_time({SVC}, '2027-03-28 10:30');  -- 08:30 UTC: 10:30 CEST\n"
        f"select api.create_hold_atomic(null, 'alice', {SVC},\n"
        f"  api.resolve_local_time({SVC}, '2027-03-28 02:30'), null, null, 'session-1');  -- BK013"
    ),
    "cancel_booking": "select api.cancel_booking('<booking_id>', 'ill', p_expected_version => 2);",
    "reschedule_booking": "select api.reschedule_booking('<booking_id>', '2026-12-07 10:15 Europe/Warsaw', 2);",
    "get_reservation": "select api.get_reservation('<booking_id>');",
    "list_customer_reservations": "select api.list_customer_reservations('alice');",
    "cleanup_expired_holds": "select api.cleanup_expired_holds();",
    "cleanup_waitlist": "select api.cleanup_waitlist();",
    "join_waitlist": (
        f"select api.join_waitlist('carol', {SVC}, '2026-12-07 10:00 Europe/Warsaw');"
        "  -- taken: waiting, position 1\n"
        f"select api.join_waitlist('dora', {SVC}, '2026-12-07 10:00 Europe/Warsaw', {ANNA});"
        "  -- Anna only"
    ),
    "get_waitlist_entry": "select api.get_waitlist_entry('<entry_id>');  -- status, position, offer",
    "leave_waitlist": "select api.leave_waitlist('<entry_id>');",
    "decline_offer": "select api.decline_offer('<entry_id>');  -- the next in line is offered the time",
    "list_waitlist": f"select api.list_waitlist({SVC}, '2026-12-07 10:00 Europe/Warsaw');",
    "list_customer_waitlist": "select api.list_customer_waitlist('carol');",
    "create_resource_feed_token": (
        f"select api.create_resource_feed_token({ANNA});  -- staff: token shown once, and its path"
    ),
    "create_customer_feed_token": "select api.create_customer_feed_token('carol');",
    "resource_feed_tokens": f"select api.resource_feed_tokens({ANNA});  -- ids to revoke",
    "customer_feed_tokens": "select api.customer_feed_tokens('carol');",
    "revoke_feed_token": "select api.revoke_feed_token('<token_id>');  -- the URL answers 404",
    "feed_version": "select api.feed_version('r_<64 hex digits>');  -- ETag; 0: do not cache",
    "resource_feed": "select api.resource_feed('r_<64 hex digits>');",
    "customer_feed": "select api.customer_feed('c_<64 hex digits>');",
    "create_webhook_endpoint": (
        f"select api.create_webhook_endpoint({LOC}, 'https://crm.example.com/hooks/booking',\n"
        "  array['booking:confirmed', 'booking:cancelled']);  -- the secret is shown only here"
    ),
    "update_webhook_endpoint": "select api.update_webhook_endpoint('<endpoint_id>', p_active => true);",
    "delete_webhook_endpoint": "select api.delete_webhook_endpoint('<endpoint_id>');",
    "get_webhook_endpoint": "select api.get_webhook_endpoint('<endpoint_id>');",
    "list_webhook_endpoints": f"select api.list_webhook_endpoints({LOC});",
    "rotate_webhook_secret": "select api.rotate_webhook_secret('<endpoint_id>', '24 hours');",
    "list_webhook_deliveries": "select api.list_webhook_deliveries('<endpoint_id>', 'dead');",
    "redeliver_webhooks": "select api.redeliver_webhooks('<endpoint_id>', 1040, 1042);",
    "webhook_enqueue": "select api.webhook_enqueue(1000);  -- the delivery worker",
    "webhook_due": "select * from api.webhook_due(50, 100);  -- the delivery worker",
    "webhook_delivered": (
        "select api.webhook_delivered(array[17, 18], array[204, 200], array['', 'ok'], array[12, 9]);"
    ),
    "webhook_record": (
        "select api.webhook_record(17, false, 503, 'HTTP 503', 'busy', 120);  -- the delivery worker"
    ),
    "cleanup_expired_locks": "select api.cleanup_expired_locks();",
    "cleanup_expired_idempotency_keys": "select api.cleanup_expired_idempotency_keys();",
    "acquire_lock": "select api.acquire_lock('maintenance', 'gateway-1', '30 seconds');",
    "renew_lock": "select api.renew_lock('maintenance', 'gateway-1', 42, '30 seconds');",
    "release_lock": "select api.release_lock('maintenance', 'gateway-1', 42);",
    "resolve_conflict": "select api.resolve_conflict('<conflict_id>', 'grant_requester', 'VIP');",
    "confirm_conflict": "select api.confirm_conflict('<conflict_id>', true);",
    "conflict_metrics": "select api.conflict_metrics('1 day');",
    "active_conflicts": "select * from api.active_conflicts();",
    "conflict_recommendations": "select * from api.conflict_recommendations();",
    "health": "select api.health();",
    "locate": f"select api.locate({SVC}) as location_id;  -- as the gateway's login role",
    "list_locations": "select * from api.list_locations();",
    "location_services": f"select * from api.location_services({LOC});",
    "get_service": f"select * from api.get_service({SVC});",
    "service_resources": f"select * from api.service_resources({COLOURING});",
    "service_pools": f"select * from api.service_pools({COLOURING});  -- the wash station",
    "location_schedule": (
        f"select jsonb_pretty(api.location_schedule({LOC}, '2026-12-07'));\n"
        f"select api.location_schedule({LOC}, '2026-12-07',"
        " p_resource_id => '20000000-0000-4000-8000-000000000001');  -- Anna only"
    ),
    "search_bookings": (
        f"select api.search_bookings({LOC}, 'nowak', p_from => '2026-12-01', p_to => '2026-12-31',\n"
        "  p_statuses => array['confirmed'], p_limit => 20);\n"
        "-- the next page: the last page's next.after_start and next.after_id\n"
        f"select api.search_bookings({LOC}, 'nowak', p_limit => 20,\n"
        "  p_after_start => '2026-12-07 11:00+00', p_after_id => '<booking_id>');"
    ),
    "popular_services": "select * from api.popular_services('7 days', 10);",
    "export_customer": "select api.export_customer('alice');",
    "erase_customer": "select api.erase_customer('alice');",
    "audit_log": "select api.audit_log('<booking_id>');",
    "last_event_id": "select api.last_event_id();",
    "newest_event_id": "select api.newest_event_id() > api.last_event_id() as events_coming;",
    "read_events": (
        "select id, type, topics from api.read_events(0, 20,"
        " array['availability:30000000-0000-4000-8000-000000000001:2026-12-07']);"
    ),
    "event_retention": "select api.event_retention();",
    "event_retention_horizon": "select api.event_retention_horizon();",
    "prune_events": "select api.prune_events('7 days');",
    "create_location": "select api.create_location('Studio Wola', 'Europe/Warsaw', p_max_live_holds_per_customer => 2);",
    "update_location": (
        f"select api.update_location({LOC}, p_expected_version => 1, p_name => 'Studio Mokotów II');\n"
        f"select api.update_location({LOC}, p_active => false, p_cancel_future => true);  -- closes it"
    ),
    "create_resource": (
        f"select api.create_resource({LOC}, 'Daria');  -- kind staff; or 'room', 'equipment'\n"
        f"select api.create_resource({LOC}, 'Yoga room', 'room', p_capacity => 12);  -- 12 at once"
    ),
    "update_resource": (
        f"select api.update_resource({ANNA}, p_expected_version => 1, p_name => 'Anna K.');\n"
        f"select api.update_resource({ANNA}, p_active => false);  -- BK020 while she has future bookings"
    ),
    "create_service": (
        f"select api.create_service({LOC}, 'Pedicure', '50 minutes', p_buffer_after => '10 minutes',\n"
        "  p_min_notice => '2 hours', p_price => 140, p_currency => 'PLN');"
    ),
    "update_service": (
        f"select api.update_service({SVC}, p_expected_version => 1, p_price => 130,"
        " p_hold_ttl => '5 minutes');"
    ),
    "set_service_resources": (
        f"select api.set_service_resources({SVC}, array[{CELINA}, {ANNA}]::uuid[]);"
        "  -- Celina first"
    ),
    "set_service_pools": (
        f'select api.set_service_pools({COLOURING}, \'[{{"pool": 2, "name": "Wash station",\n'
        f'  "lasts": "20 minutes", "resource_ids": ["{WASH}"]}}]\');'
        "  -- its first 20 minutes"
    ),
    "set_working_hours": (
        f"select api.set_working_hours({ANNA}, '{MONDAYS}');  -- the whole week: Mondays only\n"
        f"select api.set_working_hours({ANNA}, '{SATURDAY}', p_weekday => 6);  -- Saturdays"
    ),
    "add_schedule_exception": (
        f"select api.add_schedule_exception({LOC}, 'time_off', '2026-12-07 12:00 Europe/Warsaw',\n"
        f"  '2026-12-07 15:00 Europe/Warsaw', {ANNA}, 'dentist');\n"
        f"select api.add_schedule_exception({LOC}, 'closure', '2026-12-24 00:00 Europe/Warsaw',"
        " '2026-12-27 00:00 Europe/Warsaw');"
    ),
    "remove_schedule_exception": "select api.remove_schedule_exception('<exception_id>');",
    "catalogue_audit": f"select api.catalogue_audit(p_entity_id => {SVC}, p_limit => 20);",
}

CATALOG_QUERY = """
select p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
       coalesce(obj_description(p.oid, 'pg_proc'), ''), p.provolatile::text
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'api'
order by p.proname, pg_get_function_arguments(p.oid)
"""

HEADER = """# SQL API reference

Generated from the database catalog by `python -m gateway.cli.sqldoc` (a test fails when this file
is stale). Every function is in schema `api`, `SECURITY DEFINER` with `search_path` pinned;
callers need `EXECUTE` (see docs/SECURITY.md for who has it). Outcomes of normal life (a
conflict, an expired hold) come back as `jsonb` with `"success": false`; invalid requests raise
a `BKnnn` SQLSTATE listed in [ERRORS.md](ERRORS.md). Callers identify themselves with
PostgREST's convention: `select set_config('request.jwt.claims', '{"sub":"alice","role":"customer"}', true)`;
a session without claims is a trusted operator. Examples use the demo salon of `make run`.

## Conflict strategies

When a hold or direct booking finds its time taken, the service's `conflict_strategy` decides
(`booking.settle_conflict`); every conflict is recorded in `booking.conflicts` with the strategy
and its outcome, and the requester gets a `conflict:detected` event.

| strategy | what happens to the attempt | outcome |
|---|---|---|
| `first_come_first_serve` (default) | refused; the existing reservation stays | `refused` |
| `last_wins` | preempts the older *holds* in the way (never a confirmed booking) and succeeds | `preempted` |
| `priority_based` | as `last_wins`, only when the requester's `customers.priority` beats every holder's | `preempted` / `refused` |
| `rollback_all` | the holds in the way are dropped and the attempt is refused too | `rolled_back` |
| `consensus` | refused with `status: awaiting_confirmation` and an `offered` alternative; `api.confirm_conflict` accepts or declines it | `offered_alternative` |
| `arbitration` | placed with another eligible resource at the same time, else at the nearest free time (under a per service-and-day advisory lock); the result says which | `other_resource` / `nearest_time` |
| `admin_intervention` | refused and escalated (`status: open`) until an admin calls `api.resolve_conflict` | `escalated` |

A preempted hold gets status `preempted`, which emits `hold:preempted` to its holder.
Conflict types: `HOLD_CONFLICT` (only holds in the way), `BOOKING_CONFLICT`, `CACHE_CONFLICT`
(the caller passed `p_seen_version` older than the change that took the slot) and
`VERSION_CONFLICT` (a stale `p_expected_version` on cancel or reschedule).

## Classes and seats

A resource has a `capacity` (seats; 1 for a stylist, 12 for a yoga room with 12 mats) and a
service a `max_seats` (the most seats one hold or booking may take; 1 for an appointment). A
class is a service performed by a resource with a capacity; a session is one of its slots.
`create_hold_atomic` and `create_booking_atomic` take `p_seats` (default 1): that many seats of
one resource, all or nothing (`BK026` outside 1..`max_seats`, `BK027` when no eligible resource
has that many seats). Seats are taken seat 1 first, then up, each seat a unit of its own under
the exclusion constraint, so the last seat goes to exactly one caller. Results and reservation
views carry `seats`; `get_availability` and `validate_service_availability` carry `seats_left`
(the seats free for the whole slot over the free resources; a start shows while one seat is
free). A conflict's alternatives offer starts where as many seats as asked for are free on one
resource. Releasing, converting, cancelling or expiring a reservation acts on all its seats; a
reschedule takes its seats afresh at the new time.

## Waiting lists

A customer waits for a taken slot (a booked appointment, a full class) with
`api.join_waitlist`; its place in line is its join time, and `api.get_waitlist_entry` shows its
`position`. When time frees there (a cancel, a release, a hold that expires, lazily or by
`api.cleanup_expired_holds`, a booking rescheduled away, a preempted hold), the first waiter it
fits is offered it **in the same transaction**: a hold for that customer with the service's hold
TTL and `session_id` `waitlist:<entry_id>`, and a `waitlist:offered` event on `user:<subject>`.
The offer converts like any hold:

```sql
select api.convert_hold_to_booking('<offer hold_id>', 'waitlist:<entry_id>', '{}');  -- entry: accepted
```

`api.decline_offer` (or releasing the hold) declines it, and an offer whose hold expires lapses;
either way the time goes to the next in line at once. A waiter at the live-hold cap, or whose
start is beyond the advance limit, is passed over and keeps its place; one whose start can no
longer be booked (past, inside the notice, the service retired) lapses. A waiter wanting two seats
of a class is offered when two are free at once; a one-seat waiter behind it may take a single
freed seat first. Joining a slot that is free is an offer at once. Entry statuses: `waiting`,
`offered`, `accepted`, `declined`, `lapsed`, `left`.

## Multi-resource services

Besides the resources that perform it for its whole duration (its main pool,
`api.set_service_resources`), a service may need further pools (`api.set_service_pools`): the
demo's Colouring needs the wash station for its first 20 minutes. A pool has a number (2 to 8),
a name, when it is needed (`starts_after` from the appointment's start, for `lasts`, NULL: until
the end) and its members in preference order; a resource is in one pool of a service at most
(`BK024`), and a pool starts within the duration (`BK023`). A hold or booking takes one member
of every pool, all or nothing, each for its part of the appointment, with the service's buffer
before where that part starts with the appointment and its buffer after where it lasts to its
end. Availability, `validate_service_availability` and the alternatives of a conflict show a start
only when every pool has a member free then; a hold where nobody of a pool works is `BK003`.
When a further pool was what was taken (a stylist was free), the conflict object says which:
`"pool": {"pool": 2, "name": "Wash station"}` (kept in `booking.conflicts.detail`). The
strategies act on the main pool: with a further pool taken, nothing is preempted or rolled back
(`last_wins`, `priority_based` and `rollback_all` refuse), `consensus` offers and `arbitration`
places at a time every pool has free, and `admin_intervention` escalates; `last_wins` and
`priority_based` preempt the holds on a stylist only when every pool would then be free. A
reschedule keeps the booking's members, each unit moved by as much as the start: each must work
then (`BK003`) and be free (else a conflict naming the pool; the booking keeps its time).

## Calendar feeds

Calendar apps poll a URL and send no bearer token, so a feed is read by a secret token:
`api.create_resource_feed_token` (staff and admins of the resource's location) and
`api.create_customer_feed_token` (a customer, as itself) make one (`r_` or `c_` and 64 hex digits)
and show it once; only its sha256 is stored. `api.resource_feed_tokens` and
`api.customer_feed_tokens` list the live ones (never the secrets), `api.revoke_feed_token` revokes
one by id (at most 10 live tokens per resource or customer, `BK039`). `api.resource_feed` and
`api.customer_feed` return the bookings the gateway writes as iCalendar: confirmed ones (never holds) starting from 30
days back to 180 days ahead, and cancelled ones for 7 days after their cancellation (status
`cancelled`); a resource's feed names each customer by display name only, a customer's feed shows
only its own bookings. `api.feed_version`, read first in its own statement, is the newest event
touching the feed (as `api.availability_version`). An unknown, malformed or revoked token is
`BK038` everywhere.

## Local times

Every result that carries the time of an appointment (`start_time`, `end_time`: instants, with an
offset) also carries the location's IANA zone (`time_zone`) and the wall-clock times there
(`start_local`, `end_local`: ISO 8601 without an offset, e.g. `"2031-03-30T03:00:00"`), so a
client needs no zone database: hold and booking results, the conflict object (`time_zone`) and
each of its alternatives, availability slots, `validate_service_availability`, `get_reservation`
and `list_customer_reservations`, the staff day view and search. A day is the location's local
day (23 or 25 hours when the clocks change). Deadlines (`expires_at`, `retry_after`,
`created_at`) are instants only.

## Customer contact details

`booking_data` may carry `"contact": {"name": ..., "email": ..., "phone": ...}` (each optional)
with `create_booking_atomic` or `convert_hold_to_booking`. The details are checked (`BK022`:
nothing is written), normalized (white space in the name collapsed, the e-mail's domain in lower
case, the phone as its digits with an optional leading `+`) and kept on the customer, not in the
booking's `details`; a detail left out keeps its stored value. Staff see them in
`location_schedule` and `search_bookings`; `export_customer` shows them; `erase_customer`
clears them.

## Leases

`api.acquire_lock(key, owner, ttl)` returns a fencing token drawn from one sequence for all keys,
so it grows strictly and never repeats, even after a lease row is removed; `NULL` while another
owner holds a live lease. A lapsed lease is taken over by the next caller. Only the owner with
the current token renews (`api.renew_lock`) or releases (`api.release_lock`); a stale token gets
`false`. Pass the token to whatever the lease protects, and refuse smaller tokens there.
Transaction-scoped advisory locks used inside the engine are listed in ARCHITECTURE.md.
"""


def render(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(CATALOG_QUERY).fetchall()
    parts = [HEADER]
    for name, args, result, comment, volatility in rows:
        kind = {"s": "stable", "i": "immutable", "v": "volatile"}[volatility]
        example = EXAMPLES.get(name, "")
        parts.append(
            f"\n## api.{name}\n\n```sql\napi.{name}({args})\n  returns {result}  -- {kind}\n```\n\n"
            f"{comment}\n\n```sql\n{example}\n```\n"
        )
    return "".join(parts)


def render_comments(database_url: str) -> str:
    """{"api.<function>": COMMENT} of every api function, as JSON."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(CATALOG_QUERY).fetchall()
    comments = {f"api.{name}": comment for name, _, _, comment, _ in rows}
    return json.dumps(comments, indent=2, ensure_ascii=False) + "\n"


def write(database_url: str) -> None:
    SQL_API_DOC.write_text(render(database_url), encoding="utf-8")
    SQL_COMMENTS.write_text(render_comments(database_url), encoding="utf-8")
    print(f"wrote {SQL_API_DOC} and {SQL_COMMENTS}")


def missing_examples(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute(CATALOG_QUERY).fetchall()]
    return sorted({n for n in names if n not in EXAMPLES})


def main(argv: list[str]) -> int:
    write(argv[1] if len(argv) > 1 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
