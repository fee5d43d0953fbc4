-- Catalogue management through api.*: optimistic versions on locations, resources and services, an
-- active flag on locations, equipment as a resource kind, the catalogue audit trail, and row-level
-- security that limits staff and admins to the locations their token names (claim "locations").
-- The api functions that use all this are in sql/functions/55_catalogue_audit.sql,
-- 56_catalogue_admin.sql and 57_schedule_admin.sql.
-- depends: 0010_attempt_types

-- Versions: every change through api.* bumps version; a caller passes the version it read
-- (p_expected_version, If-Match over HTTP) and a stale one is refused with BK021.
alter table booking.locations
  add column active     boolean     not null default true,
  add column version    bigint      not null default 1 check (version > 0),
  add column updated_at timestamptz not null default now();
comment on column booking.locations.active is
  'False once the location is closed for good (api.update_location p_active => false): its services and resources were deactivated with it.';
comment on column booking.locations.version is
  'Optimistic version: bumped by every change through api.*; p_expected_version must match it.';

alter table booking.resources
  add column version    bigint      not null default 1 check (version > 0),
  add column updated_at timestamptz not null default now();
comment on column booking.resources.version is
  'Optimistic version: bumped by every change of the resource or of its weekly working hours.';

alter table booking.services
  add column version    bigint      not null default 1 check (version > 0),
  add column updated_at timestamptz not null default now();
comment on column booking.services.version is
  'Optimistic version: bumped by every change of the service or of its list of eligible resources.';

-- Equipment joins staff and rooms (a chair, a laser): anything a service occupies.
alter table booking.resources drop constraint resources_kind_check;
alter table booking.resources
  add constraint resources_kind_check check (kind in ('staff', 'room', 'equipment'));
comment on table booking.resources is 'Staff members, rooms and equipment that a service occupies.';

-- api.remove_schedule_exception finds an exception by its id alone (as resources_id, services_id)
create index schedule_exceptions_id on booking.schedule_exceptions (id);

-- The catalogue audit trail: who changed which catalogue entry, before and after. Written by the
-- api functions (booking.audit_catalogue), one row per entry changed; read by admins through
-- api.catalogue_audit. Keyed (location_id, id) like every per-location table.
create table booking.catalogue_audit (
    id             bigint      generated always as identity,
    location_id    uuid        not null,
    entity         text        not null check (entity in ('location', 'resource', 'service', 'service_resources',
                                                          'working_hours', 'schedule_exception')),
    entity_id      uuid        not null,
    action         text        not null check (action in ('create', 'update', 'deactivate', 'activate', 'delete')),
    actor_subject  text,
    actor_role     text        not null,
    db_user        text        not null default session_user,
    before         jsonb,
    after          jsonb,
    at             timestamptz not null default clock_timestamp(),
    primary key (location_id, id),
    check (before is not null or after is not null)
);
create index catalogue_audit_entity on booking.catalogue_audit (entity_id, id);
create index catalogue_audit_at on booking.catalogue_audit using brin (at);
comment on table booking.catalogue_audit is
  'Who changed which catalogue entry (location, resource, service, its eligible resources, a resource''s working hours, a schedule exception), with the entry before and after as JSON. Written by the api functions, read by admins (api.catalogue_audit).';
comment on column booking.catalogue_audit.entity_id is
  'The id of the entry: the location, resource, service or schedule exception; for service_resources the service, for working_hours the resource.';
comment on column booking.catalogue_audit.actor_subject is 'The JWT sub of the caller, NULL for a trusted SQL session.';
comment on column booking.catalogue_audit.actor_role is 'The JWT role of the caller (staff, admin), or system when the session set no claims.';
revoke all on booking.catalogue_audit from public;

-- Row-level security limited to the caller's locations. As in 0005, the policies read
-- request.jwt.claims inline (the same rule as booking.caller_locations(): no "locations" claim
-- means every location) so that evaluating them needs no EXECUTE or USAGE on schema booking,
-- which no caller role has. A policy is defence in depth: callers have no table privileges.
do $$
declare
  v_claims constant text := 'nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb';
  v_staff  text;
  v_admin  text;
  v_scope  text;
  v_table  text;
