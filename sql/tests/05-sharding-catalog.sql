-- Sharding by location (docs/ARCHITECTURE.md): every per-location table carries location_id, and every
-- PRIMARY KEY, UNIQUE and EXCLUDE constraint (and unique index) of such a table includes it, so that
-- each stays checkable on one shard when the tables are distributed by location_id.
--
-- Tables without location_id: booking.customers, booking.distributed_locks and booking.feed_tokens are
-- documented reference tables shared by all locations, and booking.locations is the key itself (its
-- id is the location id).
begin;
select plan(28);

-- The per-location tables, by name

select has_column('booking', t, 'location_id', format('booking.%s carries location_id', t))
from unnest(array['resources', 'services', 'service_resources', 'working_hours', 'schedule_exceptions',
                  'reservations', 'conflicts', 'idempotency_keys', 'events', 'catalogue_audit']) t;

select col_not_null('booking', t, 'location_id', format('booking.%s.location_id is NOT NULL', t))
from unnest(array['resources', 'services', 'service_resources', 'working_hours', 'schedule_exceptions',
                  'reservations', 'conflicts', 'idempotency_keys', 'events', 'catalogue_audit']) t;

-- Every table, whatever is added later

select is(
  array(select c.relname::text
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'booking' and c.relkind in ('r', 'p')
          and not exists (select 1 from pg_attribute a
                          where a.attrelid = c.oid and a.attname = 'location_id' and not a.attisdropped)
        order by 1),
  array['customers', 'distributed_locks', 'feed_tokens', 'locations'],
  'Only the reference tables customers, distributed_locks and feed_tokens, and locations itself, lack location_id');

select is(
  (select array_agg(a.attname::text order by k.ord)
   from pg_constraint c
   cross join lateral unnest(c.conkey) with ordinality k(attnum, ord)
   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
   where c.conrelid = 'booking.locations'::regclass and c.contype = 'p'),
  array['id'],
  'booking.locations is keyed by id, the location id itself');

select is(
  array(select format('%s.%s', c.conrelid::regclass, c.conname)
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = 'booking' and c.contype in ('p', 'u', 'x')
          and exists (select 1 from pg_attribute a
                      where a.attrelid = c.conrelid and a.attname = 'location_id' and not a.attisdropped)
          and not exists (select 1 from pg_attribute a
                          where a.attrelid = c.conrelid and a.attname = 'location_id'
                            and a.attnum = any(c.conkey))
        order by 1),
  array[]::text[],
  'Every PRIMARY KEY, UNIQUE and EXCLUDE constraint of a per-location table includes location_id');

select is(
  array(select format('%s.%s', i.indrelid::regclass, i.indexrelid::regclass)
        from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'booking' and i.indisunique
          and exists (select 1 from pg_attribute a
                      where a.attrelid = i.indrelid and a.attname = 'location_id' and not a.attisdropped)
          and not exists (select 1 from pg_attribute a
                          where a.attrelid = i.indrelid and a.attname = 'location_id'
                            and a.attnum = any(i.indkey::int2[]))
        order by 1),
  array[]::text[],
  'Every unique index of a per-location table, with or without a constraint, includes location_id');

select is(
  array(select format('%s.%s', c.conrelid::regclass, c.conname)
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where n.nspname = 'booking' and c.contype = 'x' and a.attname <> 'location_id'
        order by 1),
  array[]::text[],
  'Every EXCLUDE constraint leads with location_id');

select is(
  array(select format('%s.%s', c.conrelid::regclass, c.conname)
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = 'booking' and c.contype = 'f'
          and exists (select 1 from pg_attribute a
                      where a.attrelid = c.conrelid and a.attname = 'location_id' and not a.attisdropped)
          and exists (select 1 from pg_attribute a
                      where a.attrelid = c.confrelid and a.attname = 'location_id' and not a.attisdropped)
          and not exists (select 1
                          from unnest(c.conkey, c.confkey) k(att, fatt)
                          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.att
                          join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = k.fatt
                          where a.attname = 'location_id' and fa.attname = 'location_id')
        order by 1),
  array[]::text[],
  'Every foreign key between per-location tables matches location_id to location_id');

select is(
  (select pg_get_constraintdef(c.oid) from pg_constraint c
   where c.conrelid = 'booking.units'::regclass and c.conname = 'units_no_overlap'),
  'EXCLUDE USING gist (location_id WITH =, resource_id WITH =, seat WITH =, occupied WITH &&) WHERE ((status = ANY (ARRAY[''held''::text, ''confirmed''::text])))',
  'The no-overlap invariant is scoped by location_id first');

-- A rule with teeth: a table that breaks it is reported by name.

create table booking.tests_unscoped (
  location_id uuid not null,
  id uuid not null primary key,
  code text unique
);

select is(
  array(select format('%s.%s', c.conrelid::regclass, c.conname)
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = 'booking' and c.contype in ('p', 'u', 'x')
          and exists (select 1 from pg_attribute a
                      where a.attrelid = c.conrelid and a.attname = 'location_id' and not a.attisdropped)
          and not exists (select 1 from pg_attribute a
                          where a.attrelid = c.conrelid and a.attname = 'location_id'
                            and a.attnum = any(c.conkey))
        order by 1),
  array['booking.tests_unscoped.tests_unscoped_code_key', 'booking.tests_unscoped.tests_unscoped_pkey'],
  'The constraint check names the constraints of a table that leave location_id out');

select * from finish();
rollback;
