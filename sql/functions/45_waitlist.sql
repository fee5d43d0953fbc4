-- Waiting lists: join a list for a taken slot, see your place, leave; when time frees, the first
-- eligible waiter is offered a hold in the same transaction (sql/migrations/0015_waiting_list.sql,
-- docs/ARCHITECTURE.md "Waiting lists").
--
-- Offers. Two row triggers on booking.reservations watch every change that frees time: a live
-- reservation that stops being live (cancelled, released, expired lazily or by cleanup, preempted)
-- or moves (rescheduled away). BEFORE the change, the trigger locks the waiting entries whose wanted
-- time overlaps the reservation's (FOR UPDATE, in line order): a second transaction freeing time
-- for the same entries waits there before it has freed anything, so the first never waits for it
-- while offering, and no two transactions offer to one entry. AFTER the change (and after the units
-- trigger has freed the units), the trigger walks those entries in line order and tries
-- booking.take_slot for each (a hold with session 'waitlist:<entry id>' and the service's hold TTL)
-- until nothing more fits. A waiter at the live-hold cap, or whose start is not bookable yet, is
-- passed over and keeps its place; a waiter whose start can no longer be booked lapses.
--
-- Time freed while an offer is being made (take_slot marking a lapsed hold expired on its way)
-- is not offered from inside that offer: it is queued (setting booking.waitlist_pending) and the
-- walk starts over from the first in line once the current attempt is done, so the entry being
-- served is never overtaken by the one behind it. Time freed by any other write's lazy expiry is
-- offered at once, inside that write, before the write takes it: waiters are in line before the
-- caller who happened to trigger the expiry (also under last_wins and priority_based: preempting a
-- hold frees its time for the waiting list first).
--
-- An offer ends with its hold: converted -> accepted, released or cancelled -> declined, expired ->
-- lapsed, preempted -> back in line at its old place (and, being first, usually offered again).
--
-- Joining. A join first tries to take the slot for the joiner (an offer at once when it is free),
-- before its entry exists, so time freed on the way goes to those already in line. When the slot is
-- taken, the join locks the reservations in the way FOR SHARE (waiting for any that is being freed)
-- and inserts its entry only when all of them are still live: a reservation freed before the join
-- commits was freed before the lock (the join sees it and tries again) or waits for the join's
-- commit (and then sees the entry). So no entry waits for time that was free when it joined.

-- waitlist_session
-- the session of an entry's offer holds: convert_hold_to_booking and release_hold need it.
create or replace function booking.waitlist_session(p_entry_id uuid) returns text
language sql immutable
as $$ select 'waitlist:' || p_entry_id::text $$;
comment on function booking.waitlist_session(uuid) is
  'The session id of an entry''s offer holds: ''waitlist:<entry id>''.';

-- waitlist_limit
-- how many live (waiting or offered) entries one customer may have at one location.
create or replace function booking.waitlist_limit() returns integer
language sql immutable
as $$ select 20 $$;
comment on function booking.waitlist_limit() is
  'The most live (waiting or offered) waiting-list entries a customer may have at one location: 20 (BK032 beyond).';

-- waitlist_effective_status
-- the status callers read: a waiting entry whose start has come lapses, and so does an offer whose
-- hold has expired, whether or not anything has marked them yet.
create or replace function booking.waitlist_effective_status(p_e booking.waitlist_entries) returns text
language sql stable
as $$
  select case when p_e.status = 'waiting' and p_e.starts_at <= now() then 'lapsed'
              when p_e.status = 'offered' and p_e.offer_expires_at <= now() then 'lapsed'
              else p_e.status end;
$$;
comment on function booking.waitlist_effective_status(booking.waitlist_entries) is
  'The status callers read: waiting with a start that has come, or offered with an expired hold, reads as lapsed before anything marks it.';

-- waitlist_position
-- the place in line among the waiting entries of the same slot (service and start), 1 = next.
create or replace function booking.waitlist_position(p_e booking.waitlist_entries) returns integer
language sql stable
set search_path = ''
as $$
  select case when booking.waitlist_effective_status(p_e) = 'waiting' then
    1 + (select count(*)::integer from booking.waitlist_entries e
          where e.location_id = p_e.location_id and e.service_id = p_e.service_id
            and e.starts_at = p_e.starts_at and e.status = 'waiting'
            and (e.joined_at, e.id) < (p_e.joined_at, p_e.id)) end;
$$;
comment on function booking.waitlist_position(booking.waitlist_entries) is
  'An entry''s place in line for its slot (1 = offered next when the slot frees), NULL unless waiting. Waiters of overlapping slots of other services share freed time by join time too; this counts the slot''s own line.';

-- waitlist_view
-- an entry as callers see it: status, place in line, the slot on the location's clock, the offer.
create or replace function booking.waitlist_view(p_e booking.waitlist_entries) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'success', true, 'entry_id', p_e.id, 'status', booking.waitlist_effective_status(p_e),
    'position', booking.waitlist_position(p_e), 'location_id', p_e.location_id,
    'service_id', p_e.service_id, 'resource_id', p_e.resource_id, 'seats', p_e.seats,
    'slot_id', p_e.slot_id, 'customer', (select c.subject from booking.customers c where c.id = p_e.customer_id),
    'joined_at', p_e.joined_at, 'offers', p_e.offers, 'end_reason', p_e.end_reason,
    'version', p_e.version,
    'offer', case when booking.waitlist_effective_status(p_e) = 'offered' then
      (select jsonb_build_object('hold_id', r.id, 'session_id', r.session_id, 'resource_id', r.resource_id,
                                 'expires_at', r.expires_at)
         from booking.reservations r
        where r.location_id = p_e.location_id and r.id = p_e.offer_hold_id) end)
    || booking.local_span(p_e.starts_at, p_e.ends_at, l.time_zone)
  from booking.locations l
  where l.id = p_e.location_id;
