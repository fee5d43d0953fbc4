-- Schema contract: the tables, columns, constraints and functions callers and operators rely on.
begin;
select plan(27);

select has_schema('booking', 'Private schema booking exists');
select has_schema('api', 'API schema api exists');

select has_table('booking', 'locations', 'booking.locations exists');
select has_table('booking', 'resources', 'booking.resources exists');
select has_table('booking', 'services', 'booking.services exists');
select has_table('booking', 'service_resources', 'booking.service_resources exists');
select has_table('booking', 'working_hours', 'booking.working_hours exists');
select has_table('booking', 'schedule_exceptions', 'booking.schedule_exceptions exists');
select has_table('booking', 'customers', 'booking.customers exists');
select has_table('booking', 'reservations', 'booking.reservations exists');
select has_table('booking', 'conflicts', 'booking.conflicts exists');
select has_table('booking', 'idempotency_keys', 'booking.idempotency_keys exists');
select has_table('booking', 'distributed_locks', 'booking.distributed_locks exists');
select has_table('booking', 'events', 'booking.events exists');

select col_type_is('booking', 'locations', 'time_zone', 'text', 'A location has a text time zone');
select col_default_is('booking', 'locations', 'time_zone', 'Europe/Warsaw', 'Locations default to Europe/Warsaw');

select columns_are('booking', 'reservations', array[
  'id', 'location_id', 'resource_id', 'service_id', 'customer_id', 'starts_at', 'ends_at', 'occupied',
  'status', 'expires_at', 'session_id', 'slot_id', 'version', 'idempotency_key', 'details',
  'cancel_reason', 'created_at', 'updated_at', 'confirmed_at', 'ended_at', 'units', 'seats'],
  'Reservations have exactly the ledger''s columns');
select columns_are('booking', 'units', array[
  'location_id', 'reservation_id', 'pool', 'seat', 'resource_id', 'occupied', 'status', 'expires_at'],
  'Units have exactly the occupancy''s columns');
select col_type_is('booking', 'reservations', 'occupied', 'tstzrange', 'occupied is a tstzrange');
select col_type_is('booking', 'reservations', 'version', 'bigint', 'version is a bigint');

select is(
  (select pg_get_constraintdef(c.oid) from pg_constraint c
   where c.conrelid = 'booking.units'::regclass and c.conname = 'units_no_overlap'),
  'EXCLUDE USING gist (location_id WITH =, resource_id WITH =, seat WITH =, occupied WITH &&) WHERE ((status = ANY (ARRAY[''held''::text, ''confirmed''::text])))',
  'The no-overlap invariant is the exclusion constraint units_no_overlap over the live units of one seat of one resource');
select is(
  (select count(*)::integer from pg_constraint c
   where c.conrelid = 'booking.reservations'::regclass and c.contype = 'x'),
  0,
  'The reservation record carries no exclusion constraint of its own: its units do');

select function_returns('api', 'health', array[]::text[], 'jsonb', 'api.health() returns jsonb');
select ok((api.health()->>'schema_version') is not null, 'api.health() reports the schema version');
select ok((api.health()->>'status') = 'ok', 'api.health() says ok');

-- Every function of api and booking says what it is for. The constructors PostgreSQL makes for a
-- range type (booking.timerange, booking.timemultirange) belong to the type, which has the comment.
create view pg_temp.uncommented_functions as
  select p.oid::regprocedure::text as function
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('api', 'booking') and obj_description(p.oid, 'pg_proc') is null
    and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                      and d.refclassid = 'pg_type'::regclass and d.deptype = 'i');
select is(array(select function from pg_temp.uncommented_functions order by 1), array[]::text[],
          'Every api and booking function has a COMMENT');
create function booking.tests_uncommented() returns int language sql as $$ select 1 $$;
select is(array(select function from pg_temp.uncommented_functions order by 1),
          array['booking.tests_uncommented()'],
          'The check names a booking function without a COMMENT');
drop function booking.tests_uncommented();

select * from finish();
rollback;
