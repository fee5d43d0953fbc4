-- Recording a conflict: who is in the way of a write that lost to the exclusion constraint, and the
-- conflict row and result object every api function gives back. Internal helpers (schema booking),
-- not granted to any caller role. blocking_reservation reads reservations on the conflict path and
-- runs with enable_seqscan = off (the hot-path plans rule, 12_schedule.sql). The strategies that
-- settle a conflict are in 70_conflicts.sql.

-- record_conflict's form before booking.attempt and booking.conflict_report (fifteen positional
-- parameters) would linger beside it:
drop function if exists booking.record_conflict(booking.services, text, text, text, uuid, uuid, uuid, uuid,
                                                timestamptz, timestamptz, timestamptz, text, text, text, jsonb);

-- record_conflict
-- writes a conflict row (kept although the caller's action failed) and returns the conflict object
-- every API function gives back: type, reason, what to do, up to 5 alternatives, strategy and outcome,
-- and the location's time zone (the alternatives carry their local times); and, when what was taken
-- is a further pool of the service (a wash station, not the stylist), that pool: the report's
-- detail says {"pool": {pool, name}}, kept with the conflict and given back as its pool member.
-- The attempt says who asked for which time in which operation; the report says the rest.
create or replace function booking.record_conflict(
  p_svc booking.services, p_zone text, p_attempt booking.attempt, p_report booking.conflict_report)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_start timestamptz := lower(p_attempt.slot);
  v_type text := p_report.conflict_type;
  v_strategy text := coalesce(p_report.strategy, 'first_come_first_serve');
  v_outcome text := coalesce(p_report.outcome, 'refused');
  v_status text := coalesce(p_report.status, 'resolved');
  v_alternatives jsonb;
  v_offered jsonb;
  v_id uuid;
  v_reason text;
begin
  v_alternatives := case when v_start is null then '[]'::jsonb
                         else booking.alternatives(p_svc.id, p_zone, v_start, p_report.resource_id, 5,
                                                   p_report.attempted_reservation_id, p_attempt.seats) end;
  v_offered := case when v_status = 'awaiting_confirmation' then v_alternatives->0 end;
  v_reason := case v_type
    when 'HOLD_CONFLICT' then 'The time is held by another customer.'
    when 'BOOKING_CONFLICT' then 'The time is already booked.'
    when 'VERSION_CONFLICT' then 'The booking changed since you read it.'
    else 'The time was taken after the availability you saw.' end;
  insert into booking.conflicts (location_id, service_id, resource_id, conflict_type, strategy, outcome,
                                 status, operation, requester_customer_id, holder_reservation_id,
                                 attempted_reservation_id, requested_start, requested_end, alternatives,
                                 offered, detail, resolved_at)
  values (p_svc.location_id, p_svc.id, p_report.resource_id, v_type, v_strategy, v_outcome, v_status,
          p_attempt.operation, p_attempt.customer_id, p_report.holder_reservation_id,
          p_report.attempted_reservation_id, v_start, upper(p_attempt.slot), v_alternatives, v_offered,
          coalesce(p_report.detail, '{}'::jsonb), case when v_status = 'resolved' then clock_timestamp() end)
  returning id into v_id;
  return jsonb_build_object(
    'success', false,
    'conflict_id', v_id,
    'conflict_type', v_type,
    'conflict_reason', v_reason,
    'suggested_action', case
      when v_status = 'awaiting_confirmation' then 'confirm_offered_alternative'
      when v_status = 'open' then 'wait_for_staff'
      when v_type = 'VERSION_CONFLICT' then 'reload_and_retry'
      when v_type = 'CACHE_CONFLICT' then 'refresh_availability'
      when v_type = 'HOLD_CONFLICT' then 'choose_alternative_or_retry_later'
      else 'choose_alternative' end,
    'requires_retry', v_type in ('HOLD_CONFLICT', 'VERSION_CONFLICT', 'CACHE_CONFLICT'),
    'retry_after', p_report.retry_after,
    'time_zone', p_zone,
    'strategy', v_strategy,
    'outcome', v_outcome,
    'status', v_status,
    'offered', v_offered,
    'alternatives', v_alternatives)
    || case when p_report.detail ? 'pool' then jsonb_build_object('pool', p_report.detail->'pool')
            else '{}'::jsonb end;
end;
$$;
comment on function booking.record_conflict(booking.services, text, booking.attempt, booking.conflict_report) is
  'Records a conflict in booking.conflicts (the attempt: operation, requester, requested time; the report: type, resource, holder, strategy, outcome, status, detail) and returns the conflict result object with alternatives and the location''s time_zone, and pool ({pool, name}) when the detail names the further pool that was taken.';

-- blocking_reservation
-- after a write lost to the exclusion constraint: who holds the time (the type, the holder, when it may free up).
create or replace function booking.blocking_reservation(
  p_location_id uuid, p_resource_ids uuid[], p_occupied tstzrange, p_ignore uuid default null,
  out conflict_type text, out holder uuid, out retry_after timestamptz)
language sql stable
set search_path = ''
set enable_seqscan = off
as $$
  select case when bool_or(u.status = 'held') and not bool_or(u.status = 'confirmed')
              then 'HOLD_CONFLICT' else 'BOOKING_CONFLICT' end,
         (array_agg(u.reservation_id order by u.status = 'confirmed' desc, r.created_at))[1],
         case when bool_or(u.status = 'confirmed') then null else min(u.expires_at) end
  from booking.units u
  join booking.reservations r on r.location_id = u.location_id and r.id = u.reservation_id
  where u.location_id = p_location_id and u.resource_id = any(p_resource_ids)
    and u.status in ('held', 'confirmed') and u.occupied && p_occupied
    and u.reservation_id is distinct from p_ignore;
$$;
comment on function booking.blocking_reservation(uuid, uuid[], tstzrange, uuid) is
  'The live reservations (by their units on the resources) in the way of a write: HOLD_CONFLICT when only holds block, else BOOKING_CONFLICT.';

-- pool_label
-- a further pool of a service as a conflict names it: {pool, name}.
create or replace function booking.pool_label(p_location_id uuid, p_service_id uuid, p_pool smallint) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('pool', p_pool,
                            'name', coalesce((select p.name from booking.service_pools p
                                              where p.location_id = p_location_id and p.service_id = p_service_id
                                                and p.pool = p_pool), 'pool ' || p_pool));
$$;
comment on function booking.pool_label(uuid, uuid, smallint) is
  'A further pool of a service as conflicts name it: {pool, name} (name "pool N" when the service no longer has that pool).';

-- missing_pool
-- after a write of a service with further pools took nothing: the first further pool with no member
-- free for its part, when the main pool had a candidate free; NULL when the main pool was taken (the
-- strategies act on it) or, by now, nothing is missing. With p_preempting (a main resource whose
-- holds in the way a strategy would preempt), the main pool is not asked about and the units of
-- those holds count as free.
create or replace function booking.missing_pool(
  p_svc booking.services, p_candidates uuid[], p_attempt booking.attempt, p_preempting uuid default null)
returns booking.pool_need
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_start timestamptz := lower(p_attempt.slot);
  v_occupied tstzrange := tstzrange(lower(p_attempt.slot) - p_svc.buffer_before,
                                    upper(p_attempt.slot) + p_svc.buffer_after);
  v_pool booking.pool_need;
begin
  -- a candidate with as many seats free as asked for (seats busy: those with a live unit overlapping)
  if p_preempting is null and not exists (
      select 1 from unnest(p_candidates) c(id)
      join booking.resources r on r.location_id = p_svc.location_id and r.id = c.id
      where r.capacity - (select count(distinct u.seat) from booking.units u
                          where u.location_id = p_svc.location_id and u.resource_id = c.id
                            and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > now())
                            and u.occupied && v_occupied) >= coalesce(p_attempt.seats, 1)) then
    return null;
  end if;
  for v_pool in select * from booking.further_pools(p_svc, booking.location_zone(p_svc.location_id), v_start) loop
    if not exists (
        select 1 from unnest(v_pool.members) m(id)
        join booking.resources r on r.location_id = p_svc.location_id and r.id = m.id
        where r.capacity > (select count(distinct u.seat) from booking.units u
                            where u.location_id = p_svc.location_id and u.resource_id = m.id
                              and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > now())
                              and u.occupied && v_pool.occupied
                              and not (u.status = 'held' and u.reservation_id in (
                                         select h.reservation_id from booking.units h
                                         where h.location_id = p_svc.location_id and h.resource_id = p_preempting
                                           and h.status = 'held' and h.occupied && v_occupied)))) then
      return v_pool;
    end if;
  end loop;
  return null;
