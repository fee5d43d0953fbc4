-- Test fixtures for the pgTAP files in sql/tests/: schema `tests`, installed only into the test
-- session's database (tests/support/database.py, right after pgTAP). `booking migrate` never reads
-- this folder, so production databases have no `tests` schema (tests/test_cli.py checks that).
--
-- The helpers write the catalogue the way an operator's load would (plain inserts into booking.*),
-- and switch identity the way the gateway does per request: the caller role booking_<role> and
-- request.jwt.claims, both local to the transaction. They are SECURITY INVOKER on purpose: a
-- SECURITY DEFINER function may not change the role, and these must not widen anyone's rights.

create schema tests;
comment on schema tests is
  'Fixtures for the pgTAP tests (sql/tests/helpers/tests_schema.sql); present only in test databases.';
-- Callers' roles run authenticate_as/clear_authentication while acting as a customer, staff or admin.
grant usage on schema tests to public;

-- create_location
-- a location (salon, studio) with its time zone and live-hold cap; returns its id.
create function tests.create_location(
  p_id uuid default gen_random_uuid(),
  p_name text default 'Test studio',
  p_time_zone text default 'UTC',
  p_max_live_holds_per_customer integer default 3
) returns uuid
language sql
as $$
  insert into booking.locations (id, name, time_zone, max_live_holds_per_customer)
  values (p_id, p_name, p_time_zone, p_max_live_holds_per_customer::smallint)
  returning id;
$$;
comment on function tests.create_location(uuid, text, text, integer) is
  'Test fixture: inserts a location (default: "Test studio" in UTC, cap of 3 live holds per customer) and returns its id.';

-- add_working_hours
-- weekly working hours of one resource: every range in p_hours on every ISO weekday in p_weekdays.
create function tests.add_working_hours(
  p_location_id uuid,
  p_resource_id uuid,
  p_hours text[],
  p_weekdays integer[] default '{1,2,3,4,5,6,7}'
) returns void
language sql
as $$
  insert into booking.working_hours (location_id, resource_id, weekday, hours)
  select p_location_id, p_resource_id, d::smallint, h::booking.timerange
  from unnest(p_weekdays) d, unnest(p_hours) h;
$$;
comment on function tests.add_working_hours(uuid, uuid, text[], integer[]) is
  'Test fixture: gives a resource weekly working hours, each local-time range of p_hours (e.g. {"[09:00,17:00)"}) on each ISO weekday of p_weekdays (1 = Monday; default every day).';

-- create_staff
-- a staff member of a location and their weekly working hours (default 09:00-17:00 every day); returns the id.
create function tests.create_staff(
  p_location_id uuid,
  p_name text,
  p_id uuid default gen_random_uuid(),
  p_hours text[] default '{"[09:00,17:00)"}',
  p_weekdays integer[] default '{1,2,3,4,5,6,7}'
) returns uuid
language plpgsql
as $$
begin
  insert into booking.resources (id, location_id, kind, name) values (p_id, p_location_id, 'staff', p_name);
  perform tests.add_working_hours(p_location_id, p_id, p_hours, p_weekdays);
  return p_id;
end;
$$;
comment on function tests.create_staff(uuid, text, uuid, text[], integer[]) is
  'Test fixture: inserts a staff resource with weekly working hours (default [09:00,17:00) every day; p_hours => ''{}'' for none) and returns its id.';

-- create_service
-- a service of a location and who performs it, p_staff in preference order; returns the id.
create function tests.create_service(
  p_location_id uuid,
  p_name text,
  p_duration interval,
  p_staff uuid[] default '{}',
  p_id uuid default gen_random_uuid(),
  p_buffer_before interval default '0',
  p_buffer_after interval default '0',
  p_slot_step interval default '15 minutes',
  p_min_notice interval default '0',
  p_max_advance interval default '3650 days',
  p_hold_ttl interval default '10 minutes',
  p_conflict_strategy text default 'first_come_first_serve',
  p_active boolean default true
) returns uuid
language plpgsql
as $$
begin
  insert into booking.services (id, location_id, name, duration, buffer_before, buffer_after, slot_step,
                                min_notice, max_advance, hold_ttl, conflict_strategy, active)
  values (p_id, p_location_id, p_name, p_duration, p_buffer_before, p_buffer_after, p_slot_step,
          p_min_notice, p_max_advance, p_hold_ttl, p_conflict_strategy, p_active);
  insert into booking.service_resources (location_id, service_id, resource_id, preference)
  select p_location_id, p_id, s.resource_id, s.preference::smallint
  from unnest(p_staff) with ordinality s(resource_id, preference);
  return p_id;
