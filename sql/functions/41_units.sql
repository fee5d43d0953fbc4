-- Units: what a reservation occupies (sql/migrations/0013_units.sql). A reservation's units carry a
-- copy of its status and expiry, so that one exclusion constraint over live units can guard every
-- seat of every resource; the copy is kept by the triggers below, whatever function changes the
-- reservation. Internal helpers (schema booking), not granted to any caller role.
--
-- Lock order. A write that takes one unit needs no lock: INSERT ... ON CONFLICT DO NOTHING waits for
-- an in-flight rival and cannot deadlock. A write that takes several units (a stylist and a wash
-- station, or three seats) holds the first while it waits for the next, so two such writes could
-- wait for each other. Each of them therefore first takes a transaction advisory lock per
-- (resource, hour) it may touch, in ascending key order (lock_unit_spans): two writes whose units
-- can overlap share a resource and an hour, so the second waits for the first before it holds
-- anything; and a one-unit write, which holds nothing while it waits, closes no cycle.

-- pool_span
-- the time a pool's member is occupied for an appointment [p_start, p_end): from starts_after to
-- starts_after + lasts, with the service's buffer before when it starts with the appointment and its
-- buffer after when it lasts to the end.
create or replace function booking.pool_span(
  p_svc booking.services, p_starts_after interval, p_lasts interval, p_start timestamptz, p_buffered boolean)
returns tstzrange
language sql immutable
as $$
  select tstzrange(
    case when p_starts_after = interval '0' and p_buffered then p_start - p_svc.buffer_before
         else p_start + p_starts_after end,
    case when p_lasts is null or p_starts_after + p_lasts >= p_svc.duration
         then p_start + p_svc.duration + case when p_buffered then p_svc.buffer_after else interval '0' end
         else p_start + p_starts_after + p_lasts end);
$$;
comment on function booking.pool_span(booking.services, interval, interval, timestamptz, boolean) is
  'The span a pool is needed for an appointment starting p_start: [start + starts_after, start + starts_after + lasts), to the end when lasts is NULL; with p_buffered, widened by the service''s buffers where it touches the appointment''s start or end.';

-- lock_unit_spans
-- advisory locks on every (resource, hour) a multi-unit write may touch, in ascending key order.
create or replace function booking.lock_unit_spans(p_location_id uuid, p_resource_ids uuid[], p_span tstzrange)
returns void
language sql
set search_path = ''
as $$
  select count(pg_advisory_xact_lock(k.key))
  from (select distinct hashtextextended('unit:' || p_location_id::text || ':' || r.id::text || ':' || h::text, 0) as key
        from unnest(p_resource_ids) r(id)
        cross join generate_series(floor(extract(epoch from lower(p_span)) / 3600)::bigint,
                                   floor((extract(epoch from upper(p_span)) - 0.000001) / 3600)::bigint) h
        order by 1) k;
$$;
comment on function booking.lock_unit_spans(uuid, uuid[], tstzrange) is
  'Takes a transaction advisory lock per (resource, UTC hour) of the span, in ascending key order: what a write that takes more than one unit does before its first unit (the lock order of 41_units.sql).';

-- take_seats
-- takes p_wanted seats of one resource over p_occupied for a reservation (seat 1 first, then up),
-- with ON CONFLICT DO NOTHING: the exclusion constraint decides. Lapsed holds in the way are marked
-- expired and the seats still missing are tried once more. Returns how many seats it took; the
-- caller removes them when it needs more than it got.
create or replace function booking.take_seats(
  p_location_id uuid, p_reservation_id uuid, p_pool smallint, p_resource_id uuid, p_occupied tstzrange,
  p_attempt booking.attempt, p_wanted integer)
returns integer
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_taken integer := 0;
  v_capacity integer;
  v_seat integer;
  v_try integer;
begin
  for v_try in 1..2 loop
    if v_try = 2 then
      perform booking.expire_overlapping_holds(p_location_id, p_resource_id, p_occupied);
    end if;
    v_seat := 1;
    loop
      insert into booking.units (location_id, reservation_id, pool, seat, resource_id, occupied, status, expires_at)
      values (p_location_id, p_reservation_id, p_pool, v_seat, p_resource_id, p_occupied, p_attempt.status,
              p_attempt.expires_at)
      on conflict do nothing;
      if found then
        v_taken := v_taken + 1;
        exit when v_taken = p_wanted;
      end if;
      if v_capacity is null then      -- a free seat 1 needs no capacity: most resources have one seat
        select r.capacity into v_capacity from booking.resources r
         where r.location_id = p_location_id and r.id = p_resource_id;
      end if;
      v_seat := v_seat + 1;
      exit when v_seat > v_capacity;
    end loop;
    exit when v_taken = p_wanted;
  end loop;
  return v_taken;
