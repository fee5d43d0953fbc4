-- Bookings: book directly (idempotently), cancel, reschedule.

-- idempotency_lock_key
-- the advisory lock that serializes first use of one (customer, Idempotency-Key).
create or replace function booking.idempotency_lock_key(p_customer_id uuid, p_key text) returns bigint
language sql immutable
as $$ select hashtextextended('idempotency:' || p_customer_id::text || ':' || p_key, 0) $$;
comment on function booking.idempotency_lock_key(uuid, text) is
  'Advisory lock key per customer and Idempotency-Key: serializes the first use of a key, so one request is answered and stored once.';

-- create_booking_atomic
-- books a slot (p_seats seats of it for a class) directly (staff at the desk, or a customer without a
-- hold), optionally idempotent.
-- Its form before p_seats would linger beside it (and make every call that leaves p_seats out ambiguous):
drop function if exists api.create_booking_atomic(uuid, timestamptz, text, jsonb, uuid, text, bigint);
create or replace function api.create_booking_atomic(
  p_service_id uuid, p_start_time timestamptz, p_user_id text, p_booking_data jsonb,
  p_resource_id uuid default null, p_idempotency_key text default null, p_seen_version bigint default null,
  p_seats integer default 1)
returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
  v_zone text;
  v_customer uuid;
  v_hash bytea;
  v_stored record;
  v_candidates uuid[];
  v_row booking.reservations;
  v_end timestamptz;
  v_result jsonb;
  v_attempt booking.attempt;
  v_contact jsonb;
  v_seats integer;
begin
  perform booking.assert_acts_as(p_user_id);
  if p_booking_data is not null and jsonb_typeof(p_booking_data) <> 'object' then
    raise exception 'p_booking_data must be a JSON object' using errcode = 'BK014';
  end if;
  if p_booking_data ? 'contact' then      -- most bookings carry none: no call
    v_contact := booking.contact_details(p_booking_data);
  end if;
  if p_idempotency_key is not null and length(p_idempotency_key) not between 1 and 255 then
    raise exception 'an idempotency key has 1 to 255 characters' using errcode = 'BK014';
  end if;
  v_svc := booking.active_service(p_service_id);
  perform booking.assert_location_access(v_svc.location_id);
  v_seats := booking.assert_seats(v_svc, p_seats);
  v_zone := booking.location_zone(v_svc.location_id);
  v_customer := booking.customer_id_for(p_user_id);

  if p_idempotency_key is not null then
    -- the start in UTC: the hash must not depend on the caller's TimeZone setting. The seats count
    -- only when more than one: a one-seat request hashes as it did before seats existed, so a retry
    -- across the upgrade still finds its first answer
    v_hash := sha256(convert_to((jsonb_build_object(
      'service_id', p_service_id, 'start_time', p_start_time at time zone 'UTC',
      'resource_id', p_resource_id,
      'booking_data', coalesce(p_booking_data, '{}'::jsonb))
      || case when v_seats > 1 then jsonb_build_object('seats', v_seats) else '{}'::jsonb end)::text, 'UTF8'));
    perform pg_advisory_xact_lock(booking.idempotency_lock_key(v_customer, p_idempotency_key));
    select k.request_hash, k.response into v_stored
    from booking.idempotency_keys k
    where k.customer_id = v_customer and k.key = p_idempotency_key and k.expires_at > now();
    if found then
      if v_stored.request_hash <> v_hash then
        raise exception 'idempotency key % was used with a different request', p_idempotency_key
          using errcode = 'BK011', hint = 'Use a new key for a new request.';
      end if;
      return v_stored.response;
    end if;
  end if;

  v_end := p_start_time + v_svc.duration;
  perform booking.assert_bookable_time(v_svc, v_zone, p_start_time, v_end, now());
  v_candidates := booking.seat_candidates(
    v_svc, booking.candidate_resources(v_svc, v_zone, p_start_time, v_end, p_resource_id), v_seats);
  -- the contact is the customer's, not the reservation's: kept whatever becomes of the attempt (staff
  -- may need it to settle a conflict), and not in the reservation's details
  if v_contact is not null then
    perform booking.save_contact_details(v_customer, v_contact);
  end if;
  v_attempt.operation := 'create_booking';
  v_attempt.customer_id := v_customer;
  v_attempt.slot := tstzrange(p_start_time, v_end);
  v_attempt.status := 'confirmed';
  v_attempt.slot_id := booking.slot_id(v_svc.id, p_start_time);
  v_attempt.idempotency_key := p_idempotency_key;
  v_attempt.details := p_booking_data - 'contact';
  v_attempt.seen_version := p_seen_version;
  v_attempt.seats := v_seats;
  perform booking.lock_arbitration_early(v_svc, v_zone, p_start_time, v_seats);
  v_row := booking.take_slot(v_svc, v_candidates, v_attempt);
  if v_row.id is not null then
    v_result := booking.reservation_result(v_row, v_zone);
  else
    v_result := booking.settle_conflict(v_svc, v_zone, v_candidates, v_attempt);
  end if;

  if p_idempotency_key is not null then
    insert into booking.idempotency_keys (location_id, customer_id, key, request_hash, response)
    values (v_svc.location_id, v_customer, p_idempotency_key, v_hash, v_result)
    on conflict (location_id, customer_id, key) do update
      set request_hash = excluded.request_hash, response = excluded.response,
          created_at = now(), expires_at = now() + interval '24 hours';
  end if;
  return v_result;
