-- The outbox: triggers append to booking.events at commit; no lock is waited for on the write path,
-- and at most one committing transaction at a time sends NOTIFY booking_events.
--
-- Event ids come from booking.events_id_seq, drawn at commit by deferred triggers, so a transaction
-- that changes a row after another one committed it gets the larger ids (per reservation, ids follow
-- versions). Sequences are not committed in order, though: A draws 10, B draws 11, B's commit is
-- visible first, and a reader that handed out 11 would never hand out 10. So before its first draw
-- a transaction registers the lowest id it can get: a shared advisory lock keyed by that id, which
-- every session sees at once (pg_locks) and which is released only after the commit is visible. A
-- reader hands out ids up to event_read_bound(): below every registered id and no higher than the
-- sequence had reached, read in that order before the reader's snapshot is taken, so every id up to
-- the bound is committed and visible, or will never exist. A long transaction holds nothing back:
-- it registers only when it commits. See docs/ARCHITECTURE.md, "Event order".

-- in_flight_key
-- the advisory lock key that registers an in-flight event id: bit 62 set, bit 63 clear, the id below.
-- (int8 advisory keys show in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.)
create or replace function booking.in_flight_key(p_id bigint) returns bigint
language sql immutable
as $$ select (1::bigint << 62) | p_id $$;
comment on function booking.in_flight_key(bigint) is
  'Advisory lock key that registers an event id as in flight (bit 62 set): see booking.event_read_bound.';

-- event_read_bound
-- the highest event id a reader may hand out now: every id up to it is committed and visible to a
-- statement that starts after this call, or will never exist. Volatile: read it, then read events
-- in a later statement (under READ COMMITTED, each statement sees what committed before it began).
create or replace function booking.event_read_bound() returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
  v_drawn bigint;
  v_in_flight bigint;