begin
  v_staff := format('((%s ->> ''role'') in (''staff'', ''admin''))', v_claims);
  v_admin := format('((%s ->> ''role'') = ''admin'')', v_claims);
  -- %1$s is replaced by the column that holds the location id
  v_scope := format('(not coalesce(%1$s ? ''locations'', false) or %%1$s in '
                    '(select x::uuid from jsonb_array_elements_text(%1$s -> ''locations'') x))', v_claims);

  -- personal data (0005): staff and admins see the rows of their locations only
  drop policy reservations_staff on booking.reservations;
  execute format('create policy reservations_staff on booking.reservations for all to booking_staff, booking_admin '
                 'using (%s and %s)', v_staff, format(v_scope, 'location_id'));
  drop policy conflicts_staff on booking.conflicts;
  execute format('create policy conflicts_staff on booking.conflicts for all to booking_staff, booking_admin '
                 'using (%s and %s)', v_staff, format(v_scope, 'location_id'));
  drop policy idempotency_keys_staff on booking.idempotency_keys;
  execute format('create policy idempotency_keys_staff on booking.idempotency_keys for all to booking_staff, '
                 'booking_admin using (%s and %s)', v_staff, format(v_scope, 'location_id'));
  drop policy audit_log_admin on booking.audit_log;
  execute format('create policy audit_log_admin on booking.audit_log for select to booking_admin using (%s and %s)',
                 v_admin, format(v_scope, 'location_id'));
  -- a customer row is shared by all locations: visible to a limited caller when the customer has
  -- a reservation at one of its locations; any staff or admin may add one (it holds only a subject)
  drop policy customers_staff on booking.customers;
  execute format('create policy customers_staff on booking.customers for all to booking_staff, booking_admin '
                 'using (%s and (not coalesce(%s ? ''locations'', false) or exists ('
                 'select 1 from booking.reservations r where r.customer_id = customers.id and %s))) '
                 'with check (%s)',
                 v_staff, v_claims, format(v_scope, 'r.location_id'), v_staff);

  -- the catalogue audit trail: admins of the location read it; nobody writes it but the api
  alter table booking.catalogue_audit enable row level security;
  execute format('create policy catalogue_audit_admin on booking.catalogue_audit for select to booking_admin '
                 'using (%s and %s)', v_admin, format(v_scope, 'location_id'));

  -- the catalogue is public (anyone may read it); admins change it at their locations, staff add
  -- and remove time off there
  alter table booking.locations enable row level security;
  create policy locations_read on booking.locations for select
    to booking_customer, booking_staff, booking_admin using (true);
  execute format('create policy locations_admin on booking.locations for all to booking_admin '
                 'using (%1$s and %2$s) with check (%1$s and %2$s)', v_admin, format(v_scope, 'id'));
  alter table booking.resources enable row level security;
  alter table booking.services enable row level security;
  alter table booking.service_resources enable row level security;
  alter table booking.working_hours enable row level security;
  alter table booking.schedule_exceptions enable row level security;
  foreach v_table in array array['resources', 'services', 'service_resources', 'working_hours',
                                 'schedule_exceptions'] loop
    execute format('create policy %I on booking.%I for select to booking_customer, booking_staff, booking_admin '
                   'using (true)', v_table || '_read', v_table);
    execute format('create policy %I on booking.%I for all to booking_admin using (%s and %s) with check (%s and %s)',
                   v_table || '_admin', v_table, v_admin, format(v_scope, 'location_id'),
                   v_admin, format(v_scope, 'location_id'));
  end loop;
  execute format('create policy schedule_exceptions_staff_time_off on booking.schedule_exceptions for all '
                 'to booking_staff using (kind = ''time_off'' and %1$s and %2$s) '
                 'with check (kind = ''time_off'' and %1$s and %2$s)',
                 format('((%s ->> ''role'') = ''staff'')', v_claims), format(v_scope, 'location_id'));
end;
$$;
