-- Recording a conflict: who is in the way of a write that lost to the exclusion constraint, and the
-- conflict row and result object every api function gives back. Internal helpers (schema booking),
-- not granted to any caller role. blocking_reservation reads reservations on the conflict path and
-- runs with enable_seqscan = off (the hot-path plans rule, 12_schedule.sql). The strategies that
-- settle a conflict are in 70_conflicts.sql.

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
