-- Catalogue management: locations, resources (staff, rooms, equipment) and services, created,
-- changed and deactivated by admins through api.*. Every change checks the caller's role and
-- location (BK017), the version the caller read (p_expected_version; stale: BK021) and the values
-- (BK018), bumps the entry's version, writes a booking.catalogue_audit row and, through the
-- triggers of 20_events.sql, one catalogue:changed event per location and transaction. A change
-- that changes nothing writes nothing: no version, no audit row, no event (so applying the same
-- catalogue twice is silent). Eligible resources, working hours and exceptions: 57_schedule_admin.sql.

-- canonical_time_zone
-- the IANA name of a time zone as PostgreSQL spells it (europe/warsaw -> Europe/Warsaw), or BK018.
create or replace function booking.canonical_time_zone(p_zone text) returns text
language plpgsql stable
set search_path = ''
as $$
declare
  v_name text;
begin
  -- named zones only: POSIX strings such as 'UTC+3' are valid in PostgreSQL but mean UTC-3
  select z.name into v_name from pg_catalog.pg_timezone_names z
   where lower(z.name) = lower(p_zone)
   order by z.name = p_zone desc, z.name
   limit 1;
  if v_name is null or not booking.is_valid_time_zone(v_name) then
    raise exception 'unknown time zone %', coalesce('"' || p_zone || '"', 'NULL')
      using errcode = 'BK018', hint = 'Use an IANA time zone name such as Europe/Warsaw (see pg_timezone_names).';
  end if;
  return v_name;
end;
$$;
comment on function booking.canonical_time_zone(text) is
  'The IANA time zone name as pg_timezone_names spells it, matched without regard to case; BK018 for anything else (unknown names, POSIX offsets such as UTC+3).';

-- check_location_values
-- BK018 unless a location's name and live-hold cap are allowed.
create or replace function booking.check_location_values(p_name text, p_max_live_holds_per_customer integer)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_name is null or length(p_name) not between 1 and 200 then
    raise exception 'a location name has 1 to 200 characters'
      using errcode = 'BK018', hint = 'Pass a name such as "Studio Mokotów".';
  end if;
  if p_max_live_holds_per_customer is null or p_max_live_holds_per_customer not between 1 and 100 then
    raise exception 'max_live_holds_per_customer must be between 1 and 100, not %',
      coalesce(p_max_live_holds_per_customer::text, 'NULL')
      using errcode = 'BK018', hint = 'Most salons use 1 to 5.';
  end if;
end;
$$;
comment on function booking.check_location_values(text, integer) is
  'Raises BK018 unless the name has 1 to 200 characters and the live-hold cap is between 1 and 100.';

-- check_resource_values
-- BK018 unless a resource's name and kind are allowed.
create or replace function booking.check_resource_values(p_name text, p_kind text)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_name is null or length(p_name) not between 1 and 200 then
    raise exception 'a resource name has 1 to 200 characters'
      using errcode = 'BK018', hint = 'Pass the name customers see, such as "Anna" or "Room 2".';
  end if;
  if p_kind is null or p_kind not in ('staff', 'room', 'equipment') then
    raise exception 'a resource kind is staff, room or equipment, not %', coalesce('"' || p_kind || '"', 'NULL')
      using errcode = 'BK018', hint = 'Use staff, room or equipment.';
  end if;
end;
$$;
comment on function booking.check_resource_values(text, text) is
  'Raises BK018 unless the name has 1 to 200 characters and the kind is staff, room or equipment.';

-- check_capacity
-- BK018 unless a resource's capacity (seats: customers at once) is between 1 and 1000.
create or replace function booking.check_capacity(p_capacity integer)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_capacity is null or p_capacity not between 1 and 1000 then
    raise exception 'a resource''s capacity is 1 to 1000 seats, not %', coalesce(p_capacity::text, 'NULL')
      using errcode = 'BK018', hint = 'Use 1 for a stylist or a room, the number of places for a class.';
  end if;
end;
$$;
comment on function booking.check_capacity(integer) is
  'Raises BK018 unless a resource''s capacity (how many customers it takes at once) is between 1 and 1000.';

-- assert_seats_free_above
-- BK020 when lowering a resource's capacity would strand live future units on seats above it.
create or replace function booking.assert_seats_free_above(p_location_id uuid, p_resource_id uuid, p_capacity integer)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_stranded integer;
begin
  select count(*) into v_stranded
  from booking.units u
  where u.location_id = p_location_id and u.resource_id = p_resource_id and u.seat > p_capacity
    and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > now())
    and upper(u.occupied) > now();
  if v_stranded > 0 then
    raise exception 'resource % still has % future bookings or live holds on seats above %', p_resource_id,
      v_stranded, p_capacity
      using errcode = 'BK020', hint = 'Cancel or move them first, or keep the capacity until they are over.';
  end if;
