-- Holds: take a slot for a few minutes, turn it into a booking, or let it go.

-- take_slot's form before booking.attempt (eleven positional parameters) would linger beside it:
drop function if exists booking.take_slot(booking.services, uuid[], uuid, text, timestamptz, timestamptz,
                                          timestamptz, text, text, text, jsonb);

-- take_slot
-- the write at the heart of holds and direct bookings: takes the attempt's units on the first
-- candidate resource (of the main pool) that has them free, then one member of each further pool,
-- and writes the reservation; NULL when the time is taken (and nothing is written). Units are
-- inserted with ON CONFLICT DO NOTHING: the exclusion constraint decides, waiting for an in-flight
-- rival; no subtransaction is needed. An appointment (one unit) takes no lock; a write of several
-- units takes the (resource, hour) locks of its candidates first (the lock order of 41_units.sql).
-- A further pool nobody works for at that time is BK003, before anything is written.
create or replace function booking.take_slot(
  p_svc booking.services, p_candidates uuid[], p_attempt booking.attempt)
returns booking.reservations
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_start timestamptz := lower(p_attempt.slot);
  v_end timestamptz := upper(p_attempt.slot);
  v_occupied tstzrange := tstzrange(v_start - p_svc.buffer_before, v_end + p_svc.buffer_after);
  v_id uuid := gen_random_uuid();
  v_seats integer := coalesce(p_attempt.seats, 1);
  v_pools booking.pool_need[];
  v_pool record;
  v_zone text;
  v_resource uuid;
  v_lead uuid;
  v_member uuid;
  v_placed boolean;
  v_taken integer;
  v_row booking.reservations;
begin
  if v_seats > 1 or exists (select 1 from booking.service_pools p
                            where p.location_id = p_svc.location_id and p.service_id = p_svc.id) then
    v_zone := booking.location_zone(p_svc.location_id);
    select coalesce(array_agg(f), '{}') into v_pools
      from booking.further_pools(p_svc, v_zone, v_start) f;
    select p.pool, p.name into v_pool from unnest(v_pools) p where cardinality(p.members) = 0 order by p.pool limit 1;
    if v_pool.pool is not null then
      raise exception 'nobody in pool % ("%") of this service works at %', v_pool.pool, v_pool.name,
        v_start at time zone v_zone
        using errcode = 'BK003', hint = 'Choose a time from get_availability: it offers a start only when every pool has someone free.';
    end if;
    perform booking.lock_unit_spans(
      p_svc.location_id,
      p_candidates || coalesce((select array_agg(m) from unnest(v_pools) p, unnest(p.members) m), '{}'),
      (select range_merge(range_agg(s.span))
         from (select v_occupied union all select p.occupied from unnest(v_pools) p) s(span)));
  end if;
  foreach v_resource in array p_candidates loop
    v_taken := booking.take_seats(p_svc.location_id, v_id, 1::smallint, v_resource, v_occupied, p_attempt,
                                  v_seats);
    if v_taken = v_seats then
      v_lead := v_resource;
      exit;
    end if;
    if v_taken > 0 then             -- some of the seats asked for: give them back, try the next
      delete from booking.units u where u.location_id = p_svc.location_id and u.reservation_id = v_id;
    end if;
  end loop;
  if v_lead is null then
    return null;
  end if;
  for v_pool in select * from unnest(v_pools) loop
    v_placed := false;
    foreach v_member in array v_pool.members loop
      if booking.take_seats(p_svc.location_id, v_id, v_pool.pool, v_member, v_pool.occupied, p_attempt, 1) = 1 then
        v_placed := true;
        exit;
      end if;
    end loop;
    if not v_placed then           -- all or nothing
      delete from booking.units u where u.location_id = p_svc.location_id and u.reservation_id = v_id;
      return null;
    end if;
  end loop;
  insert into booking.reservations as r (id, location_id, resource_id, service_id, customer_id, starts_at,
                                         ends_at, occupied, status, expires_at, session_id, slot_id,
                                         idempotency_key, details, confirmed_at, units, seats)
  values (v_id, p_svc.location_id, v_lead, p_svc.id, p_attempt.customer_id, v_start, v_end, v_occupied,
          p_attempt.status, p_attempt.expires_at, p_attempt.session_id, p_attempt.slot_id,
          p_attempt.idempotency_key, coalesce(p_attempt.details, '{}'::jsonb),
          case when p_attempt.status = 'confirmed' then now() end,
          v_seats + coalesce(cardinality(v_pools), 0), v_seats)
  returning r.* into v_row;
  return v_row;
