-- Results: the status a caller reads, the success objects of holds and bookings, and the local wall
-- times that go with every time a result carries. Internal helpers (schema booking), not granted to
-- any caller role. Single SQL expressions with no SET clause, so that PostgreSQL inlines them (the
-- inlining rule, 10_caller.sql).
--
-- Local times. Every time of an appointment a result carries (start_time, end_time: instants, JSON
-- with an offset) comes with the location's IANA zone (time_zone) and the wall-clock time there
-- (start_local, end_local: ISO 8601 local date-times without an offset, e.g. "2031-03-30T10:00:00"),
-- so that a client needs no zone database. A timestamp without time zone is written to JSON in ISO
-- 8601 whatever the DateStyle. The zone is a parameter, not looked up here: a lookup would be a
-- subquery, and a function with one is not inlined; the callers have the zone at hand.

-- the one-parameter forms before time_zone, start_local and end_local would linger beside the new ones:
drop function if exists booking.taken_result(booking.reservations);
drop function if exists booking.reservation_result(booking.reservations);

-- effective_status
-- the status a caller reads: a hold whose expires_at has passed is expired, whether or not a cleanup
-- has marked it yet (the same rule every write applies before it takes the time).
create or replace function booking.effective_status(p_r booking.reservations) returns text
language sql stable
as $$
  select case when p_r.status = 'held' and p_r.expires_at <= now() then 'expired' else p_r.status end;
$$;
comment on function booking.effective_status(booking.reservations) is
  'The status callers read: held with a passed expires_at reads as expired even before cleanup marks it.';

-- local_span
-- a span of time as a result carries it: the instants, the zone and the wall-clock times there.
create or replace function booking.local_span(p_start timestamptz, p_end timestamptz, p_zone text) returns jsonb
language sql stable
as $$
  select jsonb_build_object('start_time', p_start, 'end_time', p_end, 'time_zone', p_zone,
                            'start_local', p_start at time zone p_zone, 'end_local', p_end at time zone p_zone);
$$;
comment on function booking.local_span(timestamptz, timestamptz, text) is
  'A span of time as JSON: {start_time, end_time, time_zone, start_local, end_local}; the *_local values are the wall-clock times in p_zone (ISO 8601 without an offset).';

-- reservation_result
-- the success object of convert, direct booking, cancel and reschedule. One expression with no SET
-- clause, so PostgreSQL inlines it (as the top of this file says); stable, not
-- immutable, because a timestamptz in JSON depends on the TimeZone setting (an immutable function
-- whose body is not immutable is not inlined). p_zone is the location's zone: pass a variable, not a
-- call (a costly argument used more than once stops the inlining).
create or replace function booking.reservation_result(p_r booking.reservations, p_zone text) returns jsonb
language sql stable
as $$
  select jsonb_build_object('success', true, 'booking_id', p_r.id, 'status', p_r.status,
                            'version', p_r.version, 'resource_id', p_r.resource_id, 'seats', p_r.seats,
                            'start_time', p_r.starts_at, 'end_time', p_r.ends_at, 'time_zone', p_zone,
                            'start_local', p_r.starts_at at time zone p_zone,
                            'end_local', p_r.ends_at at time zone p_zone);
$$;
comment on function booking.reservation_result(booking.reservations, text) is
  'The success object of convert, direct booking, cancel and reschedule: {success, booking_id, status, version, resource_id, seats, start_time, end_time, time_zone, start_local, end_local} (seats: how many seats of the resource it takes); p_zone is the location''s time zone.';

-- taken_result
-- the success object of a new hold ({success, hold_id, ..., expires_at, version}) or booking
-- (reservation_result), whether the direct path or a conflict strategy made it.
create or replace function booking.taken_result(p_r booking.reservations, p_zone text) returns jsonb
language sql stable
as $$
  select case when p_r.status = 'held'
    then jsonb_build_object('success', true, 'hold_id', p_r.id, 'resource_id', p_r.resource_id,
                            'start_time', p_r.starts_at, 'end_time', p_r.ends_at,
                            'expires_at', p_r.expires_at, 'version', p_r.version, 'seats', p_r.seats,
                            'time_zone', p_zone,
                            'start_local', p_r.starts_at at time zone p_zone,
                            'end_local', p_r.ends_at at time zone p_zone)
    else booking.reservation_result(p_r, p_zone) end;
$$;
comment on function booking.taken_result(booking.reservations, text) is
  'The success object of a new hold ({success, hold_id, resource_id, start_time, end_time, expires_at, version, seats, time_zone, start_local, end_local}) or, for a booking, reservation_result; p_zone is the location''s time zone.';