$$;
comment on function booking.waitlist_view(booking.waitlist_entries) is
  'A waiting-list entry as JSON: {success, entry_id, status, position, location_id, service_id, resource_id, seats, slot_id, customer, joined_at, offers, end_reason, version, offer: {hold_id, session_id, resource_id, expires_at} while offered, start_time, end_time, time_zone, start_local, end_local}.';

-- assert_waitlist_entry_visible
-- an entry read by id is the caller's to see, or BK029 (unknown, or for a customer someone else's);
-- BK017 when a staff or admin caller may not act at its location.
create or replace function booking.assert_waitlist_entry_visible(p_e booking.waitlist_entries, p_id uuid)
returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if p_e.id is null then
    raise exception 'waiting-list entry % not found', p_id using errcode = 'BK029',
      hint = 'Check the id; a customer sees only its own entries.';
  end if;
  begin
    perform booking.assert_owns(p_e.customer_id, 'waiting-list entry');
  exception when sqlstate 'BK008' then
    raise exception 'waiting-list entry % not found', p_id using errcode = 'BK029',
      hint = 'Check the id; a customer sees only its own entries.';
  end;
  perform booking.assert_location_access(p_e.location_id);
end;
$$;
comment on function booking.assert_waitlist_entry_visible(booking.waitlist_entries, uuid) is
  'Raises BK029 when the waiting-list entry read for p_id is missing (NULL id) or, for a customer, someone else''s (BK008 of booking.assert_owns becomes BK029), and BK017 when a staff or admin caller may not act at its location.';

-- locked_waitlist_entry
-- an entry locked for update, or BK029; a customer sees only its own, staff and admins only those at
-- their locations (BK017). When the entry is offered, its offer hold is locked first (the lock
-- order of the triggers: a reservation, then the entries).
create or replace function booking.locked_waitlist_entry(p_id uuid) returns booking.waitlist_entries
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_e booking.waitlist_entries;
  v_locked uuid;
begin
  if p_id is null then
    raise exception 'an entry id is required' using errcode = 'BK014';
  end if;
  for i in 1..5 loop
    select * into v_e from booking.waitlist_entries e where e.id = p_id;
    exit when v_e.id is null;
    if v_e.status = 'offered' and v_e.offer_hold_id is distinct from v_locked then
      perform 1 from booking.reservations r
       where r.location_id = v_e.location_id and r.id = v_e.offer_hold_id for update;
      v_locked := v_e.offer_hold_id;
    end if;
    select * into v_e from booking.waitlist_entries e
     where e.location_id = v_e.location_id and e.id = p_id for update;
    -- offered meanwhile with a hold not locked yet: read again
    exit when v_e.status <> 'offered' or v_e.offer_hold_id = v_locked;
  end loop;
  perform booking.assert_waitlist_entry_visible(v_e, p_id);
  return v_e;
end;
$$;
comment on function booking.locked_waitlist_entry(uuid) is
  'A waiting-list entry locked FOR UPDATE (its offer hold locked before it); BK014 without an id, BK029 when unknown or (for a customer) someone else''s, BK017 when a staff or admin caller may not act at its location.';

