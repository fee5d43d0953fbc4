-- Local wall-clock times: the instant a time on the location's clock names, refusing one that never
-- happens there.
--
-- A timestamptz argument is converted by PostgreSQL before any function sees it: the non-existent
-- '2027-03-28 02:30 Europe/Warsaw' (skipped when clocks jump from 02:00 to 03:00) silently becomes
-- 03:30 CEST, which is on the grid, so the engine cannot tell. A caller who holds a wall-clock time
-- passes it here as timestamp without time zone, in the service's own zone, and gets BK013 instead.

-- resolve_local_time
-- the instant a wall-clock time at a service's location names; BK013 when that time does not exist.
create or replace function api.resolve_local_time(p_service_id uuid, p_local_time timestamp without time zone)
returns timestamptz
language plpgsql stable strict
security definer
set search_path = ''
as $$
declare
  v_svc booking.services := booking.active_service(p_service_id);
  v_zone text := booking.location_zone(v_svc.location_id);
  v_at timestamptz := p_local_time at time zone v_zone;
begin
  -- a time in a spring-forward gap comes back shifted by the jump: reading the instant on the same
  -- clock does not give the time we started from
  if (v_at at time zone v_zone) <> p_local_time then
    raise exception 'the local time % does not exist in %: the clocks skip it', p_local_time, v_zone
      using errcode = 'BK013',
            hint = 'Choose a time that exists on the location''s clock, e.g. a start_time from get_availability.';
  end if;
  return v_at;
end;
$$;
comment on function api.resolve_local_time(uuid, timestamp without time zone) is
  'The instant that a wall-clock time (timestamp without time zone) names at the service''s location. A time that never happens there (in the gap when clocks jump forward, e.g. 02:30 on 2027-03-28 in Europe/Warsaw) raises BK013. A time that happens twice (when clocks fall back, e.g. 02:30 on 2027-10-31 in Europe/Warsaw) means its second occurrence, in standard time: the reading PostgreSQL gives and the one get_availability offers (the first occurrence is off the slot grid). NULL in, NULL out. Functions that take a timestamptz get PostgreSQL''s conversion, which moves a non-existent time forward by the jump; pass wall-clock times through this function to refuse them instead, e.g. create_hold_atomic(..., p_start_time => api.resolve_local_time(service, ''2027-03-28 02:30''), ...). Errors: BK001, BK002, BK013.';

revoke execute on function api.resolve_local_time(uuid, timestamp without time zone) from public;
grant execute on function api.resolve_local_time(uuid, timestamp without time zone)
  to booking_customer, booking_staff, booking_admin;
