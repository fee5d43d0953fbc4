-- Internal helpers of the booking engine (schema booking). Not granted to any caller role.
--
-- Helpers that are a single SQL expression (actor_claims, slot_id, local_day, the lock keys, the
-- result builders reservation_result and taken_result) carry
-- no SET clause on purpose: a SET clause stops PostgreSQL from inlining a SQL function, and these
-- run on every hold. They are not SECURITY DEFINER and use fully qualified names only; inlined into
-- the api functions they run under those functions' empty search_path.
--
-- Hot-path plans. PL/pgSQL (and, from PostgreSQL 18, SQL functions) keep a statement's plan for the
-- whole session once it has run a few times, and a plan made while booking.reservations was nearly
-- empty is a sequential scan, kept as the table grows. Every function that reads or writes
-- reservations on a hot path therefore runs with enable_seqscan = off: each of its statements has
-- an index that answers it, and the planner chooses among those. Each statement is also written so
-- that the index it is meant to use is the cheapest one whatever the statistics say (see
-- expire_overlapping_holds and booking.live_holds); tests/test_hot_path_plans.py checks the plans
-- a session actually keeps after 5,000 live holds arrive at one location.

-- actor_claims
-- who is calling: the JWT claims from request.jwt.claims (PostgREST's convention), with the role taken
-- from the session's caller role when it has one (booking_customer -> customer, ...), so a customer
-- session can neither claim to be staff nor go without an identity; '{}' for a trusted SQL session.
create or replace function booking.actor_claims() returns jsonb
language sql stable
as $$
  select case
    when current_setting('role') in ('booking_customer', 'booking_staff', 'booking_admin')
      then coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
           || jsonb_build_object('role', substr(current_setting('role'), 9))
    else coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
  end;
$$;
comment on function booking.actor_claims() is
  'The caller''s JWT claims (request.jwt.claims). Under a caller role (booking_customer, booking_staff, booking_admin) the role claim is that role, whatever the claims say; a session with no caller role and no claims is a trusted SQL caller ({}).';

-- assert_acts_as
-- a customer may act only as itself; staff, admin and trusted SQL sessions may act for anyone.
create or replace function booking.assert_acts_as(p_user_id text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  if p_user_id is null or length(p_user_id) = 0 or length(p_user_id) > 200 then
    raise exception 'p_user_id must be a non-empty subject of at most 200 characters'
      using errcode = 'BK014', hint = 'Pass the customer''s auth subject (the JWT sub).';
  end if;
  if v_claims->>'role' = 'customer' and v_claims->>'sub' is distinct from p_user_id then
    raise exception 'a customer can act only as itself'
      using errcode = 'BK015', hint = 'Pass your own subject as p_user_id.';
  end if;
end;
$$;
comment on function booking.assert_acts_as(text) is
  'Raises BK015 when a customer tries to act as another subject, BK014 when the subject is empty.';

-- customer_id_for
-- the customer row of a subject, created on first use.
create or replace function booking.customer_id_for(p_subject text) returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  select c.id into v_id from booking.customers c where c.subject = p_subject;
  if v_id is null then
    insert into booking.customers (subject) values (p_subject)
    on conflict (subject) do nothing
    returning id into v_id;
    if v_id is null then
      select c.id into v_id from booking.customers c where c.subject = p_subject;
    end if;
  end if;
  return v_id;
end;
$$;
comment on function booking.customer_id_for(text) is 'The customer id of an auth subject, creating the row on first use.';

-- assert_owns
-- a customer may touch only its own reservations; others get BK008, as if the row did not exist.
create or replace function booking.assert_owns(p_customer_id uuid, p_what text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  if v_claims->>'role' = 'customer' and not exists (
      select 1 from booking.customers c where c.id = p_customer_id and c.subject = v_claims->>'sub') then
    raise exception '% not found', p_what using errcode = 'BK008';
  end if;
end;
$$;
comment on function booking.assert_owns(uuid, text) is
  'Raises BK008 (not found) when a customer touches a reservation of someone else.';

-- active_service
-- an active service, or BK001 (unknown) / BK002 (no longer offered).
create or replace function booking.active_service(p_service_id uuid) returns booking.services
language plpgsql stable
set search_path = ''
as $$
declare
  v_svc booking.services;
begin
  select * into v_svc from booking.services s where s.id = p_service_id;
  if v_svc.id is null then
    raise exception 'service % does not exist', p_service_id
      using errcode = 'BK001', hint = 'List services and pass one of their ids.';
  end if;
  if not v_svc.active then
    raise exception 'service % is not offered any more', p_service_id
      using errcode = 'BK002', hint = 'Choose an active service.';
  end if;
  return v_svc;
end;
$$;
comment on function booking.active_service(uuid) is 'The service row; BK001 when unknown, BK002 when inactive.';

-- location_zone
-- the IANA time zone of a location.
create or replace function booking.location_zone(p_location_id uuid) returns text
language plpgsql stable
set search_path = ''
as $$
begin
  -- PL/pgSQL, not SQL: a SQL function that cannot be inlined (it has a FROM) costs more per call
  return (select l.time_zone from booking.locations l where l.id = p_location_id);
end;
$$;

-- slot_id
-- the canonical id of a slot: service id and start in UTC.
create or replace function booking.slot_id(p_service_id uuid, p_start timestamptz) returns text
language sql stable
as $$
  select p_service_id::text || '@' || to_char(p_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
$$;
comment on function booking.slot_id(uuid, timestamptz) is 'Canonical slot id: <service_id>@<start in UTC, ISO 8601>.';

-- resource_lock_key
-- the advisory lock that serializes in-place moves onto one resource (see its uses below).
create or replace function booking.resource_lock_key(p_location_id uuid, p_resource_id uuid) returns bigint
language sql immutable
as $$ select hashtextextended('resource:' || p_location_id::text || ':' || p_resource_id::text, 0) $$;
comment on function booking.resource_lock_key(uuid, uuid) is
  'Advisory lock key per resource. UPDATEs whose new row version is checked by the exclusion constraint (reschedule, convert) take it first: two such UPDATEs would otherwise wait for each other''s new row and deadlock. Inserts need no lock; ON CONFLICT DO NOTHING cannot deadlock.';

-- local_day
-- the calendar day of an instant in a time zone.
create or replace function booking.local_day(p_at timestamptz, p_zone text) returns date
language sql immutable
as $$
  select (p_at at time zone p_zone)::date;
$$;

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
-- time a new appointment of this service may not overlap on a resource: every live reservation's
-- occupied range widened by the new appointment's buffers (after-buffer before it, before-buffer after it).
create or replace function booking.busy_time(
  p_location_id uuid, p_resource_id uuid, p_window tstzrange,
  p_buffer_before interval, p_buffer_after interval, p_now timestamptz, p_ignore uuid default null)
returns tstzmultirange
language sql stable
set search_path = ''
set enable_seqscan = off
as $$
  select coalesce(range_agg(tstzrange(lower(r.occupied) - p_buffer_after, upper(r.occupied) + p_buffer_before)),
                  '{}'::tstzmultirange)
  from booking.reservations r
  where r.location_id = p_location_id and r.resource_id = p_resource_id
    and r.status in ('held', 'confirmed')
    and (r.status = 'confirmed' or r.expires_at > p_now)
    and r.occupied && p_window
    and r.id is distinct from p_ignore;
$$;
comment on function booking.busy_time(uuid, uuid, tstzrange, interval, interval, timestamptz, uuid) is
  'Live reservations of a resource in a window, widened by a service''s buffers; expired holds count as free.';

-- free_slots
-- every free (resource, start) of a service over local days, on the slot grid, honouring hours,
-- exceptions, buffers, notice, advance limit, live holds and bookings.
create or replace function booking.free_slots(
  p_service_id uuid, p_from date, p_days integer, p_resource_id uuid, p_now timestamptz,
  p_ignore uuid default null)
returns table (resource_id uuid, preference smallint, starts_at timestamptz, ends_at timestamptz)
language sql stable
set search_path = ''
as $$
  with svc as (
    select s.*, l.time_zone
    from booking.services s join booking.locations l on l.id = s.location_id
    where s.id = p_service_id and s.active
  ),
  eligible as (
    select sr.resource_id, sr.preference
    from svc
    join booking.service_resources sr on sr.location_id = svc.location_id and sr.service_id = svc.id
    join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
    where p_resource_id is null or sr.resource_id = p_resource_id
  ),
  free as materialized (   -- once per resource, not once per grid row
    select e.resource_id, e.preference,
           booking.working_time(svc.location_id, e.resource_id, svc.time_zone, p_from, p_from + p_days - 1)
           - booking.busy_time(svc.location_id, e.resource_id,
                               tstzrange((p_from::timestamp at time zone svc.time_zone) - interval '1 day',
                                         ((p_from + p_days)::timestamp at time zone svc.time_zone) + interval '1 day'),
                               svc.buffer_before, svc.buffer_after, p_now, p_ignore) as time
    from svc, eligible e
  ),
  grid as (   -- each local day's grid starts at its local midnight
    select g as local_start, g at time zone svc.time_zone as starts_at
    from svc,
         generate_series(0, p_days - 1) k,
         generate_series((p_from + k)::timestamp,
                         (p_from + k + 1)::timestamp - interval '1 microsecond', svc.slot_step) g
  )
  select f.resource_id, f.preference, grid.starts_at, grid.starts_at + svc.duration
  from svc, grid, free f
  where ((grid.starts_at at time zone svc.time_zone) = grid.local_start)      -- skip non-existent wall-clock times
    and grid.starts_at >= p_now + svc.min_notice
    and grid.starts_at <= ((p_now at time zone svc.time_zone) + svc.max_advance) at time zone svc.time_zone
    and f.time @> tstzrange(grid.starts_at, grid.starts_at + svc.duration)
$$;
comment on function booking.free_slots(uuid, date, integer, uuid, timestamptz, uuid) is
  'Free (resource, start) pairs of a service over p_days local days starting p_from; the engine behind availability.';

-- slot_problem
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
        where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id and sr.resource_id = p_resource_id) then
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
    where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id
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
-- marks lapsed holds on a resource that overlap a range as expired, so the time is free for the caller.
-- "Live and not confirmed" rather than status = 'held': a statement that says status = 'held'
-- may be answered by any index on held rows (reservations_customer_held, reservations_expiring),
-- reading every hold at the location or everywhere, and with statistics taken while no holds were
-- live the planner takes those for empty. Said this way, only the exclusion constraint's index
-- (live rows by location, resource and time) matches.
create or replace function booking.expire_overlapping_holds(
  p_location_id uuid, p_resource_id uuid, p_occupied tstzrange) returns integer
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_count integer;
begin
  update booking.reservations r
     set status = 'expired', version = r.version + 1, updated_at = now(), ended_at = now()
   where r.location_id = p_location_id and r.resource_id = p_resource_id
     and r.occupied && p_occupied
     and r.status in ('held', 'confirmed') and r.status <> 'confirmed' and r.expires_at <= now();
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function booking.expire_overlapping_holds(uuid, uuid, tstzrange) is
  'Marks lapsed holds overlapping a range expired in the caller''s transaction, so that its write can take their time.';

-- nearest_free_starts
-- (replaces alternatives_within, which built the days' whole slot grid for every resource)
drop function if exists booking.alternatives_within(uuid, text, timestamptz, uuid, integer, uuid, date, integer);
-- up to p_limit free starts of a service over local days [p_from, p_from + p_days), nearest to
-- p_near first, one resource per start (p_preferred if it is free then, else the first free by
-- preference), as JSON. The answer is the one free_slots over those days would give, found
-- without computing them all: the days' starts are tried outward from p_near, each against the
-- resources in order until one is free, and the search stops at p_limit. A resource's free time over
-- the days (working_time - busy_time, exactly as in free_slots) is computed the first time a start
-- needs it, so a conflict next to free time reads one or two resources, not the whole location.
-- Starts outside everybody's hours are dropped first: a slot free on some resource lies within
-- that resource's working time, so within the union of all of them (minus the location's closures).
create or replace function booking.nearest_free_starts(
  p_svc booking.services, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer,
  p_ignore uuid, p_from date, p_days integer)
returns jsonb
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_now timestamptz := now();
  v_window tstzrange := tstzrange((p_from::timestamp at time zone p_zone) - interval '1 day',
                                  ((p_from + p_days)::timestamp at time zone p_zone) + interval '1 day');
  v_resources uuid[];          -- eligible resources, p_preferred first, then by preference
  v_free tstzmultirange[];     -- each one's free time over the days, once computed
  v_anyone tstzmultirange;     -- when at least one of them may work
  v_starts timestamptz[];      -- the days' starts, nearest to p_near first
  v_distance numeric;
  v_at_distance_starts timestamptz[];
  v_at_distance_resources uuid[];
  v_found_starts timestamptz[] := '{}';
  v_found_resources uuid[] := '{}';
  v_best uuid;
  v_i integer := 1;
  v_j integer;
  v_k integer;
begin
  select array_agg(sr.resource_id order by (sr.resource_id = p_preferred) desc nulls last, sr.preference,
                   sr.resource_id)
    into v_resources
  from booking.service_resources sr
  join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
  where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id;
  if v_resources is null or p_limit < 1 then
    return '[]'::jsonb;
  end if;
  v_free := array_fill(null::tstzmultirange, array[cardinality(v_resources)]);

  -- weekly hours and extra hours of them all (what working_time unites), minus location closures
  select coalesce(range_agg(w.r) filter (where not isempty(w.r)), '{}'::tstzmultirange)
         - coalesce((select range_agg(e.period) from booking.schedule_exceptions e
                     where e.location_id = p_svc.location_id and e.resource_id is null
                       and e.kind = 'closure' and e.period && v_window), '{}'::tstzmultirange)
    into v_anyone
  from (select tstzrange((d::date + lower(h.hours)) at time zone p_zone,
                         (d::date + upper(h.hours)) at time zone p_zone) as r
        from generate_series(p_from::timestamp, (p_from + p_days - 1)::timestamp, interval '1 day') d
        cross join lateral (   -- staff mostly share their hours: each distinct window once
          select distinct wh.hours
          from booking.working_hours wh
          join booking.service_resources sr
            on sr.location_id = wh.location_id and sr.service_id = p_svc.id and sr.resource_id = wh.resource_id
          where wh.location_id = p_svc.location_id and wh.weekday = extract(isodow from d)::smallint) h
        union all
        select e.period from booking.schedule_exceptions e
        where e.location_id = p_svc.location_id and e.resource_id = any(v_resources)
          and e.kind = 'extra_hours'
          and e.period && tstzrange(p_from::timestamp at time zone p_zone,
                                    (p_from + p_days)::timestamp at time zone p_zone)) w;

  -- each local day's grid from its local midnight, without the wall-clock times a DST change skips,
  -- within the minimum notice and the advance limit (the grid of free_slots), where anyone works
  select array_agg(g.starts_at order by abs(extract(epoch from g.starts_at - p_near)), g.starts_at)
    into v_starts
  from generate_series(0, p_days - 1) k
  cross join lateral generate_series((p_from + k)::timestamp,
                                     (p_from + k + 1)::timestamp - interval '1 microsecond',
                                     p_svc.slot_step) l(local_start)
  cross join lateral (select l.local_start at time zone p_zone as starts_at) g
  where (g.starts_at at time zone p_zone) = l.local_start
    and g.starts_at >= v_now + p_svc.min_notice
    and g.starts_at <= ((v_now at time zone p_zone) + p_svc.max_advance) at time zone p_zone
    and v_anyone @> tstzrange(g.starts_at, g.starts_at + p_svc.duration);

  while v_i <= coalesce(cardinality(v_starts), 0) and cardinality(v_found_starts) < p_limit loop
    -- the starts at the next distance from p_near (one before it, one after it, at most)
    v_distance := abs(extract(epoch from v_starts[v_i] - p_near));
    v_at_distance_starts := '{}';
    v_at_distance_resources := '{}';
    v_j := v_i;
    while v_j <= cardinality(v_starts) and abs(extract(epoch from v_starts[v_j] - p_near)) = v_distance loop
      v_best := null;
      for v_k in 1 .. cardinality(v_resources) loop
        if v_free[v_k] is null then
          v_free[v_k] := booking.working_time(p_svc.location_id, v_resources[v_k], p_zone, p_from,
                                              p_from + p_days - 1)
                         - booking.busy_time(p_svc.location_id, v_resources[v_k], v_window,
                                             p_svc.buffer_before, p_svc.buffer_after, v_now, p_ignore);
        end if;
        if v_free[v_k] @> tstzrange(v_starts[v_j], v_starts[v_j] + p_svc.duration) then
          v_best := v_resources[v_k];
          exit;
        end if;
      end loop;
      if v_best is not null then
        v_at_distance_starts := v_at_distance_starts || v_starts[v_j];
        v_at_distance_resources := v_at_distance_resources || v_best;
      end if;
      v_j := v_j + 1;
    end loop;
    -- at equal distance: a start on the preferred resource first, then the earlier start
    for v_k in select a.n
               from unnest(v_at_distance_starts, v_at_distance_resources) with ordinality a(starts_at, resource_id, n)
               order by (a.resource_id = p_preferred) desc nulls last, a.starts_at loop
      exit when cardinality(v_found_starts) >= p_limit;
      v_found_starts := v_found_starts || v_at_distance_starts[v_k];
      v_found_resources := v_found_resources || v_at_distance_resources[v_k];
    end loop;
    v_i := v_j;
  end loop;

  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'slot_id', booking.slot_id(p_svc.id, f.starts_at),
             'start_time', f.starts_at, 'end_time', f.starts_at + p_svc.duration, 'resource_id', f.resource_id)
           order by abs(extract(epoch from f.starts_at - p_near)), f.starts_at)
    from unnest(v_found_starts, v_found_resources) f(starts_at, resource_id)), '[]'::jsonb);