-- end_waitlist_entry
-- takes an entry out of the line for good.
create or replace function booking.end_waitlist_entry(p_e booking.waitlist_entries, p_status text, p_reason text)
returns booking.waitlist_entries
language sql
set search_path = ''
set enable_seqscan = off
as $$
  update booking.waitlist_entries e
     set status = p_status, end_reason = p_reason, ended_at = now(), version = e.version + 1, updated_at = now()
   where e.location_id = p_e.location_id and e.id = p_e.id
  returning e.*;
$$;
comment on function booking.end_waitlist_entry(booking.waitlist_entries, text, text) is
  'Ends an entry with a status (accepted, declined, lapsed, left) and a reason; returns it as it is now.';

-- try_waitlist_offer
-- tries to make one waiting entry an offer: a hold for its slot, as booking.take_slot takes it.
-- Returns offered, no_room (the time is taken), passed_over (at the live-hold cap, beyond the
-- advance limit, nobody working then: it keeps its place) or lapsed (its start can no longer be
-- booked: past or inside the notice, the service retired or changed its duration).
create or replace function booking.try_waitlist_offer(p_e booking.waitlist_entries) returns text
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
  v_zone text;
  v_now timestamptz := now();
  v_candidates uuid[];
  v_attempt booking.attempt;
  v_row booking.reservations;
begin
  select * into v_svc from booking.services s where s.location_id = p_e.location_id and s.id = p_e.service_id;
  if not v_svc.active then
    perform booking.end_waitlist_entry(p_e, 'lapsed', 'service_inactive');
    return 'lapsed';
  end if;
  if p_e.starts_at < v_now + v_svc.min_notice then
    perform booking.end_waitlist_entry(p_e, 'lapsed', 'start_passed');
    return 'lapsed';
  end if;
  if p_e.ends_at <> p_e.starts_at + v_svc.duration then
    perform booking.end_waitlist_entry(p_e, 'lapsed', 'service_changed');
    return 'lapsed';
  end if;
  v_zone := booking.location_zone(p_e.location_id);
  if p_e.starts_at > ((v_now at time zone v_zone) + v_svc.max_advance) at time zone v_zone then
    return 'passed_over';
  end if;
  if booking.live_hold_cap_reached(p_e.location_id, p_e.customer_id) then
    return 'passed_over';
  end if;
  begin
    v_candidates := booking.candidate_resources(v_svc, v_zone, p_e.starts_at, p_e.ends_at, p_e.resource_id);
  exception when sqlstate 'BK003' or sqlstate 'BK012' then
    return 'passed_over';                 -- nobody works then (now): the hours may change back
  end;
  v_attempt.operation := 'waitlist_offer';
  v_attempt.customer_id := p_e.customer_id;
  v_attempt.slot := tstzrange(p_e.starts_at, p_e.ends_at);
  v_attempt.status := 'held';
  v_attempt.expires_at := v_now + v_svc.hold_ttl;
  v_attempt.session_id := booking.waitlist_session(p_e.id);
  v_attempt.slot_id := p_e.slot_id;
  v_attempt.seats := p_e.seats;
  v_row := booking.take_slot(v_svc, v_candidates, v_attempt);
  if v_row.id is null then
    return 'no_room';
  end if;
  update booking.waitlist_entries e
     set status = 'offered', offer_hold_id = v_row.id, offered_at = v_now, offer_expires_at = v_row.expires_at,
         offers = e.offers + 1, version = e.version + 1, updated_at = now()
   where e.location_id = p_e.location_id and e.id = p_e.id;
  return 'offered';
end;
$$;
comment on function booking.try_waitlist_offer(booking.waitlist_entries) is
  'Tries to offer a waiting entry its slot (a hold for its customer with session waitlist:<entry id> and the service''s hold TTL, through booking.take_slot). Returns offered, no_room, passed_over (live-hold cap, advance limit, nobody working: keeps its place) or lapsed (start past or inside the notice, service retired or changed: the entry ends).';

-- offer_freed_time
-- offers time freed at a location to the waiting entries whose wanted time overlaps it, first in line
-- first, until nothing more fits. After an entry found no room, the entries behind it in the same
-- line (same service, start and resource wish) wanting as many seats or more are not tried: nothing
-- was freed in between. Time freed while an offer is made is queued and the walk starts over.
create or replace function booking.offer_freed_time(p_location_id uuid, p_freed tstzrange) returns integer
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_span tstzrange := p_freed;
  v_e booking.waitlist_entries;
  v_failed jsonb;
  v_key text;
  v_outcome text;
  v_pending text;
  v_again boolean;
  v_made integer := 0;
