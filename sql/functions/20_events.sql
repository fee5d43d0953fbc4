-- The outbox: triggers append to booking.events and wake listeners with one NOTIFY per transaction.
--
-- Event ids are taken at COMMIT, not when the row changes: the triggers are deferred constraint
-- triggers, and each takes the event-order advisory lock before it draws an id. The lock is held
-- until the transaction has committed and become visible, so event ids are handed out in commit
-- order, and a reader that remembers "the last id I saw" can never miss an event that commits
-- later with a smaller id (it would skip that event for good). NOTIFY already serializes committing notifiers on its own
-- queue lock, so this costs no extra concurrency. See docs/ARCHITECTURE.md, "Event order".

-- event_order_lock_key
-- the advisory lock key that orders event ids by commit (class 'booking-events').
create or replace function booking.event_order_lock_key() returns bigint
language sql immutable
as $$ select 7310002::bigint $$;

-- append_event
-- appends one event in commit order and sends the transaction's single NOTIFY.
create or replace function booking.append_event(
  p_location_id uuid, p_type text, p_reservation_id uuid, p_resource_id uuid, p_service_id uuid,
  p_customer_id uuid, p_day date, p_payload jsonb)
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_id bigint;
begin
  perform pg_advisory_xact_lock(booking.event_order_lock_key());
  v_id := nextval('booking.events_id_seq');
  insert into booking.events (id, location_id, type, reservation_id, resource_id, service_id, customer_id,
                              day, payload)
  values (v_id, p_location_id, p_type, p_reservation_id, p_resource_id, p_service_id, p_customer_id,
          p_day, p_payload);
  if current_setting('booking.notify_sent', true) is distinct from 'on' then
    perform pg_notify('booking_events', v_id::text);
    perform set_config('booking.notify_sent', 'on', true);
  end if;
  return v_id;
end;
$$;
comment on function booking.append_event(uuid, text, uuid, uuid, uuid, uuid, date, jsonb) is
  'Appends an event with an id in commit order; the first event of a transaction sends NOTIFY booking_events.';

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

-- on_reservation_change
-- deferred row trigger on booking.reservations: one event per change, plus an availability event for
-- the old (resource, day) when a booking moves to another resource or day.
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
  return null;
end;
$$;
comment on function booking.on_reservation_change() is
  'Deferred trigger: appends the event of each reservation change at commit, in commit order.';

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
as $$
declare
  v_zone text;
begin
  select l.time_zone into v_zone from booking.locations l where l.id = new.location_id;
  -- a VERSION_CONFLICT requests no time: its day is the booking's. Never NULL, which means a catalogue change.
  perform booking.append_event(new.location_id, 'conflict:detected', new.attempted_reservation_id,
                               new.resource_id, new.service_id, new.requester_customer_id,
                               booking.local_day(coalesce(new.requested_start,
                                 (select r.starts_at from booking.reservations r
                                  where r.location_id = new.location_id and r.id = new.holder_reservation_id)), v_zone),
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
-- location and transaction, so loading a whole catalogue writes one event, not thousands.
create or replace function booking.on_catalogue_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_location uuid := case tg_op when 'DELETE' then old.location_id else new.location_id end;
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
  foreach v_table in array array['services', 'service_resources', 'resources', 'working_hours',
                                 'schedule_exceptions'] loop
    execute format('drop trigger if exists %I on booking.%I', v_table || '_catalogue_outbox', v_table);
    execute format('create constraint trigger %I after insert or update or delete on booking.%I '
                   'deferrable initially deferred for each row execute function booking.on_catalogue_change()',
                   v_table || '_catalogue_outbox', v_table);
  end loop;
end;
$$;
