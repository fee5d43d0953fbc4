-- The schedule: when a resource works, what is busy, the free slots of a service, whether a start is
-- bookable and on which resources, and making lapsed holds in the way of a write free. Internal
-- helpers (schema booking), not granted to any caller role.
--
-- Hot-path plans. PL/pgSQL (and, from PostgreSQL 18, SQL functions) keep a statement's plan for the
-- whole session once it has run a few times, and a plan made while booking.reservations was nearly
-- empty is a sequential scan, kept as the table grows. Every function that reads or writes
-- reservations on a hot path therefore runs with enable_seqscan = off (here busy_time and
-- expire_overlapping_holds; also nearest_free_starts, alternatives, blocking_reservation and the api
-- functions): each of its statements has an index that answers it, and the planner chooses among
-- those. Each statement is also written so that the index it is meant to use is the cheapest one
-- whatever the statistics say (see expire_overlapping_holds and booking.live_hold_cap_reached);
-- tests/test_hot_path_plans.py checks the plans a session actually keeps after 5,000 live holds
-- arrive at one location. See docs/ARCHITECTURE.md, "Hot-path plans".

-- working_time
-- when a resource works between two local days (inclusive): weekly hours plus extra hours,
-- minus time off and closures, as a multirange of instants.
create or replace function booking.working_time(
  p_location_id uuid, p_resource_id uuid, p_zone text, p_from date, p_to date)
returns tstzmultirange
language sql stable
set search_path = ''
as $$
  with bounds as (
    select (p_from::timestamp at time zone p_zone) as lo, ((p_to + 1)::timestamp at time zone p_zone) as hi
  ),
  weekly as (
    select tstzrange((d::date + lower(w.hours)) at time zone p_zone,
                     (d::date + upper(w.hours)) at time zone p_zone) as r
    from generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') d
    join booking.working_hours w
      on w.location_id = p_location_id and w.resource_id = p_resource_id
     and w.weekday = extract(isodow from d)::smallint
  ),
  extra as (
    select e.period as r
    from booking.schedule_exceptions e, bounds b
    where e.location_id = p_location_id and e.resource_id = p_resource_id
      and e.kind = 'extra_hours' and e.period && tstzrange(b.lo, b.hi)
  ),
  away as (
    select e.period as r
    from booking.schedule_exceptions e, bounds b
    where e.location_id = p_location_id
      and (e.resource_id = p_resource_id or (e.resource_id is null and e.kind = 'closure'))
      and e.kind in ('time_off', 'closure') and e.period && tstzrange(b.lo, b.hi)
  )
  select coalesce((select range_agg(r) from (select r from weekly union all select r from extra) u
                   where not isempty(r)), '{}'::tstzmultirange)
       - coalesce((select range_agg(r) from away), '{}'::tstzmultirange);
$$;
comment on function booking.working_time(uuid, uuid, text, date, date) is
  'Working time of a resource over local days [p_from, p_to]: weekly hours + extra hours - time off - closures.';

-- works_during
-- whether a resource works for the whole of [p_start, p_end). The hot path checks one weekly window
-- or extra-hours period directly; only when that fails does it build the exact multirange of
-- working_time (which also joins adjacent windows and slots that cross midnight).
create or replace function booking.works_during(
  p_location_id uuid, p_resource_id uuid, p_zone text, p_start timestamptz, p_end timestamptz)
returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
  v_slot tstzrange := tstzrange(p_start, p_end);
  v_day date := (p_start at time zone p_zone)::date;
begin
  if exists (select 1 from booking.schedule_exceptions e
             where e.location_id = p_location_id
               and (e.resource_id = p_resource_id or (e.resource_id is null and e.kind = 'closure'))
               and e.kind in ('time_off', 'closure') and e.period && v_slot) then
    return false;
  end if;
  if exists (select 1 from booking.working_hours w
             where w.location_id = p_location_id and w.resource_id = p_resource_id
               and w.weekday = extract(isodow from v_day)::smallint
               and tstzrange((v_day + lower(w.hours)) at time zone p_zone,
                             (v_day + upper(w.hours)) at time zone p_zone) @> v_slot)
     or exists (select 1 from booking.schedule_exceptions e
                where e.location_id = p_location_id and e.resource_id = p_resource_id
                  and e.kind = 'extra_hours' and e.period @> v_slot) then
    return true;
  end if;
  return booking.working_time(p_location_id, p_resource_id, p_zone, v_day, (p_end at time zone p_zone)::date)
         @> v_slot;