begin
  if current_setting('booking.waitlist_offering', true) = 'on' then
    -- freed by the offer being made (its take_slot expired a lapsed hold): the walk in progress
    -- takes it up once that offer is done
    perform set_config('booking.waitlist_pending',
                       (coalesce(nullif(current_setting('booking.waitlist_pending', true), ''), '{}')::tstzmultirange
                        + tstzmultirange(p_freed))::text, true);
    return 0;
  end if;
  perform set_config('booking.waitlist_offering', 'on', true);
  loop
    v_again := false;
    v_failed := '{}'::jsonb;
    for v_e in select * from booking.waitlist_entries e
                where e.location_id = p_location_id and e.status = 'waiting' and e.occupied && v_span
                order by e.joined_at, e.id
                for update loop
      v_key := v_e.service_id::text || '|' || v_e.starts_at::text || '|' || coalesce(v_e.resource_id::text, '*');
      continue when (v_failed ->> v_key)::integer <= v_e.seats;
      v_outcome := booking.try_waitlist_offer(v_e);
      if v_outcome = 'offered' then
        v_made := v_made + 1;
      elsif v_outcome = 'no_room' then
        v_failed := v_failed || jsonb_build_object(v_key, least(v_e.seats, coalesce((v_failed ->> v_key)::integer,
                                                                                   v_e.seats)));
      end if;
      v_pending := nullif(current_setting('booking.waitlist_pending', true), '');
      if v_pending is not null then
        perform set_config('booking.waitlist_pending', '', true);
        v_span := range_merge(v_span, range_merge(v_pending::tstzmultirange));
        v_again := true;
        exit;
      end if;
    end loop;
    exit when not v_again;
  end loop;
  perform set_config('booking.waitlist_offering', '', true);
  return v_made;
end;
$$;
comment on function booking.offer_freed_time(uuid, tstzrange) is
  'Offers time freed at a location to the waiting entries overlapping it, in line order (joined_at, id), each through booking.try_waitlist_offer, until nothing more fits; returns how many offers it made. Called by the reservations trigger; inside an offer being made it only queues the time (booking.waitlist_pending) for the walk in progress.';

-- lock_waiting_entries
-- locks the waiting entries at a location whose wanted time overlaps a span, in line order: what
-- the BEFORE trigger below does for each reservation that frees time, after the reservation's own
-- row lock (the lock order: a reservation, then the entries it frees time for).
create or replace function booking.lock_waiting_entries(p_location_id uuid, p_span tstzrange) returns void
language sql
set search_path = ''
set enable_seqscan = off
as $$
  select count(*) from (select 1 from booking.waitlist_entries e
                         where e.location_id = p_location_id and e.status = 'waiting' and e.occupied && p_span
                         order by e.joined_at, e.id
                         for update) l;
$$;
comment on function booking.lock_waiting_entries(uuid, tstzrange) is
  'Locks the waiting entries at a location whose wanted time overlaps p_span, in line order (joined_at, id): what a write that frees time takes after the row lock of the reservation it frees, before its units change.';

-- waitlist_lock_entries
-- BEFORE a reservation frees time: lock the waiting entries that time may serve, in line order, so
-- that a second transaction freeing time for them waits here, before it has freed anything.
create or replace function booking.waitlist_lock_entries() returns trigger
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
begin
  perform booking.lock_waiting_entries(old.location_id, old.occupied);
  return new;
end;
$$;
comment on function booking.waitlist_lock_entries() is
  'Trigger (BEFORE a live reservation stops being live or moves): locks the waiting entries whose wanted time overlaps its time, in line order, before its units are freed.';

drop trigger if exists reservations_waitlist_lock on booking.reservations;
create trigger reservations_waitlist_lock
  before update on booking.reservations
  for each row
  when (old.status in ('held', 'confirmed')
        and (new.status not in ('held', 'confirmed') or new.occupied is distinct from old.occupied
             or new.resource_id is distinct from old.resource_id))
  execute function booking.waitlist_lock_entries();

