-- Conflicts: the seven strategies, settling conflicts later (requester or admin), metrics, advice.
--
-- Strategies apply when a hold or direct booking finds its time taken:
--   first_come_first_serve  the existing reservation stays; the attempt is refused (default)
--   last_wins               the attempt preempts older *holds* in the way, never a confirmed booking
--   priority_based          as last_wins, only when the requester's priority beats every holder's
--   rollback_all            the holds in the way are dropped and the attempt is refused too
--   consensus               refused, with an offered alternative awaiting api.confirm_conflict
--   arbitration             placed on another eligible resource at the same time, else the nearest time
--   admin_intervention      refused and escalated; open until api.resolve_conflict
-- A preempted hold gets status 'preempted', which emits hold:preempted to its holder.
--
-- A service with further pools (a stylist and a wash station): the strategies act on the main pool.
-- When the main pool had someone free and a further pool was what was taken (booking.missing_pool),
-- the conflict names that pool ({pool, name}) and nothing is preempted or rolled back, whatever the
-- strategy: last_wins, priority_based and rollback_all refuse; consensus offers, arbitration places
-- and admin_intervention escalates as usual (alternatives respect every pool). When the main pool
-- was taken, last_wins and priority_based preempt a resource's holds only when every further pool
-- would then have a member free (booking.missing_pool, counting the preempted holds' units as
-- free): nobody loses a hold to an attempt that a wash station would refuse anyway.

-- arbitration_lock_key
-- serializes arbitration for one service and local day, so two arbiters do not pick the same slot.
create or replace function booking.arbitration_lock_key(p_service_id uuid, p_day date) returns bigint
language sql immutable
as $$ select hashtextextended('arbitration:' || p_service_id::text || ':' || p_day::text, 0) $$;
comment on function booking.arbitration_lock_key(uuid, date) is
  'Advisory lock key per service and local day: arbitration takes it so that two arbiters do not place two attempts on the same free slot.';

-- lock_arbitration_early
-- an attempt of several units (seats, pools) under the arbitration strategy takes the arbitration
-- lock before booking.take_slot takes its (resource, hour) locks: having lost, it would take it in
-- settle_conflict after them, out of the lock order (docs/ARCHITECTURE.md, "Advisory locks"), and
-- could wait there for an arbiter that waits for one of its hour locks.
create or replace function booking.lock_arbitration_early(
  p_svc booking.services, p_zone text, p_start timestamptz, p_seats integer)
returns void
language plpgsql
set search_path = ''
as $$
begin
  if p_svc.conflict_strategy = 'arbitration'
     and (p_seats > 1 or exists (select 1 from booking.service_pools p
                                 where p.location_id = p_svc.location_id and p.service_id = p_svc.id)) then
    perform pg_advisory_xact_lock(booking.arbitration_lock_key(p_svc.id, booking.local_day(p_start, p_zone)));
  end if;
end;
$$;
comment on function booking.lock_arbitration_early(booking.services, text, timestamptz, integer) is
  'Takes the arbitration lock of the attempt''s service and local day first when the service settles conflicts by arbitration and the attempt takes several units, so that its lock comes before their (resource, hour) locks.';

-- customer_holds_lock_key
-- serializes one customer's new holds, so the cap on live holds cannot be raced past.
create or replace function booking.customer_holds_lock_key(p_customer_id uuid) returns bigint
language sql immutable
as $$ select hashtextextended('holds:' || p_customer_id::text, 0) $$;
comment on function booking.customer_holds_lock_key(uuid) is
  'Advisory lock key per customer: serializes a customer''s new holds so the cap on live holds cannot be raced past.';

