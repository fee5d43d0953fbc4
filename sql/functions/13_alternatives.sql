-- Alternatives: the nearest free slots offered with a conflict. Internal helpers (schema booking), not
-- granted to any caller role. Both read reservations on the conflict path and run with
-- enable_seqscan = off (the hot-path plans rule, 12_schedule.sql).

-- nearest_free_starts
-- up to p_limit free starts of a service over local days [p_from, p_from + p_days), nearest to
-- p_near first, one resource per start (p_preferred if it is free then, else the first free by
-- preference), as JSON. A start is free on a resource when p_seats of its seats (one by default)
-- are free for the whole slot (for a resource of one seat: the resource). It replaces
-- alternatives_within, which built the days' whole slot grid for every resource:
drop function if exists booking.alternatives_within(uuid, text, timestamptz, uuid, integer, uuid, date, integer);
-- and its form before p_seats would linger beside it (and make every call without p_seats ambiguous):
drop function if exists booking.nearest_free_starts(booking.services, text, timestamptz, uuid, integer, uuid, date, integer);
-- The answer is the one free_slots over those days would give, found
-- without computing them all: the days' starts are tried outward from p_near, each against the
-- resources in order until one is free, and the search stops at p_limit. A seat's free time over the
-- days (its resource's working_time - the seat's busy_time, exactly as in free_slots) is computed the
-- first time a start needs it (seat 1 first; a further seat only while too few of the ones before
-- it are free then), so a conflict next to free time reads one or two resources, not the whole location, and a
-- resource of one seat costs one working_time and one busy_time, as before seats.
-- Starts outside everybody's hours are dropped first: a slot free on some resource lies within
-- that resource's working time, so within the union of all of them (minus the location's closures).
-- A service with further pools keeps only the starts at which every pool has a member free for its
-- part (booking.pool_starts, once per call, as free_slots does).
create or replace function booking.nearest_free_starts(
  p_svc booking.services, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer,
  p_ignore uuid, p_from date, p_days integer, p_seats integer default 1)
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
  v_capacity integer[];        -- each one's seats
  v_first integer[];           -- where its seats begin in v_free
  v_working tstzmultirange[];  -- each one's working time over the days, once computed
  v_free tstzmultirange[];     -- each seat's free time over the days, once computed
  v_seat integer;
  v_n integer;
  v_seats_free integer;
  v_anyone tstzmultirange;     -- when at least one of them may work
  v_pool_starts tstzmultirange;   -- further pools: the starts each has a member free for (NULL: none)
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
  select array_agg(e.resource_id order by e.n), array_agg(e.capacity order by e.n),
         array_agg(e.first order by e.n)
    into v_resources, v_capacity, v_first
  from (select o.resource_id, o.capacity, o.n,
               (sum(o.capacity) over (order by o.n) - o.capacity + 1)::integer as first
        from (select sr.resource_id, r.capacity,
                     row_number() over (order by (sr.resource_id = p_preferred) desc nulls last, sr.preference,
                                                 sr.resource_id) as n
              from booking.service_resources sr
              join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
              where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id and sr.pool = 1
                and r.capacity >= p_seats) o) e;
  if v_resources is null or p_limit < 1 then
    return '[]'::jsonb;
  end if;
  v_working := array_fill(null::tstzmultirange, array[cardinality(v_resources)]);
  v_free := array_fill(null::tstzmultirange,
                       array[v_first[cardinality(v_resources)] + v_capacity[cardinality(v_resources)] - 1]);

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
           and sr.pool = 1
          where wh.location_id = p_svc.location_id and wh.weekday = extract(isodow from d)::smallint) h
        union all
        select e.period from booking.schedule_exceptions e
        where e.location_id = p_svc.location_id and e.resource_id = any(v_resources)
          and e.kind = 'extra_hours'
          and e.period && tstzrange(p_from::timestamp at time zone p_zone,
                                    (p_from + p_days)::timestamp at time zone p_zone)) w;

  if exists (select 1 from booking.service_pools p
             where p.location_id = p_svc.location_id and p.service_id = p_svc.id) then
    v_pool_starts := booking.pool_starts(p_svc, p_zone, p_from, p_days, v_now, p_ignore);
  end if;

  -- each local day's grid from its local midnight, without the wall-clock times a DST change skips,
  -- within the minimum notice and the advance limit (the grid of free_slots), where anyone works
  -- (and every further pool has a member free)
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
    and v_anyone @> tstzrange(g.starts_at, g.starts_at + p_svc.duration)
    and (v_pool_starts is null or v_pool_starts @> g.starts_at);

  while v_i <= coalesce(cardinality(v_starts), 0) and cardinality(v_found_starts) < p_limit loop
    -- the starts at the next distance from p_near (one before it, one after it, at most)
    v_distance := abs(extract(epoch from v_starts[v_i] - p_near));
    v_at_distance_starts := '{}';
    v_at_distance_resources := '{}';
    v_j := v_i;
    while v_j <= cardinality(v_starts) and abs(extract(epoch from v_starts[v_j] - p_near)) = v_distance loop
      v_best := null;
      <<resources>>
      for v_k in 1 .. cardinality(v_resources) loop
        v_seats_free := 0;
        for v_seat in 1 .. v_capacity[v_k] loop
          v_n := v_first[v_k] + v_seat - 1;
          if v_free[v_n] is null then
            if v_working[v_k] is null then
              v_working[v_k] := booking.working_time(p_svc.location_id, v_resources[v_k], p_zone, p_from,
                                                     p_from + p_days - 1);
            end if;
            v_free[v_n] := v_working[v_k]
                           - booking.busy_time(p_svc.location_id, v_resources[v_k], v_window,
                                               p_svc.buffer_before, p_svc.buffer_after, v_now, p_ignore, v_seat);
          end if;
          if v_free[v_n] @> tstzrange(v_starts[v_j], v_starts[v_j] + p_svc.duration) then
            v_seats_free := v_seats_free + 1;
            if v_seats_free >= p_seats then
              v_best := v_resources[v_k];
              exit resources;
            end if;
          end if;
        end loop;
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
             'start_time', f.starts_at, 'end_time', f.starts_at + p_svc.duration, 'resource_id', f.resource_id,
             'time_zone', p_zone, 'start_local', f.starts_at at time zone p_zone,
             'end_local', (f.starts_at + p_svc.duration) at time zone p_zone)
           order by abs(extract(epoch from f.starts_at - p_near)), f.starts_at)
    from unnest(v_found_starts, v_found_resources) f(starts_at, resource_id)), '[]'::jsonb);