end;
$$;
comment on function booking.missing_pool(booking.services, uuid[], booking.attempt, uuid) is
  'After an attempt of a service with further pools took nothing: the first further pool (booking.pool_need) none of whose working members has a seat free for its part, provided a main-pool candidate was free; NULL when the main pool was what was taken, or nothing is missing any more. With p_preempting, the main pool is not asked about and the units of holds in the way on that resource count as free (what preempting them would free).';

-- moved_unit_span
-- where a unit of a reservation lies when the reservation moves: the main pool's (pool 1) over
-- p_lead_occupied, any other moved by as much as the main pool's start. A single SQL expression with
-- no SET clause, so that PostgreSQL inlines it (the inlining rule, 10_caller.sql).
create or replace function booking.moved_unit_span(
  p_pool smallint, p_unit tstzrange, p_row_occupied tstzrange, p_lead_occupied tstzrange)
returns tstzrange
language sql stable
as $$
  select case when p_pool = 1 then p_lead_occupied
              else tstzrange(lower(p_unit) + (lower(p_lead_occupied) - lower(p_row_occupied)),
                             upper(p_unit) + (lower(p_lead_occupied) - lower(p_row_occupied))) end;
$$;
comment on function booking.moved_unit_span(smallint, tstzrange, tstzrange, tstzrange) is
  'The span of a unit (pool p_pool, now over p_unit) of a reservation now occupying p_row_occupied, once the reservation moves so that its main pool occupies p_lead_occupied: p_lead_occupied for pool 1, the unit''s span shifted by as much as the start for the others.';