end;
$$;
comment on function booking.works_during(uuid, uuid, text, timestamptz, timestamptz) is
  'True when a resource works the whole of [p_start, p_end): same answer as working_time @> slot, faster in the common case.';

-- busy_time
-- time a new appointment of this service may not overlap on one seat of a resource: every live
-- unit's occupied range widened by the new appointment's buffers (after-buffer before it,
-- before-buffer after it).
drop function if exists booking.busy_time(uuid, uuid, tstzrange, interval, interval, timestamptz, uuid);
create or replace function booking.busy_time(
  p_location_id uuid, p_resource_id uuid, p_window tstzrange,
  p_buffer_before interval, p_buffer_after interval, p_now timestamptz, p_ignore uuid default null,
  p_seat integer default 1)
returns tstzmultirange
language sql stable
set search_path = ''
set enable_seqscan = off
as $$
  select coalesce(range_agg(tstzrange(lower(u.occupied) - p_buffer_after, upper(u.occupied) + p_buffer_before)),
                  '{}'::tstzmultirange)
  from booking.units u
  where u.location_id = p_location_id and u.resource_id = p_resource_id and u.seat = p_seat
    and u.status in ('held', 'confirmed')
    and (u.status = 'confirmed' or u.expires_at > p_now)
    and u.occupied && p_window
    and u.reservation_id is distinct from p_ignore;
$$;
comment on function booking.busy_time(uuid, uuid, tstzrange, interval, interval, timestamptz, uuid, integer) is
  'Live units of one seat of a resource in a window, widened by a service''s buffers; expired holds count as free.';

-- pool_starts
-- the starts at which every further pool of a service has a member with a seat free for the pool's
-- part of the appointment, over local days, as one multirange: computed once per call from each
-- member's free time (working_time - busy_time, as free_slots computes it per resource).
create or replace function booking.pool_starts(
  p_svc booking.services, p_zone text, p_from date, p_days integer, p_now timestamptz, p_ignore uuid)
returns tstzmultirange
language sql stable
set search_path = ''
as $$
  with pools as (   -- when each pool is needed from a start, and the buffers its member keeps free
    select p.pool, p.starts_after,
           case when p.lasts is null or p.starts_after + p.lasts >= p_svc.duration then p_svc.duration
                else p.starts_after + p.lasts end as ends_after,
           case when p.starts_after = interval '0' then p_svc.buffer_before else interval '0' end as buffer_before,
           case when p.lasts is null or p.starts_after + p.lasts >= p_svc.duration then p_svc.buffer_after
                else interval '0' end as buffer_after
    from booking.service_pools p
    where p.location_id = p_svc.location_id and p.service_id = p_svc.id
  ),
  members as materialized (   -- once per member
    select p.pool, p.starts_after, p.ends_after, p.buffer_before, p.buffer_after, r.id as resource_id,
           r.capacity,
           booking.working_time(r.location_id, r.id, p_zone, p_from, p_from + p_days - 1) as time
    from pools p
    join booking.service_resources sr
      on sr.location_id = p_svc.location_id and sr.service_id = p_svc.id and sr.pool = p.pool
    join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
  ),
  free as (                   -- once per seat of a member
    select m.pool, m.starts_after, m.ends_after,
           m.time - booking.busy_time(p_svc.location_id, m.resource_id,
                                      tstzrange((p_from::timestamp at time zone p_zone) - interval '1 day',
                                                ((p_from + p_days)::timestamp at time zone p_zone) + interval '1 day'),
                                      m.buffer_before, m.buffer_after, p_now, p_ignore, g.seat) as time
    from members m, generate_series(1, m.capacity) g(seat)
  ),
  -- a free [x, y) of a member holds the pool's part [t + starts_after, t + ends_after) for every
  -- start t in [x - starts_after, y - ends_after]
  pool_ok as (
    select p.pool,
           coalesce((select range_agg(tstzrange(lower(r) - f.starts_after, upper(r) - f.ends_after, '[]'))
                     from free f cross join lateral unnest(f.time) r
                     where f.pool = p.pool and upper(r) - f.ends_after >= lower(r) - f.starts_after),
                    '{}'::tstzmultirange) as starts
    from pools p
  )
  select coalesce(range_intersect_agg(o.starts), '{}'::tstzmultirange) from pool_ok o;