-- waitlist_on_reservation_change
-- AFTER a reservation changes (after reservations_units has put its units in step): an offer hold
-- that ended ends (or requeues) its entry; time freed is offered to the waiting list.
create or replace function booking.waitlist_on_reservation_change() returns trigger
language plpgsql
set search_path = ''
set enable_seqscan = off
as $$
begin
  if old.session_id like 'waitlist:%' and new.status is distinct from old.status then
    update booking.waitlist_entries e
       set status = case new.status when 'confirmed' then 'accepted' when 'preempted' then 'waiting'
                                    when 'expired' then 'lapsed' else 'declined' end,
           end_reason = case new.status when 'confirmed' then 'converted' when 'preempted' then null
                                        when 'expired' then 'offer_expired' else new.status end,
           ended_at = case when new.status = 'preempted' then null else now() end,
           offer_expires_at = case when new.status = 'preempted' then null else e.offer_expires_at end,
           version = e.version + 1, updated_at = now()
     where e.location_id = new.location_id and e.offer_hold_id = new.id
       and (e.status = 'offered' or (new.status = 'confirmed' and e.status in ('lapsed', 'declined')));
  end if;
  if old.status in ('held', 'confirmed')
     and (new.status not in ('held', 'confirmed') or new.occupied is distinct from old.occupied
          or new.resource_id is distinct from old.resource_id) then
    perform booking.offer_freed_time(old.location_id, old.occupied);
  end if;
  return null;
end;
$$;
comment on function booking.waitlist_on_reservation_change() is
  'Trigger (AFTER a reservation change that frees time or ends an offer hold): a converted offer is accepted, a released or cancelled one declined, an expired one lapsed, a preempted one back in line; freed time goes to booking.offer_freed_time.';

-- named to fire after reservations_units (triggers of one event fire in name order): the units are
-- free when the offers are made
drop trigger if exists reservations_waitlist_offer on booking.reservations;
create trigger reservations_waitlist_offer
  after update on booking.reservations
  for each row
  when ((old.status in ('held', 'confirmed')
         and (new.status not in ('held', 'confirmed') or new.occupied is distinct from old.occupied
              or new.resource_id is distinct from old.resource_id))
        or (old.session_id like 'waitlist:%' and new.status is distinct from old.status))
  execute function booking.waitlist_on_reservation_change();

-- waitlist_event_type
-- the event an entry's change means.
create or replace function booking.waitlist_event_type(p_old booking.waitlist_entries, p_new booking.waitlist_entries)
returns text
language sql immutable
as $$
  select case when p_old is null then case p_new.status when 'offered' then 'waitlist:offered' else 'waitlist:joined' end
              when p_new.status = p_old.status and p_new.offer_hold_id is not distinct from p_old.offer_hold_id then null
              when p_new.status = 'waiting' then 'waitlist:requeued'
              else 'waitlist:' || p_new.status end;
$$;
comment on function booking.waitlist_event_type(booking.waitlist_entries, booking.waitlist_entries) is
  'The event type of an entry change: waitlist:joined, waitlist:offered, waitlist:accepted, waitlist:declined, waitlist:lapsed, waitlist:left, waitlist:requeued (a preempted offer puts it back in line); NULL when nothing a customer hears changed.';

-- on_waitlist_change
-- deferred row trigger on booking.waitlist_entries: one event per change on the customer's topic
-- (user:<subject>), at commit as every outbox event. No resource: no availability topic hears it.
create or replace function booking.on_waitlist_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old booking.waitlist_entries;
  v_type text;
begin
  if tg_op = 'UPDATE' then
    v_old := old;
  end if;
  v_type := booking.waitlist_event_type(v_old, new);
  if v_type is null then
    return null;
  end if;
  perform booking.append_event(
    new.location_id, v_type, new.offer_hold_id, null, new.service_id, new.customer_id,
    booking.local_day(new.starts_at, booking.location_zone(new.location_id)),
    jsonb_build_object('entry_id', new.id, 'status', new.status, 'service_id', new.service_id,
                       'resource_id', new.resource_id, 'seats', new.seats, 'start_time', new.starts_at,
                       'end_time', new.ends_at, 'version', new.version)
    || case when new.status = 'offered' then
         jsonb_build_object('hold_id', new.offer_hold_id, 'session_id', booking.waitlist_session(new.id),
                            'expires_at', new.offer_expires_at)
       else '{}'::jsonb end);
  return null;
end;
$$;
comment on function booking.on_waitlist_change() is
  'Deferred trigger: appends the event of each waiting-list entry change (waitlist:joined, waitlist:offered with hold_id, session_id and expires_at, ...) for its customer at commit.';

drop trigger if exists waitlist_entries_outbox on booking.waitlist_entries;
create constraint trigger waitlist_entries_outbox
  after insert or update on booking.waitlist_entries
  deferrable initially deferred
  for each row execute function booking.on_waitlist_change();