end;
$$;
comment on function booking.take_slot(booking.services, uuid[], booking.attempt) is
  'Takes the attempt''s units (its seats on the first free candidate resource, then one member of each further pool) and inserts the reservation; NULL when the time is taken, with nothing written (all or nothing). The exclusion constraint of booking.units decides. BK003 when nobody in a further pool works then.';

-- create_hold_atomic
-- puts a short hold on a slot (p_seats seats of it for a class) for a customer's session.
-- Its form before p_seats would linger beside it (and make every call that leaves p_seats out ambiguous):
drop function if exists api.create_hold_atomic(text, text, uuid, timestamptz, timestamptz, timestamptz, text, uuid, bigint);
create or replace function api.create_hold_atomic(
  p_slot_id text, p_user_id text, p_service_id uuid, p_start_time timestamptz, p_end_time timestamptz,
  p_expires_at timestamptz, p_session_id text, p_resource_id uuid default null,
  p_seen_version bigint default null, p_seats integer default 1)
returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
  v_zone text;
  v_now timestamptz := now();
  v_expires timestamptz;
  v_customer uuid;
  v_candidates uuid[];
  v_row booking.reservations;
  v_end timestamptz;
  v_slot_id text;
  v_seats integer;
  v_attempt booking.attempt;
begin
  perform booking.assert_acts_as(p_user_id);
  if p_session_id is null or length(p_session_id) not between 1 and 200 then
    raise exception 'p_session_id must be a non-empty text of at most 200 characters'
      using errcode = 'BK014', hint = 'Pass the id of the customer''s booking session.';
  end if;
  if p_slot_id is not null and length(p_slot_id) > 200 then
    raise exception 'p_slot_id is longer than 200 characters' using errcode = 'BK014';
  end if;
  v_svc := booking.active_service(p_service_id);
  perform booking.assert_location_access(v_svc.location_id);
  v_seats := booking.assert_seats(v_svc, p_seats);
  v_zone := booking.location_zone(v_svc.location_id);
  v_slot_id := booking.slot_id(v_svc.id, p_start_time);
  if p_slot_id is not null and p_slot_id <> v_slot_id then
    raise exception 'p_slot_id % does not name this service at this start (that is %)', p_slot_id, v_slot_id
      using errcode = 'BK014', hint = 'Pass the slot_id get_availability returned with this start_time, or NULL.';
  end if;
  v_end := coalesce(p_end_time, p_start_time + v_svc.duration);    -- NULL end: the service's duration
  perform booking.assert_bookable_time(v_svc, v_zone, p_start_time, v_end, v_now);
  if p_expires_at is not null and p_expires_at <= v_now then
    raise exception 'p_expires_at % is not in the future', p_expires_at
      using errcode = 'BK007', hint = 'Pass NULL for the service''s hold TTL, or a time within it.';
  end if;
  v_expires := least(coalesce(p_expires_at, v_now + v_svc.hold_ttl), v_now + v_svc.hold_ttl);
  v_candidates := booking.seat_candidates(
    v_svc, booking.candidate_resources(v_svc, v_zone, p_start_time, v_end, p_resource_id), v_seats);
  v_customer := booking.customer_id_for(p_user_id);
  perform booking.assert_live_hold_cap(v_svc.location_id, v_customer);

  v_attempt.operation := 'create_hold';
  v_attempt.customer_id := v_customer;
  v_attempt.slot := tstzrange(p_start_time, v_end);
  v_attempt.status := 'held';
  v_attempt.expires_at := v_expires;
  v_attempt.session_id := p_session_id;
  v_attempt.slot_id := v_slot_id;
  v_attempt.seen_version := p_seen_version;
  v_attempt.seats := v_seats;
  perform booking.lock_arbitration_early(v_svc, v_zone, p_start_time, v_seats);
  v_row := booking.take_slot(v_svc, v_candidates, v_attempt);
  if v_row.id is not null then
    return booking.taken_result(v_row, v_zone);
  end if;
  return booking.settle_conflict(v_svc, v_zone, v_candidates, v_attempt);