end;
$$;
comment on function booking.nearest_free_starts(booking.services, text, timestamptz, uuid, integer, uuid, date, integer) is
  'Up to p_limit free starts of a service over some local days, nearest to p_near first (the preferred resource first at equal distance), as JSON; the same answer as free_slots over those days, searched outward from p_near.';

-- alternatives
-- up to p_limit nearest free slots: the same local day first; only when it has too few, the next
-- seven days. Nothing for a service that is no longer offered.
create or replace function booking.alternatives(
  p_service_id uuid, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer default 5,
  p_ignore uuid default null)
returns jsonb
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
  v_location_zone text;
  v_day date := booking.local_day(p_near, p_zone);
  v_found jsonb;
begin
  select * into v_svc from booking.services s where s.id = p_service_id and s.active;
  if v_svc.id is null then
    return '[]'::jsonb;
  end if;
  v_location_zone := booking.location_zone(v_svc.location_id);
  v_found := booking.nearest_free_starts(v_svc, v_location_zone, p_near, p_preferred, p_limit, p_ignore,
                                         v_day, 1);
  if jsonb_array_length(v_found) < p_limit then
    v_found := v_found || booking.nearest_free_starts(v_svc, v_location_zone, p_near, p_preferred,
                                                      p_limit - jsonb_array_length(v_found), p_ignore,
                                                      v_day + 1, 7);
  end if;
  return v_found;