-- unit_in_the_way
-- after a move or revival of a reservation's units hit the exclusion constraint: the first of its units,
-- at its new place (the main pool on p_lead over p_lead_occupied, the others moved by as much), that
-- overlaps a live unit of another reservation on the same seat.
create or replace function booking.unit_in_the_way(
  p_row booking.reservations, p_lead uuid, p_lead_occupied tstzrange,
  out pool smallint, out resource_id uuid, out occupied tstzrange)
language sql stable
set search_path = ''
set enable_seqscan = off
as $$
  select x.pool, x.resource_id, x.occupied
  from (select u.pool, u.seat,
               case when u.pool = 1 then p_lead else u.resource_id end as resource_id,
               booking.moved_unit_span(u.pool, u.occupied, p_row.occupied, p_lead_occupied) as occupied
        from booking.units u
        where u.location_id = p_row.location_id and u.reservation_id = p_row.id) x
  where exists (select 1 from booking.units o
                where o.location_id = p_row.location_id and o.resource_id = x.resource_id and o.seat = x.seat
                  and o.status in ('held', 'confirmed') and o.occupied && x.occupied
                  and o.reservation_id <> p_row.id)
  order by x.pool, x.seat
  limit 1;
$$;
comment on function booking.unit_in_the_way(booking.reservations, uuid, tstzrange) is
  'The first unit of a reservation (pool, resource and span at its new place: the main pool on p_lead over p_lead_occupied, the others moved by as much) that a live unit of another reservation overlaps on the same seat; what a move or revival that hit the exclusion constraint ran into.';