-- live_hold_cap_reached
-- whether the customer already has the location's maximum of live holds. Takes the per-customer lock
-- first and keeps it to commit, so whoever checks next counts this transaction's new hold too.
-- The count reads the customer's live holds (reservations_customer_held, by customer_id) and keeps
-- those at the location: said as a WHERE condition, location_id would let the planner read the
-- location's live holds instead (the primary key or the exclusion constraint's index), which it
-- takes for as cheap whenever statistics call held rows rare. So its statements are planned on
-- every call (force_custom_plan): a plan kept from a nearly empty table never counts (~0.1 ms).
drop function if exists booking.live_holds(uuid, uuid);
create or replace function booking.live_hold_cap_reached(p_location_id uuid, p_customer_id uuid) returns boolean
language plpgsql
set search_path = ''
set enable_seqscan = off
set plan_cache_mode = force_custom_plan
as $$
declare
  v_cap smallint;
  v_live bigint;
begin
  perform pg_advisory_xact_lock(booking.customer_holds_lock_key(p_customer_id));
  select l.max_live_holds_per_customer into v_cap from booking.locations l where l.id = p_location_id;
  select count(*) filter (where r.location_id = p_location_id) into v_live
    from booking.reservations r
   where r.customer_id = p_customer_id and r.status = 'held' and r.expires_at > now();
  return v_live >= v_cap;
end;
$$;
comment on function booking.live_hold_cap_reached(uuid, uuid) is
  'True when a customer already has max_live_holds_per_customer live holds at the location. Serialized per customer (an advisory lock held to commit).';

-- assert_live_hold_cap
-- BK016 when the customer already has the location's maximum of live holds. Every path that creates
-- a live hold calls it (create_hold_atomic, an accepted consensus offer); only an admin's explicit
-- grant in api.resolve_conflict may go over the cap, and that is recorded on the conflict.
create or replace function booking.assert_live_hold_cap(p_location_id uuid, p_customer_id uuid) returns void
language plpgsql
set search_path = ''
as $$
begin
  if booking.live_hold_cap_reached(p_location_id, p_customer_id) then
    raise exception 'you already hold the most slots allowed at once here'
      using errcode = 'BK016', hint = 'Book or release a hold before taking another.';
  end if;
end;
$$;
comment on function booking.assert_live_hold_cap(uuid, uuid) is
  'Raises BK016 when a customer already has max_live_holds_per_customer live holds at the location (serialized per customer).';