end;
$$;
comment on function booking.alternatives(uuid, text, timestamptz, uuid, integer, uuid) is
  'Up to 5 nearest free slots of a service (same local day first, then the next 7 days; nearest first, the preferred resource first at equal distance), as JSON.';

-- record_conflict
-- writes a conflict row (kept although the caller's action failed) and returns the conflict object
-- every API function gives back: type, reason, what to do, up to 5 alternatives, strategy and outcome.
create or replace function booking.record_conflict(
  p_svc booking.services, p_zone text, p_operation text, p_type text, p_resource_id uuid,
  p_customer_id uuid, p_holder uuid, p_attempt uuid, p_start timestamptz, p_end timestamptz,
  p_retry_after timestamptz default null, p_strategy text default 'first_come_first_serve',
  p_outcome text default 'refused', p_status text default 'resolved', p_detail jsonb default '{}'::jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_alternatives jsonb;
  v_offered jsonb;
  v_id uuid;
  v_reason text;
begin
  v_alternatives := case when p_start is null then '[]'::jsonb
                         else booking.alternatives(p_svc.id, p_zone, p_start, p_resource_id, 5, p_attempt) end;
  v_offered := case when p_status = 'awaiting_confirmation' then v_alternatives->0 end;
  v_reason := case p_type
    when 'HOLD_CONFLICT' then 'The time is held by another customer.'
    when 'BOOKING_CONFLICT' then 'The time is already booked.'
    when 'VERSION_CONFLICT' then 'The booking changed since you read it.'
    else 'The time was taken after the availability you saw.' end;
  insert into booking.conflicts (location_id, service_id, resource_id, conflict_type, strategy, outcome,
                                 status, operation, requester_customer_id, holder_reservation_id,
                                 attempted_reservation_id, requested_start, requested_end, alternatives,
                                 offered, detail, resolved_at)
  values (p_svc.location_id, p_svc.id, p_resource_id, p_type, p_strategy, p_outcome, p_status, p_operation,
          p_customer_id, p_holder, p_attempt, p_start, p_end, v_alternatives, v_offered, p_detail,
          case when p_status = 'resolved' then clock_timestamp() end)
  returning id into v_id;
  return jsonb_build_object(
    'success', false,
    'conflict_id', v_id,
    'conflict_type', p_type,
    'conflict_reason', v_reason,
    'suggested_action', case
      when p_status = 'awaiting_confirmation' then 'confirm_offered_alternative'
      when p_status = 'open' then 'wait_for_staff'
      when p_type = 'VERSION_CONFLICT' then 'reload_and_retry'
      when p_type = 'CACHE_CONFLICT' then 'refresh_availability'
      when p_type = 'HOLD_CONFLICT' then 'choose_alternative_or_retry_later'
      else 'choose_alternative' end,
    'requires_retry', p_type in ('HOLD_CONFLICT', 'VERSION_CONFLICT', 'CACHE_CONFLICT'),
    'retry_after', p_retry_after,
    'strategy', p_strategy,
    'outcome', p_outcome,
    'status', p_status,
    'offered', v_offered,
    'alternatives', v_alternatives);
end;
$$;
comment on function booking.record_conflict(booking.services, text, text, text, uuid, uuid, uuid, uuid,
  timestamptz, timestamptz, timestamptz, text, text, text, jsonb) is
  'Records a conflict in booking.conflicts and returns the conflict result object with alternatives.';

-- blocking_reservation
-- after a write lost to the exclusion constraint: who holds the time (the type, the holder, when it may free up).
create or replace function booking.blocking_reservation(
  p_location_id uuid, p_resource_ids uuid[], p_occupied tstzrange, p_ignore uuid default null,
  out conflict_type text, out holder uuid, out retry_after timestamptz)
language sql stable
set search_path = ''
set enable_seqscan = off
as $$
  select case when bool_or(r.status = 'held') and not bool_or(r.status = 'confirmed')
              then 'HOLD_CONFLICT' else 'BOOKING_CONFLICT' end,
         (array_agg(r.id order by r.status = 'confirmed' desc, r.created_at))[1],
         case when bool_or(r.status = 'confirmed') then null else min(r.expires_at) end
  from booking.reservations r
  where r.location_id = p_location_id and r.resource_id = any(p_resource_ids)
    and r.status in ('held', 'confirmed') and r.occupied && p_occupied
    and r.id is distinct from p_ignore;
$$;
comment on function booking.blocking_reservation(uuid, uuid[], tstzrange, uuid) is
  'The live reservations in the way of a write: HOLD_CONFLICT when only holds block, else BOOKING_CONFLICT.';

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
-- clause, so PostgreSQL inlines it (like the helpers named at the top of this file); stable, not
-- immutable, because a timestamptz in JSON depends on the TimeZone setting (an immutable function
-- whose body is not immutable is not inlined).
create or replace function booking.reservation_result(p_r booking.reservations) returns jsonb
language sql stable
as $$
  select jsonb_build_object('success', true, 'booking_id', p_r.id, 'status', p_r.status,
                            'version', p_r.version, 'resource_id', p_r.resource_id,
                            'start_time', p_r.starts_at, 'end_time', p_r.ends_at);
$$;

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
