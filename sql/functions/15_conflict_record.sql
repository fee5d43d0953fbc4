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
-- and the location's time zone (the alternatives carry their local times).
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
    'alternatives', v_alternatives);
end;
$$;
comment on function booking.record_conflict(booking.services, text, booking.attempt, booking.conflict_report) is
  'Records a conflict in booking.conflicts (the attempt: operation, requester, requested time; the report: type, resource, holder, strategy, outcome, status, detail) and returns the conflict result object with alternatives and the location''s time_zone.';

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