end;
$$;
comment on function booking.take_seats(uuid, uuid, smallint, uuid, tstzrange, booking.attempt, integer) is
  'Inserts up to p_wanted live units (seats 1.. of one resource) for a reservation; returns how many it took. Lapsed holds in the way are expired first on the second pass.';

-- further_pools
-- the pools a service needs besides its main one, each with its members in preference order that
-- work for the pool's part of an appointment starting p_start.
create or replace function booking.further_pools(p_svc booking.services, p_zone text, p_start timestamptz)
returns setof booking.pool_need
language sql stable
set search_path = ''
as $$
  select p.pool, p.name, booking.pool_span(p_svc, p.starts_after, p.lasts, p_start, true),
         coalesce((select array_agg(sr.resource_id order by sr.preference, sr.resource_id)
                   from booking.service_resources sr
                   join booking.resources r on r.location_id = sr.location_id and r.id = sr.resource_id and r.active
                   where sr.location_id = p.location_id and sr.service_id = p.service_id and sr.pool = p.pool
                     and booking.works_during(sr.location_id, sr.resource_id, p_zone,
                                              lower(booking.pool_span(p_svc, p.starts_after, p.lasts, p_start, false)),
                                              upper(booking.pool_span(p_svc, p.starts_after, p.lasts, p_start, false)))),
                  '{}')
  from booking.service_pools p
  where p.location_id = p_svc.location_id and p.service_id = p_svc.id
  order by p.pool;
$$;
comment on function booking.further_pools(booking.services, text, timestamptz) is
  'The service''s pools besides the main one: pool number, name, the occupied span (buffers included) for an appointment at p_start, and the members working then, in preference order.';

-- keep_units_in_step
-- after a reservation changes: its units take its status and expiry; the main pool's units its
-- resource and time; the other pools' units move by as much as its start moved.
create or replace function booking.keep_units_in_step() returns trigger
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
begin
  update booking.units u
     set status = new.status, expires_at = new.expires_at,
         resource_id = case when u.pool = 1 then new.resource_id else u.resource_id end,
         occupied = case when u.pool = 1 then new.occupied
                         when new.starts_at = old.starts_at then u.occupied
                         else tstzrange(lower(u.occupied) + (new.starts_at - old.starts_at),
                                        upper(u.occupied) + (new.starts_at - old.starts_at)) end
   where u.location_id = new.location_id and u.reservation_id = new.id;
  return null;
end;
$$;
comment on function booking.keep_units_in_step() is
  'Trigger: copies a reservation''s status and expiry to its units and moves them with it (an exclusion violation of a unit fails the reservation''s UPDATE).';

drop trigger if exists reservations_units on booking.reservations;
create trigger reservations_units
  after update on booking.reservations
  for each row
  when (old.status is distinct from new.status or old.expires_at is distinct from new.expires_at
        or old.occupied is distinct from new.occupied or old.resource_id is distinct from new.resource_id)
  execute function booking.keep_units_in_step();

-- add_lead_unit
-- a reservation inserted without its units (by a migration, a fixture or an operator's script) gets
-- its one unit (seat 1 of its resource over its occupied time); an overlap fails the insert.
create or replace function booking.add_lead_unit() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into booking.units (location_id, reservation_id, pool, seat, resource_id, occupied, status, expires_at)
  values (new.location_id, new.id, 1, 1, new.resource_id, new.occupied, new.status, new.expires_at);
  new.units := 1;
  return new;
end;
$$;
comment on function booking.add_lead_unit() is
  'Trigger: a reservation inserted with units = 0 gets its single unit (seat 1 of its resource); the exclusion constraint of booking.units decides.';

drop trigger if exists reservations_lead_unit on booking.reservations;
create trigger reservations_lead_unit
  before insert on booking.reservations
  for each row
  when (new.units = 0)
  execute function booking.add_lead_unit();

-- lock_for_move
-- what an UPDATE that moves or revives a reservation's units takes first (convert_hold_to_booking,
-- reschedule_booking): the advisory lock of each resource it has a unit on, and of p_also (the
-- resource it moves to), in ascending key order, before any row lock. Read without a lock: a
-- reservation's units change resources only under these same locks.
create or replace function booking.lock_for_move(p_id uuid, p_also uuid default null) returns void
language sql
set search_path = ''
set enable_seqscan = off
as $$
  select count(pg_advisory_xact_lock(k.key))
  from (select distinct booking.resource_lock_key(r.location_id, x.resource_id) as key
        from booking.reservations r
        cross join lateral (select u.resource_id from booking.units u
                            where u.location_id = r.location_id and u.reservation_id = r.id
                            union all select p_also where p_also is not null) x
        where r.id = p_id
        order by 1) k;