$$;
comment on function booking.pool_starts(booking.services, text, date, integer, timestamptz, uuid) is
  'The starts over local days [p_from, p_from + p_days) at which every further pool of the service has an active member with a seat free for the pool''s part of the appointment (booking.pool_span: buffers where the part touches the appointment''s start or end), as one multirange; each member''s free time is computed once. Empty when a pool has nobody free.';

-- free_slots
-- every free (resource, start) of a service over local days, on the slot grid, honouring hours,
-- exceptions, buffers, notice, advance limit, live holds and bookings, with how many of the
-- resource's seats are free then (1 for a resource of one seat). A service with further pools
-- offers a start only when every pool has a member free for its part (booking.pool_starts, computed
-- once per call); a service without pools reads only their absence, once, and checks nothing per row.
-- free_slots before seats_free (another result type needs another function):
drop function if exists booking.free_slots(uuid, date, integer, uuid, timestamptz, uuid);
create or replace function booking.free_slots(
  p_service_id uuid, p_from date, p_days integer, p_resource_id uuid, p_now timestamptz,
  p_ignore uuid default null)
returns table (resource_id uuid, preference smallint, starts_at timestamptz, ends_at timestamptz,
               seats_free integer)
language sql stable
set search_path = ''
as $$
  with svc as (
    select s.*, l.time_zone,
           case when exists (select 1 from booking.service_pools p
                             where p.location_id = s.location_id and p.service_id = s.id)
                then booking.pool_starts(s, l.time_zone, p_from, p_days, p_now, p_ignore) end as pool_starts
    from booking.services s join booking.locations l on l.id = s.location_id
    where s.id = p_service_id and s.active
  ),
  eligible as (
    select sr.resource_id, sr.preference, r.capacity
    from svc
    join booking.service_resources sr on sr.location_id = svc.location_id and sr.service_id = svc.id
    join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
    where sr.pool = 1 and (p_resource_id is null or sr.resource_id = p_resource_id)
  ),
  working as materialized (   -- once per resource, not once per grid row
    select e.resource_id, e.preference, e.capacity,
           booking.working_time(svc.location_id, e.resource_id, svc.time_zone, p_from, p_from + p_days - 1) as time
    from svc, eligible e
  ),
  free as materialized (      -- once per seat
    select w.resource_id, w.preference, g.seat,
           w.time - booking.busy_time(svc.location_id, w.resource_id,
                               tstzrange((p_from::timestamp at time zone svc.time_zone) - interval '1 day',
                                         ((p_from + p_days)::timestamp at time zone svc.time_zone) + interval '1 day'),
                               svc.buffer_before, svc.buffer_after, p_now, p_ignore, g.seat) as time
    from svc, working w, generate_series(1, w.capacity) g(seat)
  ),
  grid as (   -- each local day's grid starts at its local midnight
    select g as local_start, g at time zone svc.time_zone as starts_at
    from svc,
         generate_series(0, p_days - 1) k,
         generate_series((p_from + k)::timestamp,
                         (p_from + k + 1)::timestamp - interval '1 microsecond', svc.slot_step) g
  )
  select f.resource_id, f.preference, grid.starts_at, grid.starts_at + svc.duration, count(*)::integer
  from svc, grid, free f
  where ((grid.starts_at at time zone svc.time_zone) = grid.local_start)      -- skip non-existent wall-clock times
    and grid.starts_at >= p_now + svc.min_notice
    and grid.starts_at <= ((p_now at time zone svc.time_zone) + svc.max_advance) at time zone svc.time_zone
    and f.time @> tstzrange(grid.starts_at, grid.starts_at + svc.duration)
    and (svc.pool_starts is null or svc.pool_starts @> grid.starts_at)     -- NULL: no further pools
  group by f.resource_id, f.preference, grid.starts_at, svc.duration