end;
$$;
comment on function api.create_hold_atomic(text, text, uuid, timestamptz, timestamptz, timestamptz, text, uuid, bigint, integer) is
  'Holds a slot for a customer''s session (p_end_time NULL means start + the service duration; any other end must match it) until expires_at (at most the service''s hold TTL; NULL means the TTL). With p_resource_id NULL, tries every eligible resource in preference order and reports a conflict only when all are taken. p_seats (default 1, at most the service''s max_seats) is how many seats of one resource the hold takes, all on the same resource (a class: seats of a room with a capacity), all or nothing. A taken slot is settled by the service''s conflict strategy (see api.resolve_conflict). p_slot_id is optional: when given it must be the slot_id get_availability returns for this service and start (<service_id>@<start in UTC>), else BK014; the stored slot id is always the canonical one. p_seen_version is the availability version the caller acted on: a slot taken after it is reported as CACHE_CONFLICT (0 or NULL: no version, nothing compared). Success: {success, hold_id, resource_id, start_time, end_time, expires_at, version, seats, time_zone, start_local, end_local}; a taken slot: {success:false, conflict_id, conflict_type, conflict_reason, suggested_action, requires_retry, retry_after, time_zone, strategy, outcome, status, offered, alternatives}, each alternative {slot_id, start_time, end_time, resource_id, time_zone, start_local, end_local} (a start with as many seats free on its resource as asked for). Errors: BK001-BK007, BK012-BK016, BK017 (a staff or admin token whose locations claim leaves out the service''s location), BK026 (p_seats outside 1..max_seats), BK027 (no eligible resource has that many seats).';

-- locked_reservation
-- a reservation locked for update, or BK008; a customer sees only its own, staff and admins only
-- those at their locations (BK017).
create or replace function booking.locked_reservation(p_id uuid, p_what text) returns booking.reservations
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_row booking.reservations;
begin
  if p_id is null then
    raise exception '% id is required', p_what using errcode = 'BK014';
  end if;
  select * into v_row from booking.reservations r where r.id = p_id for update;
  if v_row.id is null then
    raise exception '% % not found', p_what, p_id using errcode = 'BK008',
      hint = 'Check the id; a customer sees only its own holds and bookings.';
  end if;
  perform booking.assert_owns(v_row.customer_id, p_what);
  perform booking.assert_location_access(v_row.location_id);
  return v_row;
end;
$$;
comment on function booking.locked_reservation(uuid, text) is
  'A reservation locked FOR UPDATE; BK014 without an id, BK008 when unknown or (for a customer) someone else''s, BK017 when a staff or admin caller may not act at its location.';