end;
$$;
comment on function tests.create_service(uuid, text, interval, uuid[], uuid, interval, interval, interval, interval,
                                         interval, interval, text, boolean) is
  'Test fixture: inserts a service performed by p_staff (preference 1, 2, ... in array order) and returns its id. Defaults: no buffers, a 15-minute grid, no notice, 3650 days ahead, a 10-minute hold TTL, first_come_first_serve, active.';

-- create_customer
-- a customer (one JWT subject) with optional contact data and priority; returns the id.
create function tests.create_customer(
  p_subject text,
  p_id uuid default gen_random_uuid(),
  p_display_name text default null,
  p_email text default null,
  p_phone text default null,
  p_priority integer default 0
) returns uuid
language sql
as $$
  insert into booking.customers (id, subject, display_name, email, phone, priority)
  values (p_id, p_subject, p_display_name, p_email, p_phone, p_priority)
  returning id;
$$;
comment on function tests.create_customer(text, uuid, text, text, text, integer) is
  'Test fixture: inserts a customer for the JWT subject p_subject, with optional name, e-mail, phone and priority, and returns its id.';

-- authenticate_as
-- act as a gateway request does: the caller role booking_<p_role> and JWT claims {sub, role}, until
-- the transaction ends or clear_authentication(). A NULL p_sub means the role with no claims at all.
create function tests.authenticate_as(p_role text, p_sub text) returns void
language plpgsql
as $$
begin
  if p_role is null or p_role not in ('customer', 'staff', 'admin') then
    raise exception 'tests.authenticate_as: unknown caller role %', coalesce(p_role, 'NULL')
      using errcode = 'invalid_parameter_value', hint = 'Use customer, staff or admin.';
  end if;
  perform set_config('role', 'booking_' || p_role, true);
  perform set_config('request.jwt.claims',
                     case when p_sub is null then ''
                          else jsonb_build_object('sub', p_sub, 'role', p_role)::text end,
                     true);
end;
$$;
comment on function tests.authenticate_as(text, text) is
  'Test helper: switches to the caller role booking_<p_role> (customer, staff or admin) and sets request.jwt.claims to {"sub": p_sub, "role": p_role} (empty when p_sub is NULL), both local to the transaction.';

-- authenticate_at
-- as authenticate_as, with a token limited to some locations (the JWT claim "locations").
create function tests.authenticate_at(p_role text, p_sub text, p_locations uuid[]) returns void
language plpgsql
as $$
begin
  perform tests.authenticate_as(p_role, p_sub);
  perform set_config('request.jwt.claims',
                     jsonb_build_object('sub', p_sub, 'role', p_role, 'locations', to_jsonb(p_locations))::text,
                     true);
end;
$$;
comment on function tests.authenticate_at(text, text, uuid[]) is
  'Test helper: as tests.authenticate_as, with claims {"sub": p_sub, "role": p_role, "locations": p_locations}, a staff or admin token limited to those locations.';

-- set_claims
-- only the JWT claims, leaving the database role as it is: in a trusted session (no caller role) the
-- API's own role checks decide; under a caller role, a mismatching claim shows that the role wins.
create function tests.set_claims(p_role text, p_sub text) returns void
language sql
as $$
  select set_config('request.jwt.claims', jsonb_build_object('sub', p_sub, 'role', p_role)::text, true);
$$;
comment on function tests.set_claims(text, text) is
  'Test helper: sets request.jwt.claims to {"sub": p_sub, "role": p_role}, local to the transaction, without changing the database role.';

-- clear_authentication
-- back to the trusted SQL session: no caller role and no claims.
create function tests.clear_authentication() returns void
language sql
as $$
  select set_config('role', 'none', true);
  select set_config('request.jwt.claims', '', true);
$$;
comment on function tests.clear_authentication() is
  'Test helper: resets the role to the session user and empties request.jwt.claims (a trusted SQL session), local to the transaction.';