end;
$$;
comment on function booking.nearest_free_starts(booking.services, text, timestamptz, uuid, integer, uuid, date, integer, integer) is
  'Up to p_limit free starts of a service over some local days, nearest to p_near first (the preferred resource first at equal distance; a start is free on a resource when p_seats of its seats are, one by default), as JSON [{slot_id, start_time, end_time, resource_id, time_zone, start_local, end_local}]; the same answer as free_slots over those days, searched outward from p_near.';

-- alternatives
-- up to p_limit nearest free slots (with p_seats seats free on one resource): the same local day
-- first; only when it has too few, the next seven days. Nothing for a service that is no longer
-- offered. Its form before p_seats would make every call without p_seats ambiguous:
drop function if exists booking.alternatives(uuid, text, timestamptz, uuid, integer, uuid);
create or replace function booking.alternatives(
  p_service_id uuid, p_zone text, p_near timestamptz, p_preferred uuid, p_limit integer default 5,
  p_ignore uuid default null, p_seats integer default 1)
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
                                         v_day, 1, coalesce(p_seats, 1));
  if jsonb_array_length(v_found) < p_limit then
    v_found := v_found || booking.nearest_free_starts(v_svc, v_location_zone, p_near, p_preferred,
                                                      p_limit - jsonb_array_length(v_found), p_ignore,
                                                      v_day + 1, 7, coalesce(p_seats, 1));
  end if;
  return v_found;
end;
$$;
comment on function booking.alternatives(uuid, text, timestamptz, uuid, integer, uuid, integer) is
  'Up to 5 nearest free slots of a service (same local day first, then the next 7 days; nearest first, the preferred resource first at equal distance) with p_seats seats free on one resource (one by default), as JSON.';
