-- Availability: free slots, their version, and a yes/no check for one time.

-- get_availability's result before seats_left (and before time_zone, start_local and end_local):
-- another result type needs another function (CREATE OR REPLACE cannot change it), so the former one
-- is dropped first
do $$
begin
  if pg_get_function_result(to_regprocedure('api.get_availability(uuid, date, integer, uuid)'))
     not like '%seats_left%' then
    drop function api.get_availability(uuid, date, integer, uuid);
  end if;
end;
$$;

-- get_availability
-- free starts of a service over p_days local days, one row per start with every free resource, the
-- start and end on the location's clock, and how many seats are free then (a start shows while at
-- least one seat of one resource is free; an appointment's seats_left is the number of free staff).
create or replace function api.get_availability(
  p_service_id uuid, p_date date, p_days integer default 1, p_resource_id uuid default null)
returns table (slot_id text, start_time timestamptz, end_time timestamptz, resource_ids uuid[],
               time_zone text, start_local timestamp, end_local timestamp, seats_left integer)
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_zone text;
begin
  if p_date is null or p_days is null or p_days < 1 or p_days > 62 then
    raise exception 'p_date is required and p_days must be between 1 and 62'
      using errcode = 'BK014', hint = 'Ask for at most 62 days at a time.';
  end if;
  v_zone := booking.location_zone((booking.active_service(p_service_id)).location_id);
  return query
    select booking.slot_id(p_service_id, f.starts_at), f.starts_at, f.ends_at,
           array_agg(f.resource_id order by f.preference, f.resource_id),
           v_zone, f.starts_at at time zone v_zone, f.ends_at at time zone v_zone, sum(f.seats_free)::integer
    from booking.free_slots(p_service_id, p_date, p_days, p_resource_id, now()) f
    group by f.starts_at, f.ends_at
    order by f.starts_at;
end;
$$;
comment on function api.get_availability(uuid, date, integer, uuid) is
  'Free starts of a service on its slot grid in the location''s local time over p_days days from p_date, honouring working hours, exceptions, buffers, minimum notice, maximum advance, live holds and bookings. resource_ids lists the free resources in preference order (a resource is free when at least one of its seats is); time_zone is the location''s zone and start_local, end_local the wall-clock times there; seats_left is the number of seats free for the whole slot over those resources (for an appointment, the number of free resources; for a class of 12 mats with 9 taken, 3). Errors: BK001, BK002, BK014.';

-- availability_version
-- the id of the newest event that touched a service's availability on a local day; 0 when there is
-- none, or while an event with a smaller id may still be committing (the answer is then not cacheable).
create or replace function api.availability_version(p_service_id uuid, p_date date)
returns bigint
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_bound bigint;
  v_newest bigint;
begin
  v_bound := booking.event_read_bound();
  -- a later statement: it sees every event up to the bound
  select greatest(
    coalesce((select max(ev.max_id) from booking.service_resources sr
              join booking.services s on s.location_id = sr.location_id and s.id = sr.service_id
              cross join lateral (select max(e.id) as max_id from booking.events e
                                  where e.resource_id = sr.resource_id and e.day = p_date
                                    and e.type <> 'conflict:detected') ev
              where s.id = p_service_id), 0),
    coalesce((select max(e.id) from booking.events e
              join booking.services s on s.location_id = e.location_id
              where s.id = p_service_id and e.day is null), 0)) into v_newest;
  -- above the bound, a transaction still committing could add an event with a smaller id: the
  -- answer would change under the same version, so there is none
  if v_newest > v_bound then
    return 0;
  end if;
  return v_newest;
end;
$$;
comment on function api.availability_version(uuid, date) is
  'Version of a service''s availability on a local day: the id of the newest event touching any eligible resource that day (conflict:detected events change nothing and do not count), or any catalogue change of the location. Changes whenever get_availability''s answer may have changed; use it as an ETag. 0 means no version: no event yet, or a transaction with a smaller event id is still committing, so the answer must not be cached. Read it in its own statement before get_availability (each reads at its start): slots read after their version are never older than it. Needs READ COMMITTED (BK014).';