end;
$$;
comment on function api.create_booking_atomic(uuid, timestamptz, text, jsonb, uuid, text, bigint, integer) is
  'Books a slot directly. With an idempotency key, the same key and request (p_seats included) from the same customer returns the first result (kept 24 hours), and the same key with another request raises BK011 and writes nothing. With p_resource_id NULL, any eligible resource in preference order. p_seats (default 1, at most the service''s max_seats) is how many seats of one resource the booking takes (a class), all or nothing. A taken slot is settled by the service''s conflict strategy; p_seen_version as in create_hold_atomic. p_booking_data is kept as the booking''s details, except its "contact" object ({name, email, phone}, each optional), which is validated (BK022), normalized (the phone as digits with an optional leading +, the e-mail''s domain in lower case) and stored on the customer, where staff see it. Success: {success, booking_id, status, version, resource_id, seats, start_time, end_time, time_zone, start_local, end_local}; a taken slot: the conflict object. Errors: BK001-BK005, BK011-BK015, BK022, BK017 (a staff or admin token whose locations claim leaves out the service''s location), BK026 (p_seats outside 1..max_seats), BK027 (no eligible resource has that many seats).';

-- version_conflict
-- the result of acting on a stale p_expected_version.
create or replace function booking.version_conflict(p_row booking.reservations, p_operation text, p_expected bigint)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_svc booking.services;
  v_zone text;
  v_attempt booking.attempt;
  v_report booking.conflict_report;
begin
  v_svc := booking.active_service(p_row.service_id);
  v_zone := booking.location_zone(v_svc.location_id);
  v_attempt.operation := p_operation;
  v_attempt.customer_id := p_row.customer_id;     -- no time asked for: no slot, no alternatives
  v_report.conflict_type := 'VERSION_CONFLICT';
  v_report.resource_id := p_row.resource_id;
  v_report.holder_reservation_id := p_row.id;
  v_report.attempted_reservation_id := p_row.id;
  return booking.record_conflict(v_svc, v_zone, v_attempt, v_report)
         || jsonb_build_object('current_version', p_row.version, 'expected_version', p_expected);
end;
$$;
comment on function booking.version_conflict(booking.reservations, text, bigint) is
  'Records a VERSION_CONFLICT for a stale p_expected_version and returns the conflict object with current_version and expected_version.';

