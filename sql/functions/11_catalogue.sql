-- The catalogue as the engine reads it: an active service, a location's time zone, the canonical id
-- of a slot, a resource's lock key, the local day of an instant. Internal helpers (schema booking),
-- not granted to any caller role.
--
-- slot_id, resource_lock_key and local_day are single SQL expressions with no SET clause, so that
-- PostgreSQL inlines them into their callers: keep it so (the inlining rule, 10_caller.sql).

-- active_service
-- an active service, or BK001 (unknown) / BK002 (no longer offered).
create or replace function booking.active_service(p_service_id uuid) returns booking.services
language plpgsql stable
set search_path = ''
as $$
declare
  v_svc booking.services;
begin
  select * into v_svc from booking.services s where s.id = p_service_id;
  if v_svc.id is null then
    raise exception 'service % does not exist', p_service_id
      using errcode = 'BK001', hint = 'List services and pass one of their ids.';
  end if;
  if not v_svc.active then
    raise exception 'service % is not offered any more', p_service_id
      using errcode = 'BK002', hint = 'Choose an active service.';
  end if;
  return v_svc;
end;
$$;
comment on function booking.active_service(uuid) is 'The service row; BK001 when unknown, BK002 when inactive.';

-- location_zone
-- the IANA time zone of a location.
create or replace function booking.location_zone(p_location_id uuid) returns text
language plpgsql stable
set search_path = ''
as $$
begin
  -- PL/pgSQL, not SQL: a SQL function that cannot be inlined (it has a FROM) costs more per call
  return (select l.time_zone from booking.locations l where l.id = p_location_id);
end;
$$;
comment on function booking.location_zone(uuid) is
  'The IANA time zone of a location; NULL for an unknown location.';

-- slot_id
-- the canonical id of a slot: service id and start in UTC.
create or replace function booking.slot_id(p_service_id uuid, p_start timestamptz) returns text
language sql stable
as $$
  select p_service_id::text || '@' || to_char(p_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
$$;
comment on function booking.slot_id(uuid, timestamptz) is 'Canonical slot id: <service_id>@<start in UTC, ISO 8601>.';

-- resource_lock_key
-- the advisory lock that serializes in-place moves onto one resource (see its uses below).
create or replace function booking.resource_lock_key(p_location_id uuid, p_resource_id uuid) returns bigint
language sql immutable
as $$ select hashtextextended('resource:' || p_location_id::text || ':' || p_resource_id::text, 0) $$;
comment on function booking.resource_lock_key(uuid, uuid) is
  'Advisory lock key per resource. UPDATEs whose new row version is checked by the exclusion constraint (reschedule, convert) take it first: two such UPDATEs would otherwise wait for each other''s new row and deadlock. Inserts need no lock; ON CONFLICT DO NOTHING cannot deadlock.';

-- local_day
-- the calendar day of an instant in a time zone.
create or replace function booking.local_day(p_at timestamptz, p_zone text) returns date
language sql immutable
as $$
  select (p_at at time zone p_zone)::date;
$$;
comment on function booking.local_day(timestamptz, text) is
  'The calendar day of an instant in an IANA time zone.';