$$;
comment on function booking.free_slots(uuid, date, integer, uuid, timestamptz, uuid) is
  'Free (resource, start) pairs of a service over p_days local days starting p_from, with the number of the resource''s seats free for the whole appointment; for a service with further pools, only starts at which every pool has a member free for its part (booking.pool_starts). The engine behind availability.';

-- assert_bookable_time
-- why a start cannot be offered on a resource regardless of other reservations, as an error raised:
-- BK006 wrong duration, BK004 past or too soon, BK005 too far ahead, BK013 off the grid, BK003 outside hours.
create or replace function booking.assert_bookable_time(
  p_svc booking.services, p_zone text, p_start timestamptz, p_end timestamptz, p_now timestamptz)
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_local timestamp := p_start at time zone p_zone;
  v_offset interval;
begin
  if p_start is null then
    raise exception 'a start time is required' using errcode = 'BK014';
  end if;
  if p_end is distinct from p_start + p_svc.duration then
    raise exception 'the slot must last exactly % for this service', p_svc.duration
      using errcode = 'BK006', hint = 'Pass p_end_time = p_start_time + the service duration.';
  end if;
  if p_start < p_now + p_svc.min_notice then
    raise exception 'the start % is in the past or closer than the minimum notice of %', p_start, p_svc.min_notice
      using errcode = 'BK004', hint = 'Choose a later time from get_availability.';
  end if;
  if p_start > ((p_now at time zone p_zone) + p_svc.max_advance) at time zone p_zone then
    raise exception 'the start % is further ahead than the % this service can be booked in advance',
      p_start, p_svc.max_advance
      using errcode = 'BK005', hint = 'Choose an earlier date.';
  end if;
  v_offset := v_local - v_local::date::timestamp;
  if (v_local at time zone p_zone) <> p_start
     or mod(extract(epoch from v_offset)::numeric, extract(epoch from p_svc.slot_step)::numeric) <> 0 then
    raise exception 'the start % is not on this service''s % grid', v_local, p_svc.slot_step
      using errcode = 'BK013', hint = 'Use a start_time returned by get_availability.';
  end if;
end;
$$;
comment on function booking.assert_bookable_time(booking.services, text, timestamptz, timestamptz, timestamptz) is
  'Raises BK006/BK004/BK005/BK013 when a start is not bookable for a service whatever else is booked.';

-- candidate_resources
-- the resources to try for a slot, in preference order, that work for the whole slot.
-- A named resource that cannot perform the service is BK012; no resource working then is BK003.
create or replace function booking.candidate_resources(
  p_svc booking.services, p_zone text, p_start timestamptz, p_end timestamptz, p_resource_id uuid)
returns uuid[]
language plpgsql stable
set search_path = ''
as $$
declare
  v_result uuid[];
begin
  if p_resource_id is not null then    -- one named resource: no need to read the others
    if not exists (
        select 1 from booking.service_resources sr
        join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
        where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id and sr.resource_id = p_resource_id
          and sr.pool = 1) then
      raise exception 'resource % does not perform this service', p_resource_id
        using errcode = 'BK012', hint = 'Pass a resource listed in get_availability''s resource_ids, or NULL for any.';
    end if;
    if booking.works_during(p_svc.location_id, p_resource_id, p_zone, p_start, p_end) then
      v_result := array[p_resource_id];
    end if;
  else
    select array_agg(sr.resource_id order by sr.preference, sr.resource_id) into v_result
    from booking.service_resources sr
    join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
    where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id and sr.pool = 1
      and booking.works_during(p_svc.location_id, sr.resource_id, p_zone, p_start, p_end);
  end if;
  if v_result is null then
    raise exception 'nobody performs this service at %', p_start at time zone p_zone
      using errcode = 'BK003', hint = 'Choose a time inside working hours (see get_availability).';
  end if;
  return v_result;
end;
$$;
comment on function booking.candidate_resources(booking.services, text, timestamptz, timestamptz, uuid) is
  'Eligible resources working for the whole slot, in preference order; BK012 ineligible resource, BK003 nobody works.';

