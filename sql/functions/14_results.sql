-- Results: the status a caller reads, and the success objects of holds and bookings. Internal helpers
-- (schema booking), not granted to any caller role. Single SQL expressions with no SET clause, so
-- that PostgreSQL inlines them (the inlining rule, 10_caller.sql).

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

-- reservation_result
-- the success object of convert, direct booking, cancel and reschedule. One expression with no SET
-- clause, so PostgreSQL inlines it (as the top of this file says); stable, not
-- immutable, because a timestamptz in JSON depends on the TimeZone setting (an immutable function
-- whose body is not immutable is not inlined).
create or replace function booking.reservation_result(p_r booking.reservations) returns jsonb
language sql stable
as $$
  select jsonb_build_object('success', true, 'booking_id', p_r.id, 'status', p_r.status,
                            'version', p_r.version, 'resource_id', p_r.resource_id,
                            'start_time', p_r.starts_at, 'end_time', p_r.ends_at);
$$;
comment on function booking.reservation_result(booking.reservations) is
  'The success object of convert, direct booking, cancel and reschedule: {success, booking_id, status, version, resource_id, start_time, end_time}.';

-- taken_result
-- the success object of a new hold ({success, hold_id, ..., expires_at, version}) or booking
-- (reservation_result), whether the direct path or a conflict strategy made it.
create or replace function booking.taken_result(p_r booking.reservations) returns jsonb
language sql stable
as $$
  select case when p_r.status = 'held'
    then jsonb_build_object('success', true, 'hold_id', p_r.id, 'resource_id', p_r.resource_id,
                            'start_time', p_r.starts_at, 'end_time', p_r.ends_at,
                            'expires_at', p_r.expires_at, 'version', p_r.version)
    else booking.reservation_result(p_r) end;
$$;
comment on function booking.taken_result(booking.reservations) is
  'The success object of a new hold ({success, hold_id, resource_id, start_time, end_time, expires_at, version}) or, for a booking, reservation_result.';