end;
$$;
comment on function booking.assert_seats_free_above(uuid, uuid, integer) is
  'Raises BK020 when a resource has live future units (bookings or live holds) on a seat above p_capacity: what lowering its capacity to p_capacity would leave without a seat.';

-- check_price_values
-- BK018 unless a price fits numeric(10,2) exactly and the currency is an ISO 4217 code.
create or replace function booking.check_price_values(p_price numeric, p_currency text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  -- checked before either is stored: numeric(10,2) would round a third decimal silently, char(3) cut a code
  if p_price is null or p_price < 0 or p_price >= 100000000 or p_price <> round(p_price, 2) then
    raise exception 'a price is between 0 and 99999999.99 with at most 2 decimals, not %',
      coalesce(p_price::text, 'NULL')
      using errcode = 'BK018', hint = 'Pass the price in the currency''s main unit, e.g. 120.50.';
  end if;
  if p_currency is null or p_currency !~ '^[A-Z]{3}$' then
    raise exception 'a currency is a three-letter ISO 4217 code, not %', coalesce('"' || p_currency || '"', 'NULL')
      using errcode = 'BK018', hint = 'Pass a code such as PLN or EUR.';
  end if;
end;
$$;
comment on function booking.check_price_values(numeric, text) is
  'Raises BK018 unless the price is at least 0, below 100,000,000 with at most 2 decimals (nothing is rounded silently) and the currency is three capital letters.';

-- check_service_values
-- BK018 unless every setting of a service is allowed (price and currency: check_price_values, before).
create or replace function booking.check_service_values(p_svc booking.services) returns void
language plpgsql immutable
set search_path = ''
as $$
declare
  v_problem text;
  v_hint text;
begin
  if p_svc.name is null or length(p_svc.name) not between 1 and 200 then
    v_problem := 'a service name has 1 to 200 characters';
    v_hint := 'Pass the name customers see, such as "Haircut".';
  elsif p_svc.duration is null or p_svc.duration <= interval '0' or p_svc.duration > interval '12 hours' then
    v_problem := format('the duration must be more than 0 and at most 12 hours, not %s', p_svc.duration);
    v_hint := 'Pass an interval such as ''45 minutes''.';
  elsif p_svc.buffer_before is null or p_svc.buffer_before < interval '0' or p_svc.buffer_before > interval '12 hours'
        or p_svc.buffer_after is null or p_svc.buffer_after < interval '0' or p_svc.buffer_after > interval '12 hours' then
    v_problem := format('buffers must be between 0 and 12 hours, not %s before and %s after',
                        p_svc.buffer_before, p_svc.buffer_after);
    v_hint := 'Pass intervals such as ''10 minutes'' (''0'' for none).';
  elsif p_svc.slot_step is null or p_svc.slot_step < interval '5 minutes' or p_svc.slot_step > interval '1 day' then
    v_problem := format('the slot grid step must be between 5 minutes and 1 day, not %s', p_svc.slot_step);
    v_hint := 'Most services use ''15 minutes''.';
  elsif p_svc.max_advance is null or p_svc.max_advance <= interval '0' then
    v_problem := format('the maximum advance must be more than 0, not %s', p_svc.max_advance);
    v_hint := 'Pass an interval such as ''90 days''.';
  elsif p_svc.min_notice is null or p_svc.min_notice < interval '0' or p_svc.min_notice >= p_svc.max_advance then
    v_problem := format('the minimum notice must be at least 0 and less than the maximum advance (%s), not %s',
                        p_svc.max_advance, p_svc.min_notice);
    v_hint := 'Pass an interval such as ''2 hours'' (''0'' for none).';
  elsif p_svc.hold_ttl is null or p_svc.hold_ttl <= interval '0' or p_svc.hold_ttl > interval '1 day' then
    v_problem := format('the hold TTL must be more than 0 and at most 1 day, not %s', p_svc.hold_ttl);
    v_hint := 'Most services use ''10 minutes''.';
  elsif p_svc.max_seats is null or p_svc.max_seats not between 1 and 100 then
    v_problem := format('max_seats (the seats one booking may take) must be between 1 and 100, not %s',
                        coalesce(p_svc.max_seats::text, 'NULL'));
    v_hint := 'Use 1 for an appointment, more for a class a family books together.';
  elsif p_svc.conflict_strategy is null
        or p_svc.conflict_strategy not in ('first_come_first_serve', 'last_wins', 'priority_based', 'rollback_all',
                                           'consensus', 'arbitration', 'admin_intervention') then
    v_problem := format('unknown conflict strategy %s', coalesce('"' || p_svc.conflict_strategy || '"', 'NULL'));
    v_hint := 'Use first_come_first_serve, last_wins, priority_based, rollback_all, consensus, arbitration or admin_intervention.';
  end if;
  if v_problem is not null then
    raise exception '%', v_problem using errcode = 'BK018', hint = v_hint;
  end if;
end;
$$;
comment on function booking.check_service_values(booking.services) is
  'Raises BK018 naming the first setting of a service that is not allowed: name, duration (0-12 h), buffers (0-12 h), grid step (5 min-1 day), maximum advance (> 0), minimum notice (0 up to the maximum advance), hold TTL (0-1 day), max_seats (1-100), conflict strategy.';

-- locked_location
-- a location locked against other changes, after checking the caller may act there; BK019 when unknown.
-- FOR NO KEY UPDATE: writes that only reference the row (foreign keys) do not wait for it.
create or replace function booking.locked_location(p_location_id uuid) returns booking.locations
language plpgsql
set search_path = ''
as $$
declare
  v_row booking.locations;
begin
  select * into v_row from booking.locations l where l.id = p_location_id for no key update;
  if v_row.id is null then
    raise exception 'location % not found', coalesce(p_location_id::text, 'NULL')
      using errcode = 'BK019', hint = 'Check the location id.';
  end if;
  perform booking.assert_location_access(v_row.id);
  return v_row;
end;
$$;
comment on function booking.locked_location(uuid) is
  'The location locked FOR NO KEY UPDATE; BK019 when unknown, BK017 when the caller may not act there.';

-- open_location
-- a location new resources and services may be added to (or activated at): known, the caller's, open.
create or replace function booking.open_location(p_location_id uuid) returns booking.locations
language plpgsql stable
set search_path = ''
as $$
declare
  v_row booking.locations;
begin
  select * into v_row from booking.locations l where l.id = p_location_id;
  if v_row.id is null then
    raise exception 'location % not found', coalesce(p_location_id::text, 'NULL')
      using errcode = 'BK019', hint = 'Check the location id.';
  end if;
  perform booking.assert_location_access(v_row.id);
  if not v_row.active then
    raise exception 'location % is closed', v_row.id
      using errcode = 'BK018', hint = 'Reopen it first (api.update_location with p_active => true).';
  end if;
  return v_row;
end;
$$;
comment on function booking.open_location(uuid) is
  'The location, when the caller may act there and it is active; BK019 unknown, BK017 not the caller''s, BK018 closed.';

-- locked_resource
-- a resource locked against other changes, after checking the caller may act at its location; BK019 when
-- unknown. FOR NO KEY UPDATE: a hold on the resource (a foreign key to it) does not wait for it.
create or replace function booking.locked_resource(p_resource_id uuid) returns booking.resources
language plpgsql
set search_path = ''
as $$
declare
  v_row booking.resources;
begin
  select * into v_row from booking.resources r where r.id = p_resource_id for no key update;
  if v_row.id is null then
    raise exception 'resource % not found', coalesce(p_resource_id::text, 'NULL')
      using errcode = 'BK019', hint = 'Check the resource id.';
  end if;
  perform booking.assert_location_access(v_row.location_id);
  return v_row;
end;
$$;
comment on function booking.locked_resource(uuid) is
  'The resource locked FOR NO KEY UPDATE; BK019 when unknown, BK017 when the caller may not act at its location.';

-- locked_service
-- a service (active or not) locked against other changes, after checking the caller may act at its
-- location; BK001 when unknown. FOR NO KEY UPDATE: a hold of the service does not wait for it.
create or replace function booking.locked_service(p_service_id uuid) returns booking.services
language plpgsql
set search_path = ''
as $$
declare
  v_row booking.services;
begin
  select * into v_row from booking.services s where s.id = p_service_id for no key update;
  if v_row.id is null then
    raise exception 'service % does not exist', coalesce(p_service_id::text, 'NULL')
      using errcode = 'BK001', hint = 'Check the service id.';
  end if;
  perform booking.assert_location_access(v_row.location_id);
  return v_row;
end;
$$;
comment on function booking.locked_service(uuid) is
  'The service (active or not) locked FOR NO KEY UPDATE; BK001 when unknown, BK017 when the caller may not act at its location.';

-- end_future_reservations
-- what deactivating a location, resource or service does to its live holds and future bookings:
-- BK020 when there are any, unless p_cancel, which cancels the bookings (api.cancel_booking) and
-- releases the holds (api.release_hold), so each gets its event and audit row as any cancel does.
create or replace function booking.end_future_reservations(
  p_what text, p_location_id uuid, p_resource_id uuid, p_service_id uuid, p_cancel boolean, p_reason text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_row booking.reservations;
  v_bookings integer := 0;
  v_holds integer := 0;
begin
  -- FOR UPDATE: a hold converted meanwhile is seen as the booking it became
  for v_row in
    select * from booking.reservations r
     where r.location_id = p_location_id
       and (p_resource_id is null
            or r.id in (select u.reservation_id from booking.units u
                        where u.location_id = p_location_id and u.resource_id = p_resource_id))
       and (p_service_id is null or r.service_id = p_service_id)
       and r.status in ('held', 'confirmed') and r.occupied && tstzrange(now(), null)
       and ((r.status = 'confirmed' and r.starts_at > now()) or (r.status = 'held' and r.expires_at > now()))
     order by r.starts_at, r.id
     for update
  loop
    if v_row.status = 'confirmed' then
      v_bookings := v_bookings + 1;
      if coalesce(p_cancel, false) then
        perform api.cancel_booking(v_row.id, p_reason);
      end if;
    else
      v_holds := v_holds + 1;
      if coalesce(p_cancel, false) then
        perform api.release_hold(v_row.id, v_row.session_id);
      end if;
    end if;
  end loop;
  if not coalesce(p_cancel, false) and v_bookings + v_holds > 0 then
    raise exception '% still has future bookings (%) or live holds (%)', p_what, v_bookings, v_holds
      using errcode = 'BK020',
            hint = 'Cancel or move them first, or pass p_cancel_future => true to cancel the bookings and release the holds with it.';
  end if;
  return jsonb_build_object('cancelled_bookings', v_bookings, 'released_holds', v_holds);
end;
$$;
comment on function booking.end_future_reservations(text, uuid, uuid, uuid, boolean, text) is
  'Future bookings (starting after now) and live holds of a location, or of one resource or service there: BK020 naming their numbers when there are any, unless p_cancel, which cancels each booking with p_reason through api.cancel_booking and releases each hold through api.release_hold (events and audit rows as usual). Returns {cancelled_bookings, released_holds}.';

-- create_location
-- opens a new location (salon, studio) with its time zone and live-hold cap.
create or replace function api.create_location(
  p_name text, p_time_zone text, p_max_live_holds_per_customer integer default 3, p_id uuid default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.locations;
begin
  perform booking.assert_role(array['admin']);
  if booking.caller_locations() is not null then
    raise exception 'only an admin of every location may open a new one'
      using errcode = 'BK017', hint = 'Use a token without a "locations" claim.';
  end if;
  perform booking.check_location_values(p_name, p_max_live_holds_per_customer);
  insert into booking.locations as l (id, name, time_zone, max_live_holds_per_customer)
  values (coalesce(p_id, gen_random_uuid()), p_name, booking.canonical_time_zone(p_time_zone),
          p_max_live_holds_per_customer::smallint)
  on conflict (id) do nothing
  returning l.* into v_row;
  if v_row.id is null then
    raise exception 'a location with id % already exists', p_id
      using errcode = 'BK018', hint = 'Change it with api.update_location, or leave p_id NULL.';
  end if;
  perform booking.audit_catalogue(p_location_id => v_row.id, p_entity => 'location', p_entity_id => v_row.id,
                                  p_action => 'create', p_before => null, p_after => to_jsonb(v_row));
  return to_jsonb(v_row);
end;
$$;
comment on function api.create_location(text, text, integer, uuid) is
  'Admin of every location only (a token without a "locations" claim): opens a location with its IANA time zone (matched without regard to case and stored as pg_timezone_names spells it) and cap on live holds per customer (1-100). p_id NULL: a new id. Returns the location row {id, name, time_zone, max_live_holds_per_customer, active, version, created_at, updated_at}. Errors: BK017, BK018 (name, cap, unknown time zone, id taken).';

-- update_location
-- changes a location's name, time zone, live-hold cap or active flag; NULL keeps a value.
create or replace function api.update_location(
  p_location_id uuid, p_expected_version bigint default null, p_name text default null,
  p_time_zone text default null, p_max_live_holds_per_customer integer default null,
  p_active boolean default null, p_cancel_future boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old booking.locations;
  v_new booking.locations;
  v_ended jsonb := '{}'::jsonb;
  v_svc booking.services;
  v_res booking.resources;
  v_after jsonb;
begin
  perform booking.assert_role(array['admin']);
  v_old := booking.locked_location(p_location_id);
  perform booking.assert_catalogue_version('location', v_old.id, v_old.version, p_expected_version);
  v_new := v_old;
  v_new.name := coalesce(p_name, v_old.name);
  if p_time_zone is distinct from v_old.time_zone and p_time_zone is not null then
    v_new.time_zone := booking.canonical_time_zone(p_time_zone);
  end if;
  perform booking.check_location_values(
    v_new.name, coalesce(p_max_live_holds_per_customer, v_old.max_live_holds_per_customer));
  v_new.max_live_holds_per_customer := coalesce(p_max_live_holds_per_customer, v_old.max_live_holds_per_customer);
  v_new.active := coalesce(p_active, v_old.active);
  if to_jsonb(v_new) = to_jsonb(v_old) then
    return to_jsonb(v_old);
  end if;

  if v_old.active and not v_new.active then
    v_ended := booking.end_future_reservations(format('location %s', v_old.id), v_old.id, null, null,
                                               p_cancel_future, 'the location closed');
    -- its services and resources close with it (reopening the location leaves them closed)
    for v_svc in select * from booking.services s where s.location_id = v_old.id and s.active
                 order by s.id for no key update loop
      update booking.services s set active = false, version = s.version + 1, updated_at = now()
       where s.location_id = v_svc.location_id and s.id = v_svc.id
      returning to_jsonb(s.*) into v_after;
      perform booking.audit_catalogue(p_location_id => v_old.id, p_entity => 'service', p_entity_id => v_svc.id,
                                      p_action => 'deactivate', p_before => to_jsonb(v_svc), p_after => v_after);
    end loop;
    for v_res in select * from booking.resources r where r.location_id = v_old.id and r.active
                 order by r.id for no key update loop
      update booking.resources r set active = false, version = r.version + 1, updated_at = now()
       where r.location_id = v_res.location_id and r.id = v_res.id
      returning to_jsonb(r.*) into v_after;
      perform booking.audit_catalogue(p_location_id => v_old.id, p_entity => 'resource', p_entity_id => v_res.id,
                                      p_action => 'deactivate', p_before => to_jsonb(v_res), p_after => v_after);
    end loop;
  end if;

  update booking.locations l
     set name = v_new.name, time_zone = v_new.time_zone,
         max_live_holds_per_customer = v_new.max_live_holds_per_customer, active = v_new.active,
         version = l.version + 1, updated_at = now()
   where l.id = v_old.id
  returning l.* into v_new;
  perform booking.audit_catalogue(
    p_location_id => v_old.id, p_entity => 'location', p_entity_id => v_old.id,
    p_action => case when v_old.active = v_new.active then 'update'
                     when v_new.active then 'activate' else 'deactivate' end,
    p_before => to_jsonb(v_old), p_after => to_jsonb(v_new));
  return to_jsonb(v_new) || v_ended;
end;
$$;
comment on function api.update_location(uuid, bigint, text, text, integer, boolean, boolean) is
  'Admin only: changes a location''s name, IANA time zone, live-hold cap or active flag (NULL keeps a value); with p_expected_version, only if the location is still at that version (else BK021). Returns the location row with its new version; a call that changes nothing returns it unchanged and writes nothing. A new time zone keeps every booking at its instant (working hours are read in the new zone). Closing (p_active => false) closes every service and resource of the location too (reopening opens only the location). It is refused with BK020 while the location has future bookings or live holds, unless p_cancel_future => true, which cancels each such booking (reason "the location closed") and releases each hold through the ordinary cancel and release, with their events and audit rows; the result then also says {cancelled_bookings, released_holds}. A hold or booking whose write started before the closing committed can still land after it (staff see it in their schedule). Errors: BK017, BK018, BK019, BK020, BK021.';

-- create_resource
-- adds a staff member, room or piece of equipment to a location.
drop function if exists api.create_resource(uuid, text, text, uuid);   -- the form before p_capacity
create or replace function api.create_resource(
  p_location_id uuid, p_name text, p_kind text default 'staff', p_id uuid default null,
  p_capacity integer default 1)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.resources;
begin
  perform booking.assert_role(array['admin']);
  perform booking.open_location(p_location_id);
  perform booking.check_resource_values(p_name, p_kind);
  perform booking.check_capacity(p_capacity);
  if p_id is not null and exists (select 1 from booking.resources r where r.id = p_id) then
    raise exception 'a resource with id % already exists', p_id
      using errcode = 'BK018', hint = 'Change it with api.update_resource, or leave p_id NULL.';
  end if;
  insert into booking.resources as r (id, location_id, kind, name, capacity)
  values (coalesce(p_id, gen_random_uuid()), p_location_id, p_kind, p_name, p_capacity)
  returning r.* into v_row;
  perform booking.audit_catalogue(p_location_id => v_row.location_id, p_entity => 'resource',
                                  p_entity_id => v_row.id, p_action => 'create', p_before => null,
                                  p_after => to_jsonb(v_row));
  return to_jsonb(v_row);
end;
$$;
comment on function api.create_resource(uuid, text, text, uuid, integer) is
  'Admin only: adds an active resource (kind staff, room or equipment) to an open location; it works no hours until api.set_working_hours gives it some, and performs nothing until api.set_service_resources or api.set_service_pools lists it. p_capacity is how many customers it takes at once (1 to 1000 seats; 1, the default, for a stylist or a room). p_id NULL: a new id. Returns the resource row {id, location_id, kind, name, active, capacity, version, created_at, updated_at}. Errors: BK017, BK018 (name, kind, capacity, closed location, id taken), BK019 (unknown location).';

-- update_resource
-- renames a resource, changes its kind, or (de)activates it; NULL keeps a value.
drop function if exists api.update_resource(uuid, bigint, text, text, boolean, boolean);   -- before p_capacity
create or replace function api.update_resource(
  p_resource_id uuid, p_expected_version bigint default null, p_name text default null, p_kind text default null,
  p_active boolean default null, p_cancel_future boolean default false, p_capacity integer default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old booking.resources;
  v_new booking.resources;
  v_ended jsonb := '{}'::jsonb;
begin
  perform booking.assert_role(array['admin']);
  v_old := booking.locked_resource(p_resource_id);
  perform booking.assert_catalogue_version('resource', v_old.id, v_old.version, p_expected_version);
  v_new := v_old;
  v_new.name := coalesce(p_name, v_old.name);
  v_new.kind := coalesce(p_kind, v_old.kind);
  v_new.active := coalesce(p_active, v_old.active);
  v_new.capacity := coalesce(p_capacity, v_old.capacity);
  perform booking.check_resource_values(v_new.name, v_new.kind);
  perform booking.check_capacity(v_new.capacity);
  if to_jsonb(v_new) = to_jsonb(v_old) then
    return to_jsonb(v_old);
  end if;
  if v_new.capacity < v_old.capacity then
    perform booking.assert_seats_free_above(v_old.location_id, v_old.id, v_new.capacity);
  end if;
  if v_new.active and not v_old.active then
    perform booking.open_location(v_old.location_id);
  elsif v_old.active and not v_new.active then
    v_ended := booking.end_future_reservations(format('resource %s', v_old.id), v_old.location_id, v_old.id,
                                               null, p_cancel_future, 'no longer available');
  end if;
  update booking.resources r
     set name = v_new.name, kind = v_new.kind, active = v_new.active, capacity = v_new.capacity,
         version = r.version + 1, updated_at = now()
   where r.location_id = v_old.location_id and r.id = v_old.id
  returning r.* into v_new;
  perform booking.audit_catalogue(
    p_location_id => v_old.location_id, p_entity => 'resource', p_entity_id => v_old.id,
    p_action => case when v_old.active = v_new.active then 'update'
                     when v_new.active then 'activate' else 'deactivate' end,
    p_before => to_jsonb(v_old), p_after => to_jsonb(v_new));
  return to_jsonb(v_new) || v_ended;
end;
$$;
comment on function api.update_resource(uuid, bigint, text, text, boolean, boolean, integer) is
  'Admin only: renames a resource, changes its kind (staff, room, equipment), its capacity (seats, 1 to 1000) or its active flag (NULL keeps a value); with p_expected_version, only if it is still at that version (else BK021). Returns the resource row with its new version; a call that changes nothing returns it unchanged and writes nothing. An inactive resource is offered for nothing but keeps its hours and services. Deactivating (p_active => false) is refused with BK020 while the resource has future bookings or live holds, unless p_cancel_future => true, which cancels each such booking (reason "no longer available") and releases each hold through the ordinary cancel and release, with their events and audit rows; the result then also says {cancelled_bookings, released_holds}. A hold or booking whose write started before the deactivation committed can still land after it (staff see it in their schedule). Activating needs an open location (BK018). A lower capacity is refused with BK020 while a future booking or live hold has a seat above it. Errors: BK017, BK018, BK019, BK020, BK021.';

-- create_service
-- adds a service to a location: duration, buffers, price, slot grid, notice and advance limits, hold TTL, strategy.
-- (its form before p_max_seats is dropped first)
drop function if exists api.create_service(uuid, text, interval, interval, interval, interval, interval, interval, interval, text, numeric, text, uuid);
create or replace function api.create_service(
  p_location_id uuid, p_name text, p_duration interval,
  p_buffer_before interval default '0', p_buffer_after interval default '0',
  p_slot_step interval default '15 minutes', p_min_notice interval default '0',
  p_max_advance interval default '90 days', p_hold_ttl interval default '10 minutes',
  p_conflict_strategy text default 'first_come_first_serve', p_price numeric default 0,
  p_currency text default 'PLN', p_id uuid default null, p_max_seats integer default 1)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.services;
begin
  perform booking.assert_role(array['admin']);
  perform booking.open_location(p_location_id);
  perform booking.check_price_values(p_price, upper(p_currency));
  v_row.id := coalesce(p_id, gen_random_uuid());
  v_row.location_id := p_location_id;
  v_row.name := p_name;
  v_row.duration := p_duration;
  v_row.buffer_before := p_buffer_before;
  v_row.buffer_after := p_buffer_after;
  v_row.slot_step := p_slot_step;
  v_row.min_notice := p_min_notice;
  v_row.max_advance := p_max_advance;
  v_row.hold_ttl := p_hold_ttl;
  v_row.conflict_strategy := p_conflict_strategy;
  v_row.price := p_price;
  v_row.currency := upper(p_currency);
  v_row.max_seats := p_max_seats;
  perform booking.check_service_values(v_row);
  if p_id is not null and exists (select 1 from booking.services s where s.id = p_id) then
    raise exception 'a service with id % already exists', p_id
      using errcode = 'BK018', hint = 'Change it with api.update_service, or leave p_id NULL.';
  end if;
  insert into booking.services as s (id, location_id, name, duration, buffer_before, buffer_after, slot_step,
                                     min_notice, max_advance, hold_ttl, conflict_strategy, price, currency,
                                     max_seats)
  values (v_row.id, v_row.location_id, v_row.name, v_row.duration, v_row.buffer_before, v_row.buffer_after,
          v_row.slot_step, v_row.min_notice, v_row.max_advance, v_row.hold_ttl, v_row.conflict_strategy,
          v_row.price, v_row.currency, v_row.max_seats)
  returning s.* into v_row;
  perform booking.audit_catalogue(p_location_id => v_row.location_id, p_entity => 'service',
                                  p_entity_id => v_row.id, p_action => 'create', p_before => null,
                                  p_after => to_jsonb(v_row));
  return to_jsonb(v_row);
end;
$$;
comment on function api.create_service(uuid, text, interval, interval, interval, interval, interval, interval,
                                      interval, text, numeric, text, uuid, integer) is
  'Admin only: adds an active service to an open location. Duration more than 0 and at most 12 hours; buffers before and after (0-12 hours) are kept free around each appointment; starts lie on a grid of p_slot_step (5 minutes to 1 day) from local midnight; bookable from p_min_notice ahead up to p_max_advance ahead; holds last at most p_hold_ttl (at most 1 day); p_conflict_strategy settles taken slots (see "Conflict strategies"); p_price (at most 2 decimals) in p_currency (ISO 4217, any case, stored in capitals); p_max_seats is the most seats one hold or booking may take (1 to 100; 1, the default, for an appointment). Nobody performs it until api.set_service_resources lists its resources; further resources it needs (a wash station for part of it) are set with api.set_service_pools. p_id NULL: a new id. Returns the service row {id, location_id, name, duration, buffer_before, buffer_after, slot_step, min_notice, max_advance, hold_ttl, conflict_strategy, price, currency, active, max_seats, version, created_at, updated_at}. Errors: BK017, BK018 (a value, closed location, id taken), BK019 (unknown location).';

-- update_service
-- changes any setting of a service or (de)activates it; NULL keeps a value.
-- (its form before p_max_seats is dropped first)
drop function if exists api.update_service(uuid, bigint, text, interval, interval, interval, interval, interval, interval, interval, text, numeric, text, boolean, boolean);
create or replace function api.update_service(
  p_service_id uuid, p_expected_version bigint default null, p_name text default null,
  p_duration interval default null, p_buffer_before interval default null, p_buffer_after interval default null,
  p_slot_step interval default null, p_min_notice interval default null, p_max_advance interval default null,
  p_hold_ttl interval default null, p_conflict_strategy text default null, p_price numeric default null,
  p_currency text default null, p_active boolean default null, p_cancel_future boolean default false,
  p_max_seats integer default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old booking.services;
  v_new booking.services;
  v_ended jsonb := '{}'::jsonb;
begin
  perform booking.assert_role(array['admin']);
  v_old := booking.locked_service(p_service_id);
  perform booking.assert_catalogue_version('service', v_old.id, v_old.version, p_expected_version);
  perform booking.check_price_values(coalesce(p_price, v_old.price), coalesce(upper(p_currency), v_old.currency));
  v_new := v_old;
  v_new.name := coalesce(p_name, v_old.name);
  v_new.duration := coalesce(p_duration, v_old.duration);
  v_new.buffer_before := coalesce(p_buffer_before, v_old.buffer_before);
  v_new.buffer_after := coalesce(p_buffer_after, v_old.buffer_after);
  v_new.slot_step := coalesce(p_slot_step, v_old.slot_step);
  v_new.min_notice := coalesce(p_min_notice, v_old.min_notice);
  v_new.max_advance := coalesce(p_max_advance, v_old.max_advance);
  v_new.hold_ttl := coalesce(p_hold_ttl, v_old.hold_ttl);
  v_new.conflict_strategy := coalesce(p_conflict_strategy, v_old.conflict_strategy);
  v_new.price := coalesce(p_price, v_old.price);
  v_new.currency := coalesce(upper(p_currency), v_old.currency);
  v_new.active := coalesce(p_active, v_old.active);
  v_new.max_seats := coalesce(p_max_seats, v_old.max_seats);
  perform booking.check_service_values(v_new);
  if to_jsonb(v_new) = to_jsonb(v_old) then
    return to_jsonb(v_old);
  end if;
  if v_new.duration < v_old.duration then     -- every further pool must still start within it
    perform booking.assert_pools_fit(v_new);
  end if;
  if v_new.active and not v_old.active then
    perform booking.open_location(v_old.location_id);
  elsif v_old.active and not v_new.active then
    v_ended := booking.end_future_reservations(format('service %s', v_old.id), v_old.location_id, null, v_old.id,
                                               p_cancel_future, 'the service is no longer offered');
  end if;
  update booking.services s
     set name = v_new.name, duration = v_new.duration, buffer_before = v_new.buffer_before,
         buffer_after = v_new.buffer_after, slot_step = v_new.slot_step, min_notice = v_new.min_notice,
         max_advance = v_new.max_advance, hold_ttl = v_new.hold_ttl, conflict_strategy = v_new.conflict_strategy,
         price = v_new.price, currency = v_new.currency, active = v_new.active, max_seats = v_new.max_seats,
         version = s.version + 1, updated_at = now()
   where s.location_id = v_old.location_id and s.id = v_old.id
  returning s.* into v_new;
  perform booking.audit_catalogue(
    p_location_id => v_old.location_id, p_entity => 'service', p_entity_id => v_old.id,
    p_action => case when v_old.active = v_new.active then 'update'
                     when v_new.active then 'activate' else 'deactivate' end,
    p_before => to_jsonb(v_old), p_after => to_jsonb(v_new));
  return to_jsonb(v_new) || v_ended;
end;
$$;
comment on function api.update_service(uuid, bigint, text, interval, interval, interval, interval, interval, interval,
                                      interval, text, numeric, text, boolean, boolean, integer) is
  'Admin only: changes any setting of a service (as in api.create_service, p_max_seats included) or its active flag; NULL keeps a value; with p_expected_version, only if the service is still at that version (else BK021). Returns the service row with its new version; a call that changes nothing returns it unchanged and writes nothing. Existing holds and bookings keep their times, duration and buffers; new ones follow the new settings. A duration that a further pool would start at or after (its starts_after, see api.set_service_pools) is BK023. Deactivating (p_active => false) is refused with BK020 while the service has future bookings or live holds, unless p_cancel_future => true, which cancels each such booking (reason "the service is no longer offered") and releases each hold through the ordinary cancel and release, with their events and audit rows; the result then also says {cancelled_bookings, released_holds}. A hold or booking whose write started before the deactivation committed can still land after it (staff see it in their schedule). Activating needs an open location (BK018). Errors: BK001 (unknown service), BK017, BK018, BK020, BK021, BK023.';