-- expire_overlapping_holds
-- marks lapsed holds with a unit on a resource (any seat) that overlaps a range as expired, so the
-- time is free for the caller; their other units are freed with them (the units trigger).
-- "Live and not confirmed" rather than status = 'held': a statement that says status = 'held'
-- may be answered by any index on held rows (reservations_customer_held, reservations_expiring),
-- reading every hold at the location or everywhere, and with statistics taken while no holds were
-- live the planner takes those for empty. Said this way, only the exclusion constraint's index
-- (live units by location, resource and time) matches the units, and the reservations are read by
-- their primary key.
create or replace function booking.expire_overlapping_holds(
  p_location_id uuid, p_resource_id uuid, p_occupied tstzrange) returns integer
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_count integer;
begin
  if current_setting('booking.waitlist_offering', true) = 'on' then
    -- inside an offer to a waiting list (sql/functions/45_waitlist.sql), which holds entry locks:
    -- a lapsed hold whose row another transaction has locked is being changed by it (expired,
    -- converted, released), and that transaction offers its time when it commits; waiting for it
    -- here could close a cycle with its own wait for those entries
    with lapsed as (
      select r.location_id, r.id from booking.reservations r
       where r.location_id = p_location_id
         and r.id in (select u.reservation_id from booking.units u
                      where u.location_id = p_location_id and u.resource_id = p_resource_id
                        and u.occupied && p_occupied
                        and u.status in ('held', 'confirmed') and u.status <> 'confirmed' and u.expires_at <= now())
         and r.status in ('held', 'confirmed') and r.status <> 'confirmed'
       for update skip locked)
    update booking.reservations r
       set status = 'expired', version = r.version + 1, updated_at = now(), ended_at = now()
      from lapsed
     where r.location_id = lapsed.location_id and r.id = lapsed.id;
    get diagnostics v_count = row_count;
    return v_count;
  end if;
  update booking.reservations r
     set status = 'expired', version = r.version + 1, updated_at = now(), ended_at = now()
   where r.location_id = p_location_id
     and r.id in (select u.reservation_id from booking.units u
                  where u.location_id = p_location_id and u.resource_id = p_resource_id
                    and u.occupied && p_occupied
                    and u.status in ('held', 'confirmed') and u.status <> 'confirmed' and u.expires_at <= now())
     and r.status in ('held', 'confirmed') and r.status <> 'confirmed';
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function booking.expire_overlapping_holds(uuid, uuid, tstzrange) is
  'Marks lapsed holds overlapping a range expired in the caller''s transaction, so that its write can take their time.';

-- assert_seats
-- how many seats an attempt takes: p_seats (NULL: 1), which must be between 1 and the service's
-- max_seats (BK026).
create or replace function booking.assert_seats(p_svc booking.services, p_seats integer) returns integer
language plpgsql immutable
set search_path = ''
as $$
begin
  if coalesce(p_seats, 1) not between 1 and p_svc.max_seats then
    raise exception 'p_seats % is not between 1 and %, the most seats one booking of this service may take',
      p_seats, p_svc.max_seats
      using errcode = 'BK026', hint = 'Ask for 1 seat, or at most the service''s max_seats.';
  end if;
  return coalesce(p_seats, 1);
end;
$$;
comment on function booking.assert_seats(booking.services, integer) is
  'The number of seats an attempt takes: p_seats, NULL meaning 1; BK026 when it is outside 1..the service''s max_seats.';

-- seat_candidates
-- the candidate resources (in their order) with at least p_seats seats: all of them for one seat,
-- with no read. BK027 when none has that many.
create or replace function booking.seat_candidates(p_svc booking.services, p_candidates uuid[], p_seats integer)
returns uuid[]
language plpgsql stable
set search_path = ''
as $$
declare
  v_result uuid[];
begin
  if p_seats <= 1 then
    return p_candidates;
  end if;
  select array_agg(c.id order by c.n) into v_result
  from unnest(p_candidates) with ordinality c(id, n)
  join booking.resources r on r.location_id = p_svc.location_id and r.id = c.id
  where r.capacity >= p_seats;
  if v_result is null then
    raise exception 'no resource that could take this booking has % seats', p_seats
      using errcode = 'BK027', hint = 'Ask for fewer seats, or for a resource with a larger capacity.';
  end if;
  return v_result;
end;
$$;
comment on function booking.seat_candidates(booking.services, uuid[], integer) is
  'The candidate resources, in their order, whose capacity is at least p_seats (all of them, unread, for one seat); BK027 when none is that large.';