$$;
comment on function booking.lock_for_move(uuid, uuid) is
  'Takes the resource lock (booking.resource_lock_key) of every resource the reservation has a unit on, plus p_also, in ascending key order: the first step of an UPDATE that moves or revives units.';

-- expire_holds_in_way
-- marks lapsed holds overlapping any unit of a reservation expired, as if its units were at p_shift
-- from where they are and its main pool on p_lead over p_lead_occupied.
create or replace function booking.expire_holds_in_way(
  p_row booking.reservations, p_lead uuid, p_lead_occupied tstzrange) returns void
language sql
set search_path = ''
set enable_seqscan = off
as $$
  select count(booking.expire_overlapping_holds(
           u.location_id,
           case when u.pool = 1 then p_lead else u.resource_id end,
           booking.moved_unit_span(u.pool, u.occupied, p_row.occupied, p_lead_occupied)))
  from booking.units u
  where u.location_id = p_row.location_id and u.reservation_id = p_row.id;
$$;
comment on function booking.expire_holds_in_way(booking.reservations, uuid, tstzrange) is
  'Expires lapsed holds in the way of a reservation''s units at their new place (main pool on p_lead over p_lead_occupied, the others moved by as much).';

-- lock_units_at
-- what a move or revival of a reservation with several units takes before its UPDATE: the (resource,
-- hour) locks of lock_unit_spans for every unit at its new place (the main pool on p_lead over
-- p_lead_occupied, the others moved by as much), so that it cannot wait for a multi-unit write that
-- waits for it (the lock order of this file). A reservation of one unit needs none.
create or replace function booking.lock_units_at(
  p_row booking.reservations, p_lead uuid, p_lead_occupied tstzrange) returns void
language sql
set search_path = ''
set enable_seqscan = off
as $$
  select booking.lock_unit_spans(p_row.location_id, array_agg(x.resource_id), range_merge(range_agg(x.occupied)))
  from (select case when u.pool = 1 then p_lead else u.resource_id end as resource_id,
               booking.moved_unit_span(u.pool, u.occupied, p_row.occupied, p_lead_occupied) as occupied
        from booking.units u
        where u.location_id = p_row.location_id and u.reservation_id = p_row.id) x;
$$;
comment on function booking.lock_units_at(booking.reservations, uuid, tstzrange) is
  'Takes the (resource, hour) locks (booking.lock_unit_spans) of every unit of a reservation at its new place (main pool on p_lead over p_lead_occupied, the others moved by as much): what moving or reviving several units at once takes first.';

-- assert_units_work
-- BK003 when a further pool's member of a reservation does not work for its part of the appointment
-- once moved to p_slot (its part: its unit moved by as much as the start, without the buffers).
create or replace function booking.assert_units_work(p_row booking.reservations, p_zone text, p_slot tstzrange)
returns void
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_unit record;
begin
  for v_unit in
    select u.pool, u.resource_id,
           tstzrange(lower(u.occupied) + (lower(p_slot) - p_row.starts_at),
                     upper(u.occupied) + (lower(p_slot) - p_row.starts_at)) * p_slot as part
    from booking.units u
    where u.location_id = p_row.location_id and u.reservation_id = p_row.id and u.pool > 1
    order by u.pool
  loop
    if not isempty(v_unit.part)
       and not booking.works_during(p_row.location_id, v_unit.resource_id, p_zone, lower(v_unit.part),
                                    upper(v_unit.part)) then
      raise exception 'resource % (pool %) does not work at % for this booking''s move', v_unit.resource_id,
        v_unit.pool, lower(v_unit.part) at time zone p_zone
        using errcode = 'BK003', hint = 'Choose a time at which every resource of the booking works (see get_availability).';
    end if;
  end loop;
end;
$$;
comment on function booking.assert_units_work(booking.reservations, text, tstzrange) is
  'Raises BK003 when a member of a further pool a reservation has a unit of does not work for its part of the appointment moved to p_slot (the unit moved by as much as the start, without the buffers): a reschedule keeps the members it has.';