begin
  -- the bound holds for statements that take their own snapshot after it: READ COMMITTED only
  if current_setting('transaction_isolation') <> 'read committed' then
    raise exception 'reading the event log needs READ COMMITTED, not %', current_setting('transaction_isolation')
      using errcode = 'BK014',
            hint = 'Read events in a READ COMMITTED transaction (the default): an older snapshot could miss events.';
  end if;
  -- first how far the sequence has gone: an id drawn after this is above it
  v_drawn := coalesce(pg_catalog.pg_sequence_last_value('booking.events_id_seq'), 0);
  -- then the lowest id registered by a transaction still committing (another session's)
  select min(((l.classid::bigint << 32) | l.objid::bigint) & ((1::bigint << 62) - 1)) into v_in_flight
    from pg_catalog.pg_locks l
   where l.locktype = 'advisory' and l.objsubid = 1 and l.mode = 'ShareLock'
     and l.classid::bigint between (1::bigint << 30) and (1::bigint << 31) - 1
     -- advisory locks are per database: another database's outbox on the same server is not ours
     and l.database = (select d.oid from pg_catalog.pg_database d
                        where d.datname = pg_catalog.current_database())
     and l.pid is distinct from pg_catalog.pg_backend_pid();
  return least(v_drawn, coalesce(v_in_flight - 1, v_drawn));
end;
$$;
comment on function booking.event_read_bound() is
  'The highest event id a reader may hand out: no higher than the sequence had reached and below every id registered by a transaction still committing. Every id up to it is committed and visible to a later statement, or never will be. A transaction''s own registration does not count (it reads its own events). BK014 outside READ COMMITTED.';

-- notify_lock_key
-- the advisory lock that lets one committing transaction at a time send NOTIFY (class 'booking-events').
create or replace function booking.notify_lock_key() returns bigint
language sql immutable
as $$ select 7310002::bigint $$;
comment on function booking.notify_lock_key() is
  'Advisory lock key that lets one committing transaction at a time send NOTIFY booking_events.';

-- append_event
-- appends one event of the transaction (at commit, from the deferred triggers); the first one
-- registers the transaction as in flight and may send the NOTIFY that wakes listeners.
drop function if exists booking.event_order_lock_key();
create or replace function booking.append_event(
  p_location_id uuid, p_type text, p_reservation_id uuid, p_resource_id uuid, p_service_id uuid,
  p_customer_id uuid, p_day date, p_payload jsonb)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_first boolean := current_setting('booking.event_registered', true) is distinct from 'on';
  v_id bigint;
begin
  if v_first then
    -- register before drawing: every id this transaction draws is at least the registered one
    perform pg_advisory_xact_lock_shared(booking.in_flight_key(
      coalesce(pg_catalog.pg_sequence_last_value('booking.events_id_seq'), 0) + 1));
    perform set_config('booking.event_registered', 'on', true);
  end if;
  v_id := nextval('booking.events_id_seq');
  insert into booking.events (id, location_id, type, reservation_id, resource_id, service_id, customer_id,
                              day, payload)
  values (v_id, p_location_id, p_type, p_reservation_id, p_resource_id, p_service_id, p_customer_id,
          p_day, p_payload);
  -- NOTIFY serializes notifying commits on its own queue lock (WAL flush included), so only the
  -- transaction that wins this lock notifies; listeners also re-read shortly after every wake-up and
  -- on a timer, which delivers the events of transactions that did not notify
  if v_first and pg_try_advisory_xact_lock(booking.notify_lock_key()) then
    perform pg_notify('booking_events', v_id::text);
  end if;
  return v_id;
end;
$$;
comment on function booking.append_event(uuid, text, uuid, uuid, uuid, uuid, date, jsonb) is
  'Appends an event with an id drawn at commit; the first event of a transaction registers it as in flight (see event_read_bound) and sends NOTIFY booking_events when no other committing transaction is notifying.';

-- reservation_event_type
-- the event a status change means.
create or replace function booking.reservation_event_type(p_old booking.reservations, p_new booking.reservations)
returns text
language sql immutable
as $$
  select case
    when p_old is null then case p_new.status when 'held' then 'hold:created' else 'booking:confirmed' end
    when p_new.status <> p_old.status then case p_new.status
      when 'confirmed' then 'booking:confirmed'
      when 'released' then 'hold:released'
      when 'expired' then 'hold:expired'
      when 'preempted' then 'hold:preempted'
      when 'cancelled' then case p_old.status when 'held' then 'hold:released' else 'booking:cancelled' end
      else 'reservation:updated' end
    when p_new.occupied <> p_old.occupied or p_new.resource_id <> p_old.resource_id then
      case p_new.status when 'confirmed' then 'booking:rescheduled' else 'hold:moved' end
    else 'reservation:updated'
  end;
$$;
comment on function booking.reservation_event_type(booking.reservations, booking.reservations) is
  'The event type of a reservation change (hold:created, booking:confirmed, hold:expired, booking:rescheduled, ...); p_old NULL for an insert.';

-- on_reservation_change
-- deferred row trigger on booking.reservations: one event per change, plus an availability event for
-- the old (resource, day) when a booking moves to another resource or day, and for each resource of
-- its other units (a service that takes a stylist and a wash station changes the wash station's day).
create or replace function booking.on_reservation_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_zone text;
  v_old booking.reservations;
  v_day date;
  v_payload jsonb;
begin
  if tg_op = 'UPDATE' then
    v_old := old;
    if old.version = new.version and old.status = new.status and old.occupied = new.occupied then
      return null;
    end if;
  end if;
  select l.time_zone into v_zone from booking.locations l where l.id = new.location_id;
  v_day := booking.local_day(new.starts_at, v_zone);
  v_payload := jsonb_build_object(
    'reservation_id', new.id, 'status', new.status, 'service_id', new.service_id,
    'resource_id', new.resource_id, 'start_time', new.starts_at, 'end_time', new.ends_at,
    'version', new.version);
  if tg_op = 'UPDATE' and (old.occupied <> new.occupied or old.resource_id <> new.resource_id) then
    v_payload := v_payload || jsonb_build_object('previous', jsonb_build_object(
      'resource_id', old.resource_id, 'start_time', old.starts_at, 'end_time', old.ends_at));
  end if;
  perform booking.append_event(new.location_id, booking.reservation_event_type(v_old, new), new.id,
                               new.resource_id, new.service_id, new.customer_id, v_day, v_payload);
  if tg_op = 'UPDATE' and (old.resource_id <> new.resource_id
                           or booking.local_day(old.starts_at, v_zone) <> v_day) then
    perform booking.append_event(new.location_id, 'availability:updated', new.id, old.resource_id,
                                 old.service_id, null, booking.local_day(old.starts_at, v_zone),
                                 jsonb_build_object('reservation_id', new.id, 'resource_id', old.resource_id,
                                                    'start_time', old.starts_at, 'end_time', old.ends_at));
  end if;
  if new.units > 1 then
    -- its other units (a wash station, a room) change the availability of every service of theirs
    perform booking.append_event(new.location_id, 'availability:updated', new.id, o.resource_id, new.service_id,
                                 null, o.day, jsonb_build_object('reservation_id', new.id, 'resource_id', o.resource_id,
                                                                 'start_time', new.starts_at, 'end_time', new.ends_at))
    from (select distinct u.resource_id, d.day
          from booking.units u
          cross join lateral (select v_day as day
                              union select booking.local_day(old.starts_at, v_zone) where tg_op = 'UPDATE') d
          where u.location_id = new.location_id and u.reservation_id = new.id
            and u.resource_id <> new.resource_id
          order by 1, 2) o;
  end if;
  return null;
end;
$$;
comment on function booking.on_reservation_change() is
  'Deferred trigger: appends the event of each reservation change at commit.';

drop trigger if exists reservations_outbox on booking.reservations;
create constraint trigger reservations_outbox
  after insert or update on booking.reservations
  deferrable initially deferred
  for each row execute function booking.on_reservation_change();

-- on_conflict_recorded
-- deferred row trigger on booking.conflicts: tells the requester (user topic) about its conflict.
create or replace function booking.on_conflict_recorded() returns trigger
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off      -- it reads the holder by key at commit: never a plan kept from an empty table
as $$
declare
  v_zone text := booking.location_zone(new.location_id);
  v_start timestamptz := new.requested_start;
begin
  if v_start is null then
    -- a VERSION_CONFLICT requests no time: its day is the booking's (never NULL, which would mean a
    -- catalogue change)
    select r.starts_at into v_start from booking.reservations r
     where r.location_id = new.location_id and r.id = new.holder_reservation_id;
  end if;
  perform booking.append_event(new.location_id, 'conflict:detected', new.attempted_reservation_id,
                               new.resource_id, new.service_id, new.requester_customer_id,
                               booking.local_day(v_start, v_zone),
                               jsonb_build_object('conflict_id', new.id, 'conflict_type', new.conflict_type,
                                                  'status', new.status, 'service_id', new.service_id,
                                                  'start_time', new.requested_start,
                                                  'end_time', new.requested_end));
  return null;
end;
$$;
comment on function booking.on_conflict_recorded() is
  'Deferred trigger: appends a conflict:detected event for the requester when a conflict is recorded.';

drop trigger if exists conflicts_outbox on booking.conflicts;
create constraint trigger conflicts_outbox
  after insert on booking.conflicts
  deferrable initially deferred
  for each row execute function booking.on_conflict_recorded();

-- on_catalogue_change
-- deferred row trigger on catalogue tables: the location's availability may have changed. One event per
-- location and transaction, so loading a whole catalogue writes one event, not thousands. On
-- booking.locations the location is the row itself (its time zone, its active flag).
create or replace function booking.on_catalogue_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row jsonb := case tg_op when 'DELETE' then to_jsonb(old) else to_jsonb(new) end;
  v_location uuid := (case tg_table_name when 'locations' then v_row->>'id' else v_row->>'location_id' end)::uuid;
  v_seen text := coalesce(current_setting('booking.catalogue_events', true), '');
begin
  if position(v_location::text in v_seen) > 0 then
    return null;
  end if;
  perform set_config('booking.catalogue_events', v_seen || v_location::text || ',', true);
  if exists (select 1 from booking.locations l where l.id = v_location) then
    perform booking.append_event(v_location, 'catalogue:changed', null, null, null, null, null,
                                 jsonb_build_object('table', tg_table_name));
  end if;
  return null;
end;
$$;
comment on function booking.on_catalogue_change() is
  'Deferred trigger: a catalogue:changed event per touched location and transaction; it bumps every availability version there.';

do $$
declare
  v_table text;
begin
  foreach v_table in array array['locations', 'services', 'service_resources', 'service_pools', 'resources',
                                 'working_hours', 'schedule_exceptions'] loop
    execute format('drop trigger if exists %I on booking.%I', v_table || '_catalogue_outbox', v_table);
    execute format('create constraint trigger %I after insert or update or delete on booking.%I '
                   'deferrable initially deferred for each row execute function booking.on_catalogue_change()',
                   v_table || '_catalogue_outbox', v_table);
  end loop;
end;
$$;