-- cancel_booking
-- cancels a confirmed booking; the time is free at once. Cancelling twice is harmless.
create or replace function api.cancel_booking(
  p_booking_id uuid, p_reason text default null, p_expected_version bigint default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_row booking.reservations;
  v_zone text;
begin
  v_row := booking.locked_reservation(p_booking_id, 'booking');
  v_zone := booking.location_zone(v_row.location_id);
  -- the state first: a request that could never succeed is an error, not a VERSION_CONFLICT row.
  -- A cancelled booking is returned as it is whatever p_expected_version says: a retried cancel
  -- (its first answer lost) carries the version it read before cancelling, and it did succeed.
  if v_row.status = 'cancelled' then
    return booking.reservation_result(v_row, v_zone);
  end if;
  if v_row.status <> 'confirmed' then
    raise exception 'reservation % is %, not a booking', p_booking_id, booking.effective_status(v_row)
      using errcode = 'BK010', hint = 'Release a hold with release_hold.';
  end if;
  if p_expected_version is not null and p_expected_version <> v_row.version then
    return booking.version_conflict(v_row, 'cancel_booking', p_expected_version);
  end if;
  update booking.reservations r
     set status = 'cancelled', version = r.version + 1, cancel_reason = left(p_reason, 500),
         updated_at = now(), ended_at = now()
   where r.location_id = v_row.location_id and r.id = v_row.id
  returning r.* into v_row;
  return booking.reservation_result(v_row, v_zone);
end;
$$;
comment on function api.cancel_booking(uuid, text, bigint) is
  'Cancels a confirmed booking. The state is checked before the version: a hold (live, expired, released or preempted) is BK010 whatever p_expected_version says, and a cancelled booking is returned unchanged, also with a stale p_expected_version (a retried cancel succeeded). With p_expected_version, a confirmed booking changed since it was read gives a VERSION_CONFLICT result and stays as it is. Returns {success, booking_id, status, version, ...}. Errors: BK008, BK010 (not a booking), BK017 (staff or admin of other locations).';

-- reschedule_booking
-- moves a booking to another start (and optionally resource) in one transaction; if the new time is
-- taken the booking keeps its old time. A move that overlaps its own old time works. A booking of
-- several seats, or of a seat of a resource with several, gets its seats afresh at the new time (seat
-- 1 first, then up, as booking.take_slot takes them): the seat numbers it has now may be taken there
-- while others are free. A booking of a service with further pools keeps their members, each unit
-- moved by as much as the start (the units trigger); each must work then (BK003) and be free (else
-- a conflict naming the pool).
create or replace function api.reschedule_booking(
  p_booking_id uuid, p_new_start timestamptz, p_expected_version bigint default null,
  p_resource_id uuid default null)
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
  v_resource uuid;
  v_end timestamptz;
  v_occupied tstzrange;
  v_reseat boolean;
  v_old_seats booking.units[];
  v_seated boolean := true;
  v_block record;
  v_attempt booking.attempt;
  v_report booking.conflict_report;
  v_way_pool smallint;
  v_way_resource uuid;
  v_way_occupied tstzrange;
begin
  v_row := booking.locked_reservation(p_booking_id, 'booking');
  -- the state first, then the version (as in cancel_booking)
  if v_row.status <> 'confirmed' then
    raise exception 'reservation % is %, only a confirmed booking can be rescheduled', p_booking_id,
      booking.effective_status(v_row)
      using errcode = 'BK010', hint = 'Make a new booking instead.';
  end if;
  if p_expected_version is not null and p_expected_version <> v_row.version then
    return booking.version_conflict(v_row, 'reschedule_booking', p_expected_version);
  end if;
  v_svc := booking.active_service(v_row.service_id);
  v_zone := booking.location_zone(v_svc.location_id);
  v_resource := coalesce(p_resource_id, v_row.resource_id);
  v_end := p_new_start + v_svc.duration;
  if p_new_start = v_row.starts_at and v_resource = v_row.resource_id then
    return booking.reservation_result(v_row, v_zone);
  end if;
  perform booking.assert_bookable_time(v_svc, v_zone, p_new_start, v_end, now());
  perform booking.candidate_resources(v_svc, v_zone, p_new_start, v_end, v_resource);
  v_occupied := tstzrange(p_new_start - v_svc.buffer_before, v_end + v_svc.buffer_after);
  if v_row.units > 1 then            -- its further pools' members must work at the new time too
    perform booking.assert_units_work(v_row, v_zone, tstzrange(p_new_start, v_end));
  end if;
  perform booking.lock_for_move(v_row.id, v_resource);
  perform booking.seat_candidates(v_svc, array[v_resource], v_row.seats);   -- BK027: too few seats there
  v_reseat := v_row.seats > 1 or (select r.capacity > 1 from booking.resources r
                                  where r.location_id = v_row.location_id and r.id = v_resource);
  if v_reseat or v_row.units > 1 then   -- several units taken or moved: the lock order of 41_units.sql
    perform booking.lock_units_at(v_row, v_resource, v_occupied);
  end if;
  perform booking.expire_holds_in_way(v_row, v_resource, v_occupied);
  begin
    if v_reseat then
      -- its seats go first (so that a move overlapping its own old time can take them again), then
      -- as many as it has are taken at the new time; when too few are free there, the seats it had
      -- come back (nobody else can have taken them: a rival's insert waits for this delete to end)
      with gone as (
        delete from booking.units u
         where u.location_id = v_row.location_id and u.reservation_id = v_row.id and u.pool = 1
        returning u.*)
      select array_agg(g) into v_old_seats from gone g;
      v_attempt.status := 'confirmed';
      v_seated := booking.take_seats(v_row.location_id, v_row.id, 1::smallint, v_resource, v_occupied,
                                     v_attempt, v_row.seats) = v_row.seats;
      if not v_seated then
        delete from booking.units u
         where u.location_id = v_row.location_id and u.reservation_id = v_row.id and u.pool = 1;
        insert into booking.units select * from unnest(v_old_seats);
      end if;
    end if;
    if v_seated then
      update booking.reservations r
         set resource_id = v_resource, starts_at = p_new_start, ends_at = v_end, occupied = v_occupied,
             slot_id = booking.slot_id(r.service_id, p_new_start), version = r.version + 1, updated_at = now()
       where r.location_id = v_row.location_id and r.id = v_row.id
      returning r.* into v_row;
      return booking.reservation_result(v_row, v_zone);
    end if;
  exception when exclusion_violation then
    -- the new time is taken: the main pool's, or a further pool's unit at its new time (named below)
    if v_row.units > 1 then
      select w.pool, w.resource_id, w.occupied into v_way_pool, v_way_resource, v_way_occupied
        from booking.unit_in_the_way(v_row, v_resource, v_occupied) w;
    end if;
  end;
  if v_way_pool > 1 then
    select * into v_block from booking.blocking_reservation(v_row.location_id, array[v_way_resource],
                                                            v_way_occupied, v_row.id);
    v_report.detail := jsonb_build_object('pool', booking.pool_label(v_row.location_id, v_row.service_id,
                                                                     v_way_pool));
  else
    select * into v_block from booking.blocking_reservation(v_row.location_id, array[v_resource], v_occupied,
                                                            v_row.id);
  end if;
  v_attempt.operation := 'reschedule_booking';
  v_attempt.customer_id := v_row.customer_id;
  v_attempt.slot := tstzrange(p_new_start, v_end);
  v_attempt.seats := v_row.seats;
  v_report.conflict_type := coalesce(v_block.conflict_type, 'BOOKING_CONFLICT');
  v_report.resource_id := v_resource;
  v_report.holder_reservation_id := v_block.holder;
  v_report.attempted_reservation_id := v_row.id;
  v_report.retry_after := v_block.retry_after;
  return booking.record_conflict(v_svc, v_zone, v_attempt, v_report);
end;
$$;
comment on function api.reschedule_booking(uuid, timestamptz, bigint, uuid) is
  'Moves a confirmed booking to p_new_start (same resource unless p_resource_id is given) in one transaction. A taken new time returns a conflict with alternatives and the booking keeps its old time. Anything but a confirmed booking is BK010 (checked before the version); a stale p_expected_version returns VERSION_CONFLICT. Moving onto a time overlapping its own old time works. A booking of several seats (or of a seat of a resource with several) takes its seats afresh at the new time, all or nothing. A booking of a service with further pools keeps their members, each moved by as much as the start: each must work then (else BK003) and be free (else a conflict naming the pool, {pool, name}). Errors: BK003-BK006, BK008, BK010, BK012, BK013, BK017 (staff or admin of other locations), BK027 (p_resource_id has fewer seats than the booking takes).';

-- reservation_view
-- what a caller may see of a reservation: no other customer's details ever reach a customer.
create or replace function booking.reservation_view(p_r booking.reservations) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_r.id, 'status', booking.effective_status(p_r), 'service_id', p_r.service_id, 'resource_id', p_r.resource_id,
    'location_id', p_r.location_id, 'start_time', p_r.starts_at, 'end_time', p_r.ends_at,
    'time_zone', l.time_zone, 'start_local', p_r.starts_at at time zone l.time_zone,
    'end_local', p_r.ends_at at time zone l.time_zone,
    'expires_at', p_r.expires_at, 'version', p_r.version, 'seats', p_r.seats, 'details', p_r.details,
    'customer', (select c.subject from booking.customers c where c.id = p_r.customer_id),
    'cancel_reason', p_r.cancel_reason, 'created_at', p_r.created_at, 'updated_at', p_r.updated_at)
  from booking.locations l
  where l.id = p_r.location_id;
$$;
comment on function booking.reservation_view(booking.reservations) is
  'A reservation as a caller sees it (effective status, times with the location''s time_zone and the wall-clock start_local and end_local, version, seats, details, the customer''s subject) as JSON.';

-- get_reservation
-- one hold or booking; a customer sees only its own (others are BK008, not found).
create or replace function api.get_reservation(p_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_row booking.reservations;
begin
  select * into v_row from booking.reservations r where r.id = p_id;
  if v_row.id is null then
    raise exception 'reservation % not found', p_id using errcode = 'BK008';
  end if;
  perform booking.assert_owns(v_row.customer_id, 'reservation');
  perform booking.assert_location_access(v_row.location_id);
  return booking.reservation_view(v_row);
end;
$$;
comment on function api.get_reservation(uuid) is
  'One hold or booking with its version (for If-Match) and its times on the location''s clock (time_zone, start_local, end_local). A customer sees only its own; others are BK008. Staff and admins whose token lists locations see those locations'' only (BK017). Errors: BK008, BK017.';

-- list_customer_reservations
-- a customer's holds and bookings starting in a window, newest first.
create or replace function api.list_customer_reservations(
  p_user_id text, p_from timestamptz default null, p_to timestamptz default null, p_limit integer default 100)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_allowed uuid[] := booking.caller_locations();
begin
  perform booking.assert_acts_as(p_user_id);
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000' using errcode = 'BK014';
  end if;
  return coalesce((
    select jsonb_agg(v.view order by v.starts_at desc)
    from (select booking.reservation_view(r) as view, r.starts_at
          from booking.reservations r join booking.customers c on c.id = r.customer_id
          where c.subject = p_user_id
            and (v_allowed is null or r.location_id = any(v_allowed))
            and (p_from is null or r.starts_at >= p_from) and (p_to is null or r.starts_at < p_to)
          order by r.starts_at desc limit p_limit) v), '[]'::jsonb);
end;
$$;
comment on function api.list_customer_reservations(text, timestamptz, timestamptz, integer) is
  'A customer''s holds and bookings starting in [p_from, p_to), newest first, at most p_limit. A customer may list only its own; staff and admins whose token lists locations see those at their locations only. Errors: BK014, BK015.';