-- validate_service_availability
-- whether a local date and time can be booked now, why not, and on which resources.
create or replace function api.validate_service_availability(
  p_service_id uuid, p_date date, p_time time, p_duration interval default null)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
  v_zone text;
  v_start timestamptz;
  v_free uuid[];
  v_seats integer;
begin
  v_svc := booking.active_service(p_service_id);
  v_zone := booking.location_zone(v_svc.location_id);
  if p_date is null or p_time is null then
    raise exception 'p_date and p_time are required' using errcode = 'BK014';
  end if;
  if p_duration is not null and p_duration <> v_svc.duration then
    return jsonb_build_object('available', false, 'reason', 'wrong_duration', 'resource_ids', '[]'::jsonb);
  end if;
  v_start := (p_date + p_time) at time zone v_zone;
  if (v_start at time zone v_zone) <> (p_date + p_time) then
    return jsonb_build_object('available', false, 'reason', 'nonexistent_local_time', 'resource_ids', '[]'::jsonb);
  end if;
  begin
    perform booking.assert_bookable_time(v_svc, v_zone, v_start, v_start + v_svc.duration, now());
    perform booking.candidate_resources(v_svc, v_zone, v_start, v_start + v_svc.duration, null);
  exception when sqlstate 'BK004' or sqlstate 'BK005' or sqlstate 'BK013' or sqlstate 'BK003' then
    return jsonb_build_object('available', false,
      'reason', case sqlstate when 'BK004' then 'too_soon_or_past' when 'BK005' then 'too_far_ahead'
                              when 'BK013' then 'off_grid' else 'outside_working_hours' end,
      'resource_ids', '[]'::jsonb);
  end;
  select array_agg(f.resource_id order by f.preference, f.resource_id), sum(f.seats_free) into v_free, v_seats
  from booking.free_slots(p_service_id, p_date, 1, null, now()) f
  where f.starts_at = v_start;
  -- not free: a further pool with nobody working for its part is outside working hours, not taken
  if v_free is null and exists (select 1 from booking.further_pools(v_svc, v_zone, v_start) f
                                where cardinality(f.members) = 0) then
    return jsonb_build_object('available', false, 'reason', 'outside_working_hours', 'resource_ids', '[]'::jsonb);
  end if;
  return jsonb_build_object(
    'available', v_free is not null,
    'reason', case when v_free is null then 'taken' else null end,
    'resource_ids', to_jsonb(coalesce(v_free, '{}'::uuid[])),
    'seats_left', coalesce(v_seats, 0))
    || booking.local_span(v_start, v_start + v_svc.duration, v_zone);
end;
$$;
comment on function api.validate_service_availability(uuid, date, time, interval) is
  'Whether a local date and time can be booked now (as get_availability would list it: for a service with further pools, every pool has a member free for its part): {available, reason, resource_ids}, and, when the answer is available or taken, also {seats_left, start_time, end_time, time_zone, start_local, end_local} (seats_left as in get_availability: 0 when taken). reason is one of wrong_duration, nonexistent_local_time, too_soon_or_past, too_far_ahead, off_grid, outside_working_hours (also: nobody in a further pool works for its part), taken. Errors: BK001, BK002, BK014.';

-- popular_services
-- the services booked most in a recent window: what a cache warm-up should prepare first.
create or replace function api.popular_services(p_window interval default '7 days', p_limit integer default 10)
returns table (service_id uuid, reservations bigint)
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  if p_window is null or p_window <= interval '0' or p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'a positive window and a limit between 1 and 1000 are required' using errcode = 'BK014';
  end if;
  return query
    select r.service_id, count(*)
    from booking.reservations r
    join booking.services s on s.location_id = r.location_id and s.id = r.service_id and s.active
    where r.created_at > now() - p_window
    group by r.service_id
    order by count(*) desc, r.service_id
    limit p_limit;
end;
$$;
comment on function api.popular_services(interval, integer) is
  'Active services with the most holds and bookings created in the window, most first: the ones a cache warm-up should prepare. No personal data. Errors: BK014.';
