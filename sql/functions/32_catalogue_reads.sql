-- The public catalogue: the locations, the services of a location (with the next day that has a free
-- slot), one service, and who performs a service. Anyone who may read availability may read these
-- (customers, staff, admins, and the gateway's own role for anonymous callers): only what a customer
-- needs to choose and book, no personal data and no internal fields, and nothing inactive.

-- location_is_open
-- whether a location is listed: not closed by an admin (locations.active).
create or replace function booking.location_is_open(p_location booking.locations) returns boolean
language sql stable
as $$
  select p_location.active;
$$;
comment on function booking.location_is_open(booking.locations) is
  'True unless an admin closed the location (locations.active false).';

-- listed_location
-- a location the public may read, or BK019 (unknown, or closed). Not booking.open_location
-- (56_catalogue_admin.sql), which admins' changes use: it also checks the caller's locations and
-- calls a closed location BK018, neither of which a public read wants.
create or replace function booking.listed_location(p_location_id uuid) returns booking.locations
language plpgsql stable
set search_path = ''
as $$
declare
  v_location booking.locations;
begin
  select * into v_location from booking.locations l where l.id = p_location_id;
  if v_location.id is null or not booking.location_is_open(v_location) then
    raise exception 'location % does not exist', p_location_id
      using errcode = 'BK019', hint = 'List locations and pass one of their ids.';
  end if;
  return v_location;
end;
$$;
comment on function booking.listed_location(uuid) is
  'The location row for a public read, whoever calls; BK019 when it does not exist or is closed.';

-- next_available_day
-- the first local day, from today at the location, with a free slot of the service within p_days
-- days; NULL when none. Today is tried alone first: a salon with free time today answers from one
-- day's slots, and only a full day costs the rest of the horizon (in one call, not one per day).
create or replace function booking.next_available_day(p_service_id uuid, p_zone text, p_days integer)
returns date
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_now timestamptz := now();
  v_today date := (v_now at time zone p_zone)::date;
  v_first timestamptz;
begin
  select min(f.starts_at) into v_first from booking.free_slots(p_service_id, v_today, 1, null, v_now) f;
  if v_first is null and p_days > 1 then
    select min(f.starts_at) into v_first
    from booking.free_slots(p_service_id, v_today + 1, p_days - 1, null, v_now) f;
  end if;
  return (v_first at time zone p_zone)::date;
end;
$$;
comment on function booking.next_available_day(uuid, text, integer) is
  'The first local day (today at the location first) within p_days days with a free slot of the service, as get_availability would list it; NULL when none.';

-- list_locations
-- every open location: id, name and time zone, by name.
create or replace function api.list_locations()
returns table (id uuid, name text, time_zone text)
language sql stable
security definer
set search_path = ''
as $$
  select l.id, l.name, l.time_zone
  from booking.locations l
  where booking.location_is_open(l)
  order by l.name, l.id;
$$;
comment on function api.list_locations() is
  'The open locations (salons, studios): id, name and IANA time zone, by name. Public: no personal data.';

-- location_services
-- the active services of a location, by name, with the next local day that has a free slot.
create or replace function api.location_services(p_location_id uuid)
returns table (id uuid, name text, duration interval, buffer_before interval, buffer_after interval,
               price numeric, currency text, time_zone text, slot_step interval, next_available_day date)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_location booking.locations := booking.listed_location(p_location_id);
begin
  return query
    select s.id, s.name, s.duration, s.buffer_before, s.buffer_after, s.price, s.currency::text,
           v_location.time_zone, s.slot_step, booking.next_available_day(s.id, v_location.time_zone, 14)
    from booking.services s
    where s.location_id = v_location.id and s.active
    order by s.name, s.id;
end;
$$;
comment on function api.location_services(uuid) is
  'The active services of an open location, by name: duration, buffers before and after, price and currency, the location''s time zone, the slot grid step, and next_available_day, the first local day within 14 days (today first) with a free slot (NULL when none). Public: no personal data. Errors: BK019.';

-- get_service
-- one active service, as location_services lists it, with its location.
create or replace function api.get_service(p_service_id uuid)
returns table (id uuid, location_id uuid, name text, duration interval, buffer_before interval,
               buffer_after interval, price numeric, currency text, time_zone text, slot_step interval,
               next_available_day date)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_svc booking.services := booking.active_service(p_service_id);
  v_location booking.locations := booking.listed_location(v_svc.location_id);
begin
  return query
    select v_svc.id, v_svc.location_id, v_svc.name, v_svc.duration, v_svc.buffer_before, v_svc.buffer_after,
           v_svc.price, v_svc.currency::text, v_location.time_zone, v_svc.slot_step,
           booking.next_available_day(v_svc.id, v_location.time_zone, 14);
end;
$$;
comment on function api.get_service(uuid) is
  'One active service (one row): its location, name, duration, buffers, price and currency, the location''s time zone, slot grid step and next_available_day (as in location_services). Public: no personal data. Errors: BK001 unknown, BK002 no longer offered, BK019 the location is closed.';

-- service_resources before pool: another result type needs another function (CREATE OR REPLACE
-- cannot change it), so the former one is dropped first
do $$
begin
  if pg_get_function_result(to_regprocedure('api.service_resources(uuid)')) not like '%pool%' then
    drop function api.service_resources(uuid);
  end if;
end;
$$;

-- service_resources
-- who performs an active service and what else it needs: the active resources' id, public name, kind
-- and pool (1: who performs it; 2..8: its further pools, api.service_pools), by pool and preference.
create or replace function api.service_resources(p_service_id uuid)
returns table (id uuid, name text, kind text, pool smallint)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_svc booking.services := booking.active_service(p_service_id);
begin
  return query
    select r.id, r.name, r.kind, sr.pool
    from booking.service_resources sr
    join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
    where sr.location_id = v_svc.location_id and sr.service_id = v_svc.id
    order by sr.pool, sr.preference, sr.resource_id;
end;
$$;
comment on function api.service_resources(uuid) is
  'The active resources an active service needs, by pool and then in the order "any staff" tries them (preference): id (to pass as p_resource_id, for pool 1), public name, kind (staff, room, ...) and pool: 1 for who performs the service, 2 to 8 for its further pools (api.service_pools says what and when). Public: nothing else about them. Errors: BK001, BK002.';

-- service_pools
-- what an active service needs besides who performs it: its further pools, when, and their active members.
create or replace function api.service_pools(p_service_id uuid)
returns table (pool smallint, name text, starts_after interval, lasts interval, resource_ids uuid[])
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_svc booking.services := booking.active_service(p_service_id);
begin
  return query
    select p.pool, p.name, p.starts_after, p.lasts,
           coalesce((select array_agg(sr.resource_id order by sr.preference, sr.resource_id)
                     from booking.service_resources sr
                     join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
                     where sr.location_id = p.location_id and sr.service_id = p.service_id and sr.pool = p.pool),
                    '{}'::uuid[])
    from booking.service_pools p
    where p.location_id = v_svc.location_id and p.service_id = v_svc.id
    order by p.pool;
end;
$$;
comment on function api.service_pools(uuid) is
  'The further pools of an active service (none for most services): pool number (2 to 8), name (e.g. "Wash station"), starts_after and lasts (NULL: until the end), counted from the appointment''s start, and the active members in preference order. A hold or booking takes one member of every pool, all or nothing; availability shows a start only when each pool has a member free for its part. Public: no personal data. Errors: BK001, BK002.';