-- join_waitlist
-- joins the waiting list of a slot; when the slot is free (and the customer under the live-hold
-- cap) the entry is offered at once.
create or replace function api.join_waitlist(
  p_user_id text, p_service_id uuid, p_start_time timestamptz, p_resource_id uuid default null,
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
  v_now timestamptz := now();
  v_end timestamptz;
  v_occupied tstzrange;
  v_customer uuid;
  v_candidates uuid[];
  v_resources uuid[];
  v_blockers uuid[];
  v_id uuid := gen_random_uuid();
  v_e booking.waitlist_entries;
  v_attempt booking.attempt;
  v_row booking.reservations;
  v_try integer;
  v_seats integer;
begin
  perform booking.assert_acts_as(p_user_id);
  v_svc := booking.active_service(p_service_id);
  perform booking.assert_location_access(v_svc.location_id);
  v_seats := booking.assert_seats(v_svc, p_seats);      -- as a hold counts them: NULL is 1, else BK026
  v_zone := booking.location_zone(v_svc.location_id);
  v_end := p_start_time + v_svc.duration;
  perform booking.assert_bookable_time(v_svc, v_zone, p_start_time, v_end, v_now);
  v_candidates := booking.seat_candidates(
    v_svc, booking.candidate_resources(v_svc, v_zone, p_start_time, v_end, p_resource_id), v_seats);
  v_customer := booking.customer_id_for(p_user_id);
  -- one join of a customer at a time: the duplicate check and the limit count hold
  perform pg_advisory_xact_lock(booking.customer_holds_lock_key(v_customer));
  select * into v_e from booking.waitlist_entries e
   where e.location_id = v_svc.location_id and e.customer_id = v_customer and e.service_id = v_svc.id
     and e.starts_at = p_start_time and e.status in ('waiting', 'offered');
  if v_e.id is not null then
    if v_e.resource_id is not distinct from p_resource_id and v_e.seats = v_seats then
      return booking.waitlist_view(v_e) || jsonb_build_object('created', false);
    end if;
    raise exception 'already on the waiting list for this slot (entry %), for other seats or another resource', v_e.id
      using errcode = 'BK031', hint = 'Leave that entry first, or keep it.';
  end if;
  if (select count(*) from booking.waitlist_entries e
       where e.customer_id = v_customer and e.status in ('waiting', 'offered')
         and e.location_id = v_svc.location_id) >= booking.waitlist_limit() then
    raise exception 'you are already waiting for % slots here', booking.waitlist_limit()
      using errcode = 'BK032', hint = 'Leave a waiting list before joining another.';
  end if;
  v_occupied := tstzrange(p_start_time - v_svc.buffer_before, v_end + v_svc.buffer_after);
  select coalesce(array_agg(distinct sr.resource_id), '{}') into v_resources
    from booking.service_resources sr where sr.location_id = v_svc.location_id and sr.service_id = v_svc.id;

  v_attempt.operation := 'join_waitlist';
  v_attempt.customer_id := v_customer;
  v_attempt.slot := tstzrange(p_start_time, v_end);
  v_attempt.status := 'held';
  v_attempt.expires_at := v_now + v_svc.hold_ttl;
  v_attempt.session_id := booking.waitlist_session(v_id);
  v_attempt.slot_id := booking.slot_id(v_svc.id, p_start_time);
  v_attempt.seats := v_seats;
  for v_try in 1..5 loop
    -- free now: an offer at once (the entry does not exist yet, so time freed on the way, lapsed
    -- holds marked expired, goes to those already in line first)
    if not booking.live_hold_cap_reached(v_svc.location_id, v_customer) then
      v_row := booking.take_slot(v_svc, v_candidates, v_attempt);
      if v_row.id is not null then
        insert into booking.waitlist_entries as e (location_id, id, service_id, customer_id, resource_id, starts_at,
                                                   ends_at, occupied, slot_id, seats, status, offer_hold_id,
                                                   offered_at, offer_expires_at, offers)
        values (v_svc.location_id, v_id, v_svc.id, v_customer, p_resource_id, p_start_time, v_end, v_occupied,
                v_attempt.slot_id, v_seats, 'offered', v_row.id, v_now, v_row.expires_at, 1)
        returning e.* into v_e;
        return booking.waitlist_view(v_e) || jsonb_build_object('created', true);
      end if;
    end if;
    -- taken: what is in the way stays in the way until this join commits (FOR SHARE), or has been
    -- freed before the lock (try again)
    select coalesce(array_agg(distinct u.reservation_id), '{}') into v_blockers
      from booking.units u
     where u.location_id = v_svc.location_id and u.resource_id = any(v_resources) and u.occupied && v_occupied
       and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > now());
    perform 1 from booking.reservations r
     where r.location_id = v_svc.location_id and r.id = any(v_blockers)
     order by r.id
     for share;
    exit when not exists (
      select 1 from booking.reservations r
       where r.location_id = v_svc.location_id and r.id = any(v_blockers)
         and not (r.status = 'confirmed' or (r.status = 'held' and r.expires_at > now())));
  end loop;
  insert into booking.waitlist_entries as e (location_id, id, service_id, customer_id, resource_id, starts_at, ends_at,
                                             occupied, slot_id, seats)
  values (v_svc.location_id, v_id, v_svc.id, v_customer, p_resource_id, p_start_time, v_end, v_occupied,
          v_attempt.slot_id, v_seats)
  returning e.* into v_e;
  return booking.waitlist_view(v_e) || jsonb_build_object('created', true);