-- assert_session
-- holds belong to the session that made them.
create or replace function booking.assert_session(p_row booking.reservations, p_session_id text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_row.session_id is distinct from p_session_id then
    raise exception 'hold % belongs to another session', p_row.id
      using errcode = 'BK009', hint = 'Use the session that created the hold.';
  end if;
end;
$$;
comment on function booking.assert_session(booking.reservations, text) is
  'Raises BK009 when a hold is used from another session than the one that created it.';

-- convert_hold_to_booking
-- turns a hold into a booking in place (same id); the slot is never free in between.
create or replace function api.convert_hold_to_booking(p_hold_id uuid, p_session_id text, p_booking_data jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_row booking.reservations;
  v_svc booking.services;
  v_zone text;
  v_block record;
  v_attempt booking.attempt;
  v_report booking.conflict_report;
  v_contact jsonb;
  v_way_pool smallint;
  v_way_resource uuid;
  v_way_occupied tstzrange;
begin
  if p_booking_data is not null and jsonb_typeof(p_booking_data) <> 'object' then
    raise exception 'p_booking_data must be a JSON object' using errcode = 'BK014';
  end if;
  if p_booking_data ? 'contact' then      -- most bookings carry none: no call
    v_contact := booking.contact_details(p_booking_data);
  end if;
  -- an UPDATE into the exclusion constraint: serialize with other in-place moves on this resource,
  -- taking the resource lock before the row lock, as reschedule_booking's hold expiry does
  perform booking.lock_for_move(p_hold_id);
  v_row := booking.locked_reservation(p_hold_id, 'hold');
  perform booking.assert_session(v_row, p_session_id);
  v_zone := booking.location_zone(v_row.location_id);
  if v_row.status = 'confirmed' then
    return booking.reservation_result(v_row, v_zone);        -- a retried convert: the first one won
  end if;
  if v_row.status not in ('held', 'expired') then
    raise exception 'hold % is %, it cannot become a booking', p_hold_id, v_row.status
      using errcode = 'BK010', hint = 'Create a new hold.';
  end if;
  if v_contact is not null then    -- kept as create_booking_atomic keeps it
    perform booking.save_contact_details(v_row.customer_id, v_contact);
  end if;
  if v_row.status = 'expired' then
    -- reviving several units at once: the (resource, hour) locks first (the lock order of 41_units.sql)
    if v_row.units > 1 then
      perform booking.lock_units_at(v_row, v_row.resource_id, v_row.occupied);
    end if;
    -- another hold may have taken this time meanwhile and lapsed too: it is free, expire it first
    -- (a 'held' row cannot overlap another live one, so only an expired hold needs this)
    perform booking.expire_holds_in_way(v_row, v_row.resource_id, v_row.occupied);
  end if;
  begin
    update booking.reservations r
       set status = 'confirmed', version = r.version + 1, expires_at = null, confirmed_at = now(),
           updated_at = now(), ended_at = null, details = r.details || coalesce(p_booking_data - 'contact', '{}'::jsonb)
     where r.location_id = v_row.location_id and r.id = v_row.id
    returning r.* into v_row;
    return booking.reservation_result(v_row, v_zone);
  exception when exclusion_violation then
    -- only an expired hold gets here: its time was taken while it was not held (its stylist's, or a
    -- further pool's unit: then the conflict names that pool)
    v_svc := booking.active_service(v_row.service_id);
    if v_row.units > 1 then
      select w.pool, w.resource_id, w.occupied into v_way_pool, v_way_resource, v_way_occupied
        from booking.unit_in_the_way(v_row, v_row.resource_id, v_row.occupied) w;
    end if;
    if v_way_pool > 1 then
      select * into v_block from booking.blocking_reservation(v_row.location_id, array[v_way_resource],
                                                              v_way_occupied, v_row.id);
      v_report.detail := jsonb_build_object('pool', booking.pool_label(v_row.location_id, v_row.service_id,
                                                                       v_way_pool));
    else
      select * into v_block from booking.blocking_reservation(v_row.location_id, array[v_row.resource_id],
                                                              v_row.occupied, v_row.id);
    end if;
    v_attempt.operation := 'convert_hold';
    v_attempt.customer_id := v_row.customer_id;
    v_attempt.slot := tstzrange(v_row.starts_at, v_row.ends_at);
    v_attempt.seats := v_row.seats;
    v_report.conflict_type := coalesce(v_block.conflict_type, 'BOOKING_CONFLICT');
    v_report.resource_id := v_row.resource_id;
    v_report.holder_reservation_id := v_block.holder;
    v_report.attempted_reservation_id := v_row.id;
    v_report.retry_after := v_block.retry_after;
    return booking.record_conflict(v_svc, v_zone, v_attempt, v_report);
  end;
end;
$$;
comment on function api.convert_hold_to_booking(uuid, text, jsonb) is
  'Turns a hold into a confirmed booking in place (the booking keeps the hold''s id). An expired hold still converts if its time is still free (every unit of it: its seats and each further pool''s member it had), else a conflict with alternatives comes back, naming the further pool ({pool, name}) when that is what was taken. Converting twice returns the booking. p_booking_data is merged into the booking''s details, except its "contact" object, which is validated (BK022) and stored on the customer as in create_booking_atomic. Success: {success, booking_id, status, version, resource_id, seats, start_time, end_time, time_zone, start_local, end_local}; a hold of several seats keeps all of them. Errors: BK008 unknown, BK009 foreign session, BK010 released/cancelled/preempted, BK014, BK022, BK017 (staff or admin of other locations).';

-- release_hold
-- lets a live hold go at once; releasing twice, or releasing a lapsed hold, is harmless and writes nothing.
create or replace function api.release_hold(p_hold_id uuid, p_session_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_row booking.reservations;
begin
  v_row := booking.locked_reservation(p_hold_id, 'hold');
  perform booking.assert_session(v_row, p_session_id);
  if v_row.status = 'confirmed' then
    raise exception 'hold % is already a booking', p_hold_id
      using errcode = 'BK010', hint = 'Cancel the booking with cancel_booking.';
  end if;
  if booking.effective_status(v_row) = 'expired' and v_row.status = 'held' then
    -- a lapsed hold reads as expired everywhere, whether or not a cleanup has marked it yet: its time
    -- is already free, so there is nothing to release and nothing is written
    return jsonb_build_object('success', true, 'hold_id', v_row.id, 'status', 'expired',
                              'version', v_row.version);
  end if;
  if v_row.status = 'held' then
    update booking.reservations r
       set status = 'released', version = r.version + 1, updated_at = now(), ended_at = now()
     where r.location_id = v_row.location_id and r.id = v_row.id
    returning r.* into v_row;
  end if;
  return jsonb_build_object('success', true, 'hold_id', v_row.id, 'status', v_row.status,
                            'version', v_row.version);
end;
$$;
comment on function api.release_hold(uuid, text) is
  'Releases a live hold so the slot is free at once. Releasing a hold that is no longer live returns its status and version unchanged and writes nothing: released, preempted, or expired (a hold whose expires_at has passed reads as expired even before a cleanup marks it). Returns {success, hold_id, status, version}. Errors: BK008, BK009, BK010 (already a booking), BK017 (staff or admin of other locations).';