-- preempt_holds
-- marks the holds with a unit in the way on one resource preempted (all their units are freed);
-- returns their ids (empty when a booking blocks).
-- (holds are picked as "live and not confirmed", as in booking.expire_overlapping_holds, so that
-- only the exclusion constraint's index matches)
create or replace function booking.preempt_holds(
  p_location_id uuid, p_resource_id uuid, p_occupied tstzrange, p_below_priority integer default null)
returns uuid[]
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_ids uuid[];
begin
  if exists (select 1 from booking.units u
             where u.location_id = p_location_id and u.resource_id = p_resource_id
               and u.status = 'confirmed' and u.occupied && p_occupied) then
    return '{}';
  end if;
  if p_below_priority is not null and exists (
      select 1 from booking.units u
      join booking.reservations r on r.location_id = u.location_id and r.id = u.reservation_id
      join booking.customers c on c.id = r.customer_id
      where u.location_id = p_location_id and u.resource_id = p_resource_id
        and u.status in ('held', 'confirmed') and u.status <> 'confirmed'
        and u.expires_at > now() and u.occupied && p_occupied and c.priority >= p_below_priority) then
    return '{}';
  end if;
  with preempted as (
    update booking.reservations r
       set status = 'preempted', version = r.version + 1, updated_at = now(), ended_at = now()
     where r.location_id = p_location_id
       and r.id in (select u.reservation_id from booking.units u
                    where u.location_id = p_location_id and u.resource_id = p_resource_id
                      and u.status in ('held', 'confirmed') and u.status <> 'confirmed'
                      and u.occupied && p_occupied)
       and r.status in ('held', 'confirmed') and r.status <> 'confirmed'
    returning r.id)
  select coalesce(array_agg(id), '{}') into v_ids from preempted;
  return v_ids;
end;
$$;
comment on function booking.preempt_holds(uuid, uuid, tstzrange, integer) is
  'Preempts the holds overlapping a range on a resource, unless a confirmed booking (or, with a priority, an equal or higher-priority holder) is in the way.';

-- settle_conflict's form before booking.attempt (fourteen positional parameters) would linger beside it:
drop function if exists booking.settle_conflict(booking.services, text, text, uuid[], uuid, text, timestamptz,
                                                timestamptz, timestamptz, text, text, text, jsonb, bigint);

-- settle_conflict
-- what happens when a hold or direct booking finds its time taken: the service's strategy decides.
-- Returns a success object (with conflict_id and what was done) or the conflict object. The report
-- starts as a refusal of the attempt on its first candidate; each strategy changes what it did.
create or replace function booking.settle_conflict(
  p_svc booking.services, p_zone text, p_candidates uuid[], p_attempt booking.attempt)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_start timestamptz := lower(p_attempt.slot);
  v_occupied tstzrange := tstzrange(v_start - p_svc.buffer_before, upper(p_attempt.slot) + p_svc.buffer_after);
  v_block record;
  v_strategy text := p_svc.conflict_strategy;
  v_resource uuid;
  v_preempted uuid[] := '{}';
  v_priority integer;
  v_row booking.reservations;
  v_alt jsonb;
  v_elsewhere booking.attempt := p_attempt;    -- the attempt moved to an alternative's time
  v_report booking.conflict_report;
  v_conflict jsonb;
  v_pooled boolean;
  v_pool booking.pool_need;                    -- the further pool that was taken, if that was it
  v_named jsonb := '{}'::jsonb;
begin
  v_pooled := exists (select 1 from booking.service_pools p
                      where p.location_id = p_svc.location_id and p.service_id = p_svc.id);
  if v_pooled then
    v_pool := booking.missing_pool(p_svc, p_candidates, p_attempt);
  end if;
  if v_pool.pool is not null then
    v_named := jsonb_build_object('pool', jsonb_build_object('pool', v_pool.pool, 'name', v_pool.name));
    select * into v_block from booking.blocking_reservation(p_svc.location_id, v_pool.members, v_pool.occupied);
  else
    select * into v_block from booking.blocking_reservation(p_svc.location_id, p_candidates, v_occupied);
  end if;
  v_report.conflict_type := coalesce(v_block.conflict_type, 'HOLD_CONFLICT');
  -- 0 is no version (api.availability_version while an event below its newest may still commit): nothing to compare
  if p_attempt.seen_version > 0 and exists (
      select 1 from booking.events e
      where e.reservation_id = v_block.holder and e.id > p_attempt.seen_version) then
    v_report.conflict_type := 'CACHE_CONFLICT';
  end if;
  v_report.resource_id := p_candidates[1];
  v_report.holder_reservation_id := v_block.holder;
  v_report.retry_after := v_block.retry_after;
  v_report.strategy := v_strategy;
  v_report.outcome := 'refused';
  v_report.status := 'resolved';
  -- what the attempt asked for, so that it can be settled later
  v_report.detail := jsonb_build_object('status', p_attempt.status, 'session_id', p_attempt.session_id,
                                        'idempotency_key', p_attempt.idempotency_key,
                                        'hold_seconds', extract(epoch from p_attempt.expires_at - now()),
                                        'seats', coalesce(p_attempt.seats, 1))
                      || v_named;

  if v_pool.pool is not null and v_strategy in ('last_wins', 'priority_based', 'rollback_all') then
    -- a further pool was taken: the strategies act on the main pool, which was free; refused
    return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
  elsif v_strategy in ('last_wins', 'priority_based') then
    if v_strategy = 'priority_based' then
      select c.priority into v_priority from booking.customers c where c.id = p_attempt.customer_id;
    end if;
    foreach v_resource in array p_candidates loop
      -- a hold is preempted only if the attempt then gets every further pool too (the preempted
      -- holds' own units count as free); otherwise the refusal names the pool
      if v_pooled then
        v_pool := booking.missing_pool(p_svc, array[v_resource], p_attempt, v_resource);
        if v_pool.pool is not null then
          v_named := jsonb_build_object('pool', jsonb_build_object('pool', v_pool.pool, 'name', v_pool.name));
          continue;
        end if;
      end if;
      v_preempted := booking.preempt_holds(p_svc.location_id, v_resource, v_occupied,
                                           case when v_strategy = 'priority_based' then v_priority end);
      if cardinality(v_preempted) > 0 then
        v_row := booking.take_slot(p_svc, array[v_resource], p_attempt);
        if v_row.id is not null then
          v_report.resource_id := v_resource;
          v_report.holder_reservation_id := v_preempted[1];
          v_report.attempted_reservation_id := v_row.id;
          v_report.retry_after := null;
          v_report.outcome := 'preempted';
          v_conflict := booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
          return booking.taken_result(v_row, p_zone) || jsonb_build_object(
            'conflict_id', v_conflict->'conflict_id', 'strategy', v_strategy, 'outcome', 'preempted',
            'preempted_ids', to_jsonb(v_preempted));
        end if;
      end if;
    end loop;
    v_report.detail := v_report.detail || v_named;   -- the pool that kept a preemption from helping
    return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
  elsif v_strategy = 'rollback_all' then
    foreach v_resource in array p_candidates loop
      v_preempted := v_preempted || booking.preempt_holds(p_svc.location_id, v_resource, v_occupied);
    end loop;
    v_report.retry_after := null;
    v_report.outcome := case when cardinality(v_preempted) > 0 then 'rolled_back' else 'refused' end;
    v_report.detail := v_report.detail || jsonb_build_object('preempted_ids', to_jsonb(v_preempted));
    return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
  elsif v_strategy = 'arbitration' then
    -- another eligible resource at the requested time, else the nearest free time, else refused
    perform pg_advisory_xact_lock(booking.arbitration_lock_key(p_svc.id, booking.local_day(v_start, p_zone)));
    begin
      v_row := booking.take_slot(p_svc, booking.candidate_resources(p_svc, p_zone, v_start, upper(p_attempt.slot),
                                                                    null),
                                 p_attempt);
    exception when sqlstate 'BK003' then
      v_row := null;
    end;
    if v_row.id is not null then
      v_report.outcome := 'other_resource';
    else
      for v_alt in select a from jsonb_array_elements(booking.alternatives(p_svc.id, p_zone, v_start, p_candidates[1],
                                                                               p_seats => p_attempt.seats)) a loop
        v_elsewhere.slot := tstzrange((v_alt->>'start_time')::timestamptz, (v_alt->>'end_time')::timestamptz);
        v_elsewhere.slot_id := v_alt->>'slot_id';
        v_row := booking.take_slot(p_svc, array[(v_alt->>'resource_id')::uuid], v_elsewhere);
        exit when v_row.id is not null;
      end loop;
      if v_row.id is null then
        return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
      end if;
      v_report.outcome := 'nearest_time';
    end if;
    v_report.resource_id := v_row.resource_id;
    v_report.attempted_reservation_id := v_row.id;
    v_report.retry_after := null;
    v_conflict := booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
    return booking.taken_result(v_row, p_zone) || jsonb_build_object(
      'conflict_id', v_conflict->'conflict_id', 'strategy', v_strategy, 'outcome', v_report.outcome,
      'arbitration', case v_report.outcome
        when 'other_resource' then 'Placed with another eligible resource at the requested time.'
        else 'The requested time was taken; placed at the nearest free time.' end)
      || case when v_report.outcome = 'nearest_time'
              then jsonb_build_object('requested_start', v_start, 'requested_start_local', v_start at time zone p_zone)
              else '{}'::jsonb end;
  elsif v_strategy = 'consensus' then
    v_report.outcome := 'offered_alternative';
    v_report.status := 'awaiting_confirmation';
    return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
  elsif v_strategy = 'admin_intervention' then
    v_report.outcome := 'escalated';
    v_report.status := 'open';
    return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
  end if;
  -- first_come_first_serve: refused, and nothing is kept for settling it later (but the pool it names)
  v_report.strategy := 'first_come_first_serve';
  v_report.detail := v_named;
  return booking.record_conflict(p_svc, p_zone, p_attempt, v_report);
end;
$$;
comment on function booking.settle_conflict(booking.services, text, uuid[], booking.attempt) is
  'Applies the service''s conflict strategy when an attempt (a hold or booking) finds its time taken on every candidate resource, or a further pool of the service taken (then named as the conflict''s pool, and nothing is preempted or rolled back); records the conflict.';

-- grant_attempt
-- places a stored attempt of a conflict (hold or booking) at a given time and resource. A hold counts
-- against the requester's live-hold cap (BK016) unless p_enforce_cap is false (an admin's grant).
-- Its three-argument form before p_enforce_cap would make every call ambiguous: dropped first.
drop function if exists booking.grant_attempt(booking.conflicts, timestamptz, uuid);
create or replace function booking.grant_attempt(
  p_conflict booking.conflicts, p_start timestamptz, p_resource_id uuid, p_enforce_cap boolean default true)
returns booking.reservations
language plpgsql
set search_path = ''
as $$
declare
  v_svc booking.services := booking.active_service(p_conflict.service_id);
  v_attempt booking.attempt;
begin
  v_attempt.operation := p_conflict.operation;
  v_attempt.customer_id := p_conflict.requester_customer_id;
  v_attempt.status := coalesce(p_conflict.detail->>'status', 'held');
  if v_attempt.status = 'held' and p_enforce_cap then
    perform booking.assert_live_hold_cap(v_svc.location_id, v_attempt.customer_id);
  end if;
  v_attempt.slot := tstzrange(p_start, p_start + v_svc.duration);
  v_attempt.expires_at := case when v_attempt.status = 'held' then now() + v_svc.hold_ttl end;
  v_attempt.session_id := p_conflict.detail->>'session_id';
  v_attempt.slot_id := booking.slot_id(v_svc.id, p_start);
  v_attempt.seats := coalesce((p_conflict.detail->>'seats')::integer, 1);
  return booking.take_slot(v_svc, array[p_resource_id], v_attempt);
end;
$$;
comment on function booking.grant_attempt(booking.conflicts, timestamptz, uuid, boolean) is
  'Places a conflict''s stored attempt (its seats too) at a time and resource; NULL when taken. A hold is refused with BK016 at the requester''s live-hold cap unless p_enforce_cap is false.';

-- confirm_conflict
-- the requester accepts or declines the alternative offered under the consensus strategy.
create or replace function api.confirm_conflict(p_conflict_id uuid, p_accept boolean) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_c booking.conflicts;
  v_row booking.reservations;
  v_zone text;
begin
  select * into v_c from booking.conflicts c where c.id = p_conflict_id for update;
  if v_c.id is null then
    raise exception 'conflict % not found', p_conflict_id using errcode = 'BK008';
  end if;
  perform booking.assert_owns(v_c.requester_customer_id, 'conflict');
  perform booking.assert_location_access(v_c.location_id);
  if v_c.status <> 'awaiting_confirmation' or v_c.offered is null then
    raise exception 'conflict % is not waiting for a confirmation', p_conflict_id
      using errcode = 'BK010', hint = 'Only a consensus conflict with an offer can be confirmed.';
  end if;
  if not coalesce(p_accept, false) then
    update booking.conflicts c set status = 'resolved', outcome = 'declined', decision = 'declined',
                                   resolved_at = clock_timestamp()
     where c.location_id = v_c.location_id and c.id = v_c.id;
    return jsonb_build_object('success', true, 'conflict_id', v_c.id, 'outcome', 'declined');
  end if;
  v_row := booking.grant_attempt(v_c, (v_c.offered->>'start_time')::timestamptz,
                                 (v_c.offered->>'resource_id')::uuid);
  update booking.conflicts c
     set status = 'resolved', decision = 'accepted', resolved_at = clock_timestamp(),
         outcome = case when v_row.id is null then 'offer_taken' else 'accepted_alternative' end,
         attempted_reservation_id = v_row.id
   where c.location_id = v_c.location_id and c.id = v_c.id;
  if v_row.id is null then
    return jsonb_build_object('success', false, 'conflict_id', v_c.id, 'outcome', 'offer_taken',
                              'conflict_reason', 'The offered time was taken meanwhile.',
                              'alternatives', booking.alternatives(v_c.service_id,
                                 booking.location_zone(v_c.location_id), v_c.requested_start, v_c.resource_id,
                                 p_seats => (v_c.detail->>'seats')::integer));
  end if;
  v_zone := booking.location_zone(v_c.location_id);
  return booking.taken_result(v_row, v_zone)
         || jsonb_build_object('conflict_id', v_c.id, 'outcome', 'accepted_alternative');
end;
$$;
comment on function api.confirm_conflict(uuid, boolean) is
  'The requester accepts (p_accept true: the offered alternative is held or booked for them) or declines the alternative offered under the consensus strategy. Accepting an offered hold counts against the live-hold cap like any new hold (BK016, the conflict stays awaiting confirmation). Errors: BK008 unknown or not yours, BK010 not awaiting confirmation, BK016 at the live-hold cap, BK017 (staff or admin of other locations).';

-- resolve_conflict
-- an admin settles an escalated conflict: keep_existing, grant_requester or offer_alternative.
create or replace function api.resolve_conflict(p_conflict_id uuid, p_decision text, p_note text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_c booking.conflicts;
  v_row booking.reservations;
  v_holder booking.reservations;
  v_offer jsonb;
  v_over_cap boolean := false;
  v_zone text;
begin
  perform booking.assert_role(array['admin']);
  if p_decision is null or p_decision not in ('keep_existing', 'grant_requester', 'offer_alternative') then
    raise exception 'decision must be keep_existing, grant_requester or offer_alternative'
      using errcode = 'BK014';
  end if;
  select * into v_c from booking.conflicts c where c.id = p_conflict_id for update;
  if v_c.id is null then
    raise exception 'conflict % not found', p_conflict_id using errcode = 'BK008';
  end if;
  perform booking.assert_location_access(v_c.location_id);
  if v_c.status = 'resolved' then
    raise exception 'conflict % is already resolved', p_conflict_id using errcode = 'BK010';
  end if;
  if p_decision = 'keep_existing' then
    update booking.conflicts c set status = 'resolved', outcome = 'kept_existing', decision = p_decision,
                                   note = left(p_note, 1000), resolved_at = clock_timestamp()
     where c.location_id = v_c.location_id and c.id = v_c.id;
    return jsonb_build_object('success', true, 'conflict_id', v_c.id, 'outcome', 'kept_existing');
  elsif p_decision = 'offer_alternative' then
    v_offer := booking.alternatives(v_c.service_id, booking.location_zone(v_c.location_id),
                                    v_c.requested_start, v_c.resource_id,
                                    p_seats => (v_c.detail->>'seats')::integer)->0;
    update booking.conflicts c set status = 'awaiting_confirmation', offered = v_offer, decision = p_decision,
                                   outcome = 'offered_alternative', note = left(p_note, 1000)
     where c.location_id = v_c.location_id and c.id = v_c.id;
    return jsonb_build_object('success', true, 'conflict_id', v_c.id, 'outcome', 'offered_alternative',
                              'offered', v_offer);
  end if;
  -- grant_requester: a hold in the way is preempted; a confirmed booking is never taken away
  select * into v_holder from booking.reservations r where r.id = v_c.holder_reservation_id for update;
  if v_holder.status = 'confirmed' and v_holder.occupied && tstzrange(v_c.requested_start, v_c.requested_end) then
    raise exception 'the time is booked; a confirmed booking is never taken away'
      using errcode = 'BK010', hint = 'Use offer_alternative, or cancel the booking first.';
  end if;
  perform booking.preempt_holds(v_c.location_id, v_c.resource_id,
                                tstzrange(v_c.requested_start, v_c.requested_end));
  -- the admin's explicit grant may take the requester over the live-hold cap: allowed, and recorded
  -- on the conflict (detail.cap_overridden) beside the audit row that names the admin
  if coalesce(v_c.detail->>'status', 'held') = 'held' then
    v_over_cap := booking.live_hold_cap_reached(v_c.location_id, v_c.requester_customer_id);
  end if;
  v_row := booking.grant_attempt(v_c, v_c.requested_start, v_c.resource_id, false);
  if v_row.id is null then
    raise exception 'the requested time is no longer free' using errcode = 'BK010',
      hint = 'Use offer_alternative.';
  end if;
  update booking.conflicts c set status = 'resolved', outcome = 'granted_requester', decision = p_decision,
                                 note = left(p_note, 1000), resolved_at = clock_timestamp(),
                                 attempted_reservation_id = v_row.id,
                                 detail = c.detail || jsonb_build_object('cap_overridden', v_over_cap)
   where c.location_id = v_c.location_id and c.id = v_c.id;
  v_zone := booking.location_zone(v_c.location_id);
  return booking.taken_result(v_row, v_zone) || jsonb_build_object('conflict_id', v_c.id, 'outcome', 'granted_requester',
                                                           'cap_overridden', v_over_cap);
end;
$$;
comment on function api.resolve_conflict(uuid, text, text) is
  'Admin only: settles an open conflict. keep_existing closes it; grant_requester preempts a hold in the way and gives the requester the time (never takes a confirmed booking away); offer_alternative offers the nearest free time for api.confirm_conflict. A granted hold may take the requester over the location''s live-hold cap: the admin''s decision overrides it, and the result and the conflict''s detail say cap_overridden (the audit log names the admin). An admin whose token lists locations settles conflicts there only. Errors: BK008, BK010, BK014, BK017.';

-- conflict_metrics
-- totals by type, strategy and outcome, conflicts in the window, resolution success rate, mean time to resolve.
create or replace function api.conflict_metrics(p_window interval default '1 hour') returns jsonb
language sql stable
security definer
set search_path = ''
as $$
  with allowed as (select booking.caller_locations() as locations),
  mine as (select c.* from booking.conflicts c, allowed a
           where a.locations is null or c.location_id = any(a.locations)),
  w as (select * from mine c where c.detected_at > now() - p_window)
  select jsonb_build_object(
    'window_seconds', extract(epoch from p_window),
    'total', (select count(*) from mine),
    'in_window', (select count(*) from w),
    'open', (select count(*) from mine c where c.status <> 'resolved'),
    'by_type', coalesce((select jsonb_object_agg(t, n) from (select conflict_type t, count(*) n from w group by 1) x), '{}'),
    'by_strategy', coalesce((select jsonb_object_agg(t, n) from (select strategy t, count(*) n from w group by 1) x), '{}'),
    'by_outcome', coalesce((select jsonb_object_agg(t, n) from (select outcome t, count(*) n from w group by 1) x), '{}'),
    'resolution_success_rate', (select round(avg(case when outcome in ('preempted', 'other_resource', 'nearest_time',
                                                                       'accepted_alternative', 'granted_requester')
                                                      then 1.0 else 0.0 end), 4)
                                from w where status = 'resolved'),
    'mean_time_to_resolve_ms', (select round(avg(extract(epoch from resolved_at - detected_at) * 1000)::numeric, 3)
                                from w where resolved_at is not null));
$$;
comment on function api.conflict_metrics(interval) is
  'Conflict metrics over a window: totals, counts by type, strategy and outcome, open conflicts, resolution success rate (share of resolved conflicts where the requester still got a slot) and mean time to resolve in ms. Staff and admins whose token lists locations count those locations only.';

-- active_conflicts
-- conflicts still open or awaiting the requester's confirmation, oldest first.
create or replace function api.active_conflicts()
returns table (conflict_id uuid, location_id uuid, service_id uuid, resource_id uuid, conflict_type text,
               strategy text, status text, requested_start timestamptz, requested_end timestamptz,
               offered jsonb, detected_at timestamptz)
language sql stable
security definer
set search_path = ''
as $$
  select c.id, c.location_id, c.service_id, c.resource_id, c.conflict_type, c.strategy, c.status,
         c.requested_start, c.requested_end, c.offered, c.detected_at
  from booking.conflicts c, (select booking.caller_locations() as locations) a
  where c.status <> 'resolved' and (a.locations is null or c.location_id = any(a.locations))
  order by c.detected_at;
$$;
comment on function api.active_conflicts() is
  'Conflicts that are open (escalated) or awaiting the requester''s confirmation, oldest first; for staff and admins whose token lists locations, those at their locations.';

-- conflict_recommendations
-- hot services and local hours of the last 7 days, and the change that would help.
create or replace function api.conflict_recommendations()
returns table (service_id uuid, service_name text, local_hour integer, conflicts bigint,
               recommendation text, detail text)
language sql stable
security definer
set search_path = ''
as $$
  with hot as (
    select s.id, s.name, s.hold_ttl, s.conflict_strategy,
           extract(hour from c.requested_start at time zone l.time_zone)::integer as local_hour,
           count(*) as n,
           count(*) filter (where c.conflict_type in ('HOLD_CONFLICT', 'CACHE_CONFLICT')) as holds,
           count(*) filter (where c.conflict_type = 'BOOKING_CONFLICT') as bookings
    from booking.conflicts c
    join booking.services s on s.location_id = c.location_id and s.id = c.service_id
    join booking.locations l on l.id = c.location_id
    cross join (select booking.caller_locations() as locations) a
    where c.detected_at > now() - interval '7 days' and c.requested_start is not null
      and (a.locations is null or c.location_id = any(a.locations))
    group by 1, 2, 3, 4, 5
    having count(*) >= 3
  )
  select h.id, h.name, h.local_hour, h.n, r.recommendation, r.detail
  from hot h
  cross join lateral (
    select 'shorten_hold_ttl' as recommendation,
           format('%s of %s conflicts at %s:00 hit a hold; a hold TTL of %s instead of %s frees abandoned slots sooner',
                  h.holds, h.n, h.local_hour, greatest(h.hold_ttl / 2, interval '2 minutes'), h.hold_ttl) as detail
    where h.holds * 2 >= h.n and h.hold_ttl > interval '5 minutes'
    union all
    select 'add_staff_at_hour',
           format('%s of %s conflicts at %s:00 hit a confirmed booking; demand exceeds capacity at that hour',
                  h.bookings, h.n, h.local_hour)
    where h.bookings * 2 >= h.n
    union all
    select 'use_arbitration',
           format('%s conflicts at %s:00 under first_come_first_serve; arbitration would place them on another resource or the nearest time',
                  h.n, h.local_hour)
    where h.conflict_strategy = 'first_come_first_serve' and h.n >= 10
  ) r
  order by h.n desc, h.name, h.local_hour, r.recommendation;
$$;
comment on function api.conflict_recommendations() is
  'Hot services and local hours of the last 7 days (3 or more conflicts) with the change that would help: shorten_hold_ttl, add_staff_at_hour or use_arbitration, each with a sentence of evidence. Staff and admins whose token lists locations see those locations only.';