end;
$$;
comment on function api.join_waitlist(text, uuid, timestamptz, uuid, integer) is
  'Joins the waiting list of a slot (service, start; p_resource_id NULL: any eligible resource; p_seats: how many seats at once, up to the service''s max_seats). When the slot is free and the customer is under the live-hold cap, the entry is offered at once; otherwise it waits, and the first eligible waiter in line (by join time) is offered a hold in the transaction that frees the time (a cancel, release, expiry, reschedule away or preemption), with the service''s hold TTL and session_id waitlist:<entry_id>, to convert with api.convert_hold_to_booking or decline with api.decline_offer. Joining again with the same resource and seats returns the live entry (created false). Returns the entry: {success, created, entry_id, status (waiting or offered), position, offer, start_time, end_time, time_zone, start_local, end_local, ...}. Errors: BK001-BK006, BK012-BK015, BK017, BK026 (p_seats outside 1..max_seats; NULL means 1), BK027 (no eligible resource has that many seats), BK031 (already waiting for the slot with other seats or resource), BK032 (too many live entries at the location).';

-- get_waitlist_entry
-- one entry with its place in line and its offer.
create or replace function api.get_waitlist_entry(p_entry_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_e booking.waitlist_entries;
begin
  select * into v_e from booking.waitlist_entries e where e.id = p_entry_id;
  perform booking.assert_waitlist_entry_visible(v_e, p_entry_id);
  return booking.waitlist_view(v_e);
end;
$$;
comment on function api.get_waitlist_entry(uuid) is
  'One waiting-list entry: status (a waiting entry whose start has come, or an offer whose hold expired, reads as lapsed), position (1 = next in line for its slot; NULL unless waiting), the offer {hold_id, session_id, resource_id, expires_at} while offered, version (an entity tag). A customer sees only its own (others are BK029); staff and admins whose token lists locations those at their locations (BK017). Errors: BK014, BK017, BK029.';

-- leave_waitlist
-- leaves the list at any time; an offer still open is released and passes to the next in line.
create or replace function api.leave_waitlist(p_entry_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_e booking.waitlist_entries;
begin
  v_e := booking.locked_waitlist_entry(p_entry_id);
  if v_e.status not in ('waiting', 'offered') then
    return booking.waitlist_view(v_e);           -- ended already: nothing to leave
  end if;
  v_e := booking.end_waitlist_entry(v_e, 'left', 'left');
  perform booking.release_offer_hold(v_e);
  return booking.waitlist_view(v_e);
end;
$$;
comment on function api.leave_waitlist(uuid) is
  'Leaves a waiting list: the entry becomes left (an open offer''s hold is released, and its time is offered to the next in line). Leaving an entry that has ended (left, accepted, declined, lapsed) returns it unchanged. Returns the entry. Errors: BK014, BK017, BK029.';

-- release_offer_hold
-- lets an entry's offer hold go (released while live, expired once lapsed): the triggers pass its time on.
create or replace function booking.release_offer_hold(p_e booking.waitlist_entries) returns void
language sql
set search_path = ''
set enable_seqscan = off
as $$
  update booking.reservations r
     set status = case when r.expires_at > now() then 'released' else 'expired' end,
         version = r.version + 1, updated_at = now(), ended_at = now()
   where r.location_id = p_e.location_id and r.id = p_e.offer_hold_id and r.status = 'held';
$$;
comment on function booking.release_offer_hold(booking.waitlist_entries) is
  'Ends an entry''s offer hold if it is still held: released while live, expired once lapsed; the reservations triggers offer its time to the next in line.';

-- decline_offer
-- declines an open offer: its hold is released and the time passes to the next in line.
create or replace function api.decline_offer(p_entry_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_e booking.waitlist_entries;
begin
  v_e := booking.locked_waitlist_entry(p_entry_id);
  if v_e.status = 'declined' then
    return booking.waitlist_view(v_e);           -- a retried decline
  end if;
  if v_e.status <> 'offered' then
    raise exception 'waiting-list entry % is %, not offered', p_entry_id, booking.waitlist_effective_status(v_e)
      using errcode = 'BK030', hint = 'Only an open offer can be declined; leave the list with leave_waitlist.';
  end if;
  v_e := booking.end_waitlist_entry(v_e, 'declined', 'declined');
  perform booking.release_offer_hold(v_e);
  return booking.waitlist_view(v_e);
end;
$$;
comment on function api.decline_offer(uuid) is
  'Declines an entry''s open offer: the entry becomes declined and leaves the line, the offer''s hold is released and its time is offered to the next in line in the same transaction. Declining twice returns the entry. An offer whose hold has expired unmarked can still be declined. Errors: BK014, BK017, BK029, BK030 (the entry is not offered: waiting, accepted, lapsed, left).';

-- list_waitlist
-- staff: the entries of a service (optionally one start), in line order.
create or replace function api.list_waitlist(
  p_service_id uuid, p_start_time timestamptz default null, p_include_ended boolean default false)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_svc booking.services;
begin
  perform booking.assert_role(array['staff', 'admin']);
  select * into v_svc from booking.services s where s.id = p_service_id;
  if v_svc.id is null then
    raise exception 'service % does not exist', p_service_id using errcode = 'BK001';
  end if;
  perform booking.assert_location_access(v_svc.location_id);
  return jsonb_build_object('service_id', v_svc.id, 'location_id', v_svc.location_id, 'entries', coalesce((
    select jsonb_agg(booking.waitlist_view(e) order by e.starts_at, e.joined_at, e.id)
      from booking.waitlist_entries e
     where e.location_id = v_svc.location_id and e.service_id = v_svc.id
       and (p_start_time is null or e.starts_at = p_start_time)
       and (p_include_ended or e.status in ('waiting', 'offered'))), '[]'::jsonb));
end;
$$;
comment on function api.list_waitlist(uuid, timestamptz, boolean) is
  'Staff and admins: the waiting-list entries of a service (of one start with p_start_time), by start and then in line order, live ones only unless p_include_ended; each as api.get_waitlist_entry shows it, with the customer''s subject. Returns {service_id, location_id, entries}. Errors: BK001, BK017.';

-- list_customer_waitlist
-- a customer's live entries (and with p_include_ended the ended ones), soonest first.
create or replace function api.list_customer_waitlist(p_user_id text, p_include_ended boolean default false)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_allowed uuid[] := booking.caller_locations();
begin
  perform booking.assert_acts_as(p_user_id);
  return coalesce((
    select jsonb_agg(booking.waitlist_view(e) order by e.starts_at, e.joined_at, e.id)
      from booking.waitlist_entries e join booking.customers c on c.id = e.customer_id
     where c.subject = p_user_id and (v_allowed is null or e.location_id = any(v_allowed))
       and (p_include_ended or e.status in ('waiting', 'offered'))), '[]'::jsonb);
end;
$$;
comment on function api.list_customer_waitlist(text, boolean) is
  'A customer''s waiting-list entries, soonest start first: the live ones (waiting, offered), all with p_include_ended. A customer may list only its own; staff and admins any, those whose token lists locations at their locations only. Errors: BK014, BK015.';

-- cleanup_waitlist
-- marks waiting entries whose start has come lapsed (each emits waitlist:lapsed).
create or replace function api.cleanup_waitlist() returns integer
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_count integer;
begin
  with passed as (
    select e.location_id, e.id from booking.waitlist_entries e
     where e.status = 'waiting' and e.starts_at <= now()
     limit 100000
     for update skip locked
  )
  update booking.waitlist_entries e
     set status = 'lapsed', end_reason = 'start_passed', ended_at = now(), version = e.version + 1, updated_at = now()
    from passed
   where e.location_id = passed.location_id and e.id = passed.id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function api.cleanup_waitlist() is
  'Marks waiting entries whose start has come lapsed (each emits waitlist:lapsed to its customer), at most 100,000 per call. Correctness does not depend on it: such an entry reads as lapsed already and is never offered. Returns how many it marked.';
