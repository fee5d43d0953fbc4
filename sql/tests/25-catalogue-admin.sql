-- Catalogue management through api.*: locations, resources, services, who performs what, weekly
-- hours and exceptions; each value checked (BK018, BK019, BK001), versions (stale: BK021),
-- deactivation with future bookings (BK020, or p_cancel_future), the audit trail and the
-- catalogue:changed events. Who may do it (roles, locations) is 26-catalogue-scope.sql.
begin;
set local timezone = 'UTC';
select plan(146);
set constraints all immediate;     -- the outbox's deferred triggers write events statement by statement

\set loc   'c5000000-0000-4000-8000-000000000001'
\set other 'c5000000-0000-4000-8000-000000000002'
\set anna  'c5000000-0000-4000-8000-000000000011'
\set ben   'c5000000-0000-4000-8000-000000000012'
\set chair 'c5000000-0000-4000-8000-000000000013'
\set olaf  'c5000000-0000-4000-8000-000000000014'
\set cut   'c5000000-0000-4000-8000-000000000021'
\set dye   'c5000000-0000-4000-8000-000000000022'

-- The shape: versions on the rows callers change, the audit table keyed like every per-location table

select has_column('booking', t, 'version', format('booking.%s has a version', t))
from unnest(array['locations', 'resources', 'services']) t;
select columns_are('booking', 'catalogue_audit', array[
  'id', 'location_id', 'entity', 'entity_id', 'action', 'actor_subject', 'actor_role', 'db_user', 'before', 'after', 'at'],
  'The catalogue audit records which entry, what was done, who, before, after and when');
select is(
  (select array_agg(a.attname::text order by k.ord)
   from pg_constraint c cross join lateral unnest(c.conkey) with ordinality k(attnum, ord)
   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
   where c.conrelid = 'booking.catalogue_audit'::regclass and c.contype = 'p'),
  array['location_id', 'id'], 'The catalogue audit is keyed by location and id');

-- Locations

select set_config('booking.catalogue_events', '', true);
select is(api.create_location('Salon', 'europe/warsaw', 4, :'loc') - 'created_at' - 'updated_at',
          jsonb_build_object('id', :'loc', 'name', 'Salon', 'time_zone', 'Europe/Warsaw',
                             'max_live_holds_per_customer', 4, 'active', true, 'version', 1),
          'create_location returns the row at version 1, the zone spelled as pg_timezone_names does');
select is((select count(*)::int from booking.events where location_id = :'loc' and type = 'catalogue:changed'), 1,
          'Opening a location writes a catalogue:changed event');
select ok(api.create_location('Elsewhere', 'UTC', p_id => :'other') ->> 'id' = :'other', 'A second location opens');

select throws_ok(format('select api.create_location(%L, %L)', n, z), 'BK018', null, d)
from (values ('Mars base', 'Mars/Olympus', 'An unknown time zone is BK018'),
             ('Offset', 'UTC+3', 'A POSIX offset, valid in PostgreSQL but inverted, is BK018'),
             ('', 'UTC', 'An empty location name is BK018')) t(n, z, d);
select throws_ok(format('select api.create_location(%L, %L, %s)', 'Capped', 'UTC', c), 'BK018', null,
                 format('A live-hold cap of %s is BK018', c))
from unnest(array[0, 101]) c;
select throws_ok(format('select api.create_location(%L, %L, p_id => %L)', 'Again', 'UTC', :'loc'), 'BK018', null,
                 'Opening a location under a taken id is BK018');

select is(api.update_location(:'loc', p_expected_version => 1, p_name => 'Salon Anna')->>'version', '2',
          'update_location with the current version changes the row and bumps its version');
select is(api.update_location(:'loc', p_name => 'Salon Anna', p_time_zone => 'Europe/Warsaw')->>'version', '2',
          'A change to the same values writes nothing: the version stays');
select throws_ok(format('select api.update_location(%L, p_expected_version => 1, p_name => %L)', :'loc', 'Stale'),
                 'BK021', null, 'A stale version is BK021');
select is((select name from booking.locations where id = :'loc'), 'Salon Anna', 'and changes nothing');
select throws_ok(format('select api.update_location(%L, p_time_zone => %L)', :'loc', 'Europe/Narnia'), 'BK018', null,
                 'Moving a location to an unknown zone is BK018');
select throws_ok(format('select api.update_location(%L, p_max_live_holds_per_customer => 0)', :'loc'), 'BK018', null,
                 'A live-hold cap of 0 is BK018 on update too');
select throws_ok($q$select api.update_location('c5000000-0000-4000-8000-0000000000ff', p_name => 'x')$q$, 'BK019', null,
                 'An unknown location is BK019');
select is(api.update_location(:'loc', p_max_live_holds_per_customer => 2)->>'max_live_holds_per_customer', '2',
          'update_location changes the live-hold cap');

-- Resources

select is(api.create_resource(:'loc', 'Anna', p_id => :'anna') - 'created_at' - 'updated_at',
          jsonb_build_object('id', :'anna', 'location_id', :'loc', 'kind', 'staff', 'name', 'Anna', 'active', true,
                             'capacity', 1, 'version', 1),
          'create_resource returns the row: a staff member by default, active, version 1');
select ok(api.create_resource(:'loc', 'Ben', p_id => :'ben') ->> 'id' = :'ben', 'A second staff member');
select is(api.create_resource(:'loc', 'Chair 1', 'equipment', :'chair')->>'kind', 'equipment',
          'A resource may be equipment');
select ok(api.create_resource(:'other', 'Olaf', p_id => :'olaf') ->> 'id' = :'olaf', 'Someone at the other location');
select throws_ok(format('select api.create_resource(%L, %L, %L)', :'loc', 'R2', 'robot'), 'BK018', null,
                 'An unknown resource kind is BK018');
select throws_ok(format('select api.create_resource(%L, %L)', :'loc', repeat('x', 201)), 'BK018', null,
                 'A name of 201 characters is BK018');
select throws_ok($q$select api.create_resource('c5000000-0000-4000-8000-0000000000ff', 'Nobody')$q$, 'BK019', null,
                 'A resource at an unknown location is BK019');
select throws_ok(format('select api.create_resource(%L, %L, p_id => %L)', :'loc', 'Twin', :'anna'), 'BK018', null,
                 'A resource under a taken id is BK018');
select is(api.update_resource(:'chair', p_expected_version => 1, p_name => 'Chair A', p_kind => 'room')
            - 'created_at' - 'updated_at',
          jsonb_build_object('id', :'chair', 'location_id', :'loc', 'kind', 'room', 'name', 'Chair A', 'active', true,
                             'capacity', 1, 'version', 2),
          'update_resource renames and changes the kind, version 2');
select throws_ok(format('select api.update_resource(%L, p_expected_version => 1, p_name => %L)', :'chair', 'x'),
                 'BK021', null, 'A stale resource version is BK021');
select throws_ok(format('select api.update_resource(%L, p_kind => %L)', :'chair', 'robot'), 'BK018', null,
                 'An unknown kind is BK018 on update too');
select throws_ok($q$select api.update_resource('c5000000-0000-4000-8000-0000000000ff', p_name => 'x')$q$, 'BK019', null,
                 'An unknown resource is BK019');

-- Services

select is(api.create_service(:'loc', 'Cut', '45 minutes', p_buffer_after => '15 minutes', p_slot_step => '30 minutes',
                             p_max_advance => '3650 days', p_hold_ttl => '5 minutes', p_price => 120.5,
                             p_currency => 'eur', p_id => :'cut') - 'created_at' - 'updated_at',
          jsonb_build_object('id', :'cut', 'location_id', :'loc', 'name', 'Cut', 'duration', '00:45:00',
                             'buffer_before', '00:00:00', 'buffer_after', '00:15:00', 'slot_step', '00:30:00',
                             'min_notice', '00:00:00', 'max_advance', '3650 days', 'hold_ttl', '00:05:00',
                             'conflict_strategy', 'first_come_first_serve', 'price', 120.50, 'currency', 'EUR',
                             'max_seats', 1, 'active', true, 'version', 1),
          'create_service returns the row with every setting, the currency in capitals, version 1');
select ok(api.create_service(:'loc', 'Dye', '90 minutes', p_max_advance => '3650 days', p_id => :'dye') ->> 'id' = :'dye',
          'A second service with the defaults');

select throws_ok(format('select api.create_service(%L, %L, %L, %s)', :'loc', 'Bad', d, a), 'BK018', null, m)
from (values ('0 minutes', 'p_price => 1', 'A duration of 0 is BK018'),
             ('13 hours', 'p_price => 1', 'A duration over 12 hours is BK018'),
             ('1 hour', 'p_buffer_before => ''-5 minutes''', 'A negative buffer is BK018'),
             ('1 hour', 'p_slot_step => ''1 minute''', 'A grid step under 5 minutes is BK018'),
             ('1 hour', 'p_hold_ttl => ''2 days''', 'A hold TTL over a day is BK018'),
             ('1 hour', 'p_min_notice => ''10 days'', p_max_advance => ''7 days''',
              'A minimum notice beyond the maximum advance is BK018'),
             ('1 hour', 'p_conflict_strategy => ''coin_flip''', 'An unknown conflict strategy is BK018'),
             ('1 hour', 'p_price => -1', 'A negative price is BK018'),
             ('1 hour', 'p_price => 10.005', 'A price with 3 decimals is BK018 (never rounded)'),
             ('1 hour', 'p_price => 100000000', 'A price over numeric(10,2) is BK018'),
             ('1 hour', 'p_currency => ''zł''', 'A currency that is not three letters is BK018'),
             ('1 hour', 'p_currency => ''EURO''', 'A four-letter currency is BK018')) t(d, a, m);
select throws_ok($q$select api.create_service('c5000000-0000-4000-8000-0000000000ff', 'x', '1 hour')$q$, 'BK019', null,
                 'A service at an unknown location is BK019');

select is(api.update_service(:'cut', p_expected_version => 1, p_price => 99.99, p_conflict_strategy => 'last_wins')
            ->> 'version', '2', 'update_service changes price and strategy, version 2');
select results_eq(format('select price, conflict_strategy, duration from booking.services where id = %L', :'cut'),
                  $q$values (99.99::numeric, 'last_wins'::text, '45 minutes'::interval)$q$,
                  'The new values are stored and the others kept');
select is(api.update_service(:'cut', p_price => 99.99)->>'version', '2', 'An update to the same price writes nothing');
select throws_ok(format('select api.update_service(%L, p_expected_version => 1, p_price => 1)', :'cut'), 'BK021', null,
                 'A stale service version is BK021');
select throws_ok(format('select api.update_service(%L, p_duration => %L)', :'cut', '0 minutes'), 'BK018', null,
                 'A duration of 0 is BK018 on update too');
select throws_ok(format('select api.update_service(%L, p_currency => %L)', :'cut', 'E'), 'BK018', null,
                 'A one-letter currency is BK018 on update');
select throws_ok($q$select api.update_service('c5000000-0000-4000-8000-0000000000ff', p_name => 'x')$q$, 'BK001', null,
                 'An unknown service is BK001');

-- Who performs a service, in preference order

select is(api.set_service_resources(:'cut', array[:'ben', :'anna']::uuid[], p_expected_version => 2),
          jsonb_build_object('service_id', :'cut', 'location_id', :'loc', 'version', 3,
                             'resource_ids', jsonb_build_array(:'ben', :'anna')),
          'set_service_resources lists the resources in the order given and bumps the service''s version');
select results_eq(format('select resource_id, preference from booking.service_resources where service_id = %L
                          order by preference', :'cut'),
                  format('values (%L::uuid, 1::smallint), (%L::uuid, 2::smallint)', :'ben', :'anna'),
                  'The order is the preference order (1 first)');
select is(api.set_service_resources(:'cut', array[:'ben', :'anna']::uuid[])->>'version', '3',
          'The same list again writes nothing');
select is(api.set_service_resources(:'cut', array[:'anna', :'ben']::uuid[])->'resource_ids',
          jsonb_build_array(:'anna', :'ben'), 'A new order replaces the old one');
select is(api.set_service_resources(:'dye', array[:'anna']::uuid[])->'resource_ids', jsonb_build_array(:'anna'),
          'Anna dyes');
select throws_ok(format('select api.set_service_resources(%L, array[%L, %L]::uuid[])', :'cut', :'anna', :'anna'),
                 'BK018', null, 'A resource listed twice is BK018');
select throws_ok(format('select api.set_service_resources(%L, array[%L, null]::uuid[])', :'cut', :'anna'),
                 'BK018', null, 'A NULL in the list is BK018');
select throws_ok(format('select api.set_service_resources(%L, array[%L]::uuid[])', :'cut', :'olaf'), 'BK019', null,
                 'A resource of another location is BK019');
select throws_ok(format('select api.set_service_resources(%L, array[%L]::uuid[], 1)', :'cut', :'anna'), 'BK021', null,
                 'A stale service version is BK021 here too');

-- Weekly working hours

select is(api.set_working_hours(:'anna', '[{"weekday": 1, "start": "9:00", "end": "13:00"},
                                           {"weekday": 1, "start": "13:00", "end": "17:00"},
                                           {"weekday": 2, "start": "10:00", "end": "24:00"}]', p_expected_version => 1),
          jsonb_build_object('resource_id', :'anna', 'location_id', :'loc', 'version', 2, 'hours', '[
            {"weekday": 1, "start": "09:00", "end": "13:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"},
            {"weekday": 2, "start": "10:00", "end": "24:00"}]'::jsonb),
          'set_working_hours replaces the week (ranges may meet; 24:00 is midnight) and bumps the resource''s version');
select is(api.set_working_hours(:'anna', '[{"weekday": 2, "start": "10:00", "end": "24:00"},
                                           {"weekday": 1, "start": "13:00", "end": "17:00"},
                                           {"weekday": 1, "start": "09:00", "end": "13:00"}]')->>'version', '2',
          'The same week in another order writes nothing');
select is(api.set_working_hours(:'anna', '[{"start": "08:00", "end": "12:00"}]', 2)->'hours',
          '[{"weekday": 1, "start": "09:00", "end": "13:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"},
            {"weekday": 2, "start": "08:00", "end": "12:00"}]'::jsonb,
          'With p_weekday only that day is replaced');
select is(api.set_working_hours(:'ben', '[{"weekday": 1, "start": "09:00", "end": "17:00"}]')->>'version', '2',
          'Ben works Mondays');
select results_eq(
  format($q$select start_time, resource_ids from api.get_availability(%L, '2031-04-07')
            where start_time in ('2031-04-07 06:30Z', '2031-04-07 07:00Z', '2031-04-07 10:30Z', '2031-04-07 14:00Z',
                                 '2031-04-07 14:30Z')$q$, :'cut'),
  format($q$values ('2031-04-07 07:00Z'::timestamptz, array[%L, %L]::uuid[]),
                   ('2031-04-07 10:30Z'::timestamptz, array[%L, %L]::uuid[]),
                   ('2031-04-07 14:00Z'::timestamptz, array[%L, %L]::uuid[])$q$,
         :'anna', :'ben', :'anna', :'ben', :'anna', :'ben'),
  'Availability follows the new hours: Monday 09:00-17:00 in Warsaw (12:30 across the ranges that meet at 13:00; a 45-minute cut starts by 16:00), Anna first');
select throws_ok(format('select api.set_working_hours(%L, %L, %s)', :'anna', h, coalesce(w::text, 'null')), 'BK018', null, m)
from (values ('[{"weekday": 1, "start": "17:00", "end": "09:00"}]', null, 'An end before the start is BK018'),
             ('[{"weekday": 1, "start": "09:00", "end": "09:00"}]', null, 'An empty range is BK018'),
             ('[{"weekday": 1, "start": "09:00", "end": "13:00"}, {"weekday": 1, "start": "12:00", "end": "17:00"}]',
              null, 'Overlapping ranges on one day are BK018'),
             ('[{"weekday": 8, "start": "09:00", "end": "13:00"}]', null, 'Weekday 8 is BK018'),
             ('[{"weekday": 1.5, "start": "09:00", "end": "13:00"}]', null, 'A fractional weekday is BK018'),
             ('[{"weekday": 1, "start": "9 o''clock", "end": "13:00"}]', null, 'A time that cannot be read is BK018'),
             ('[{"weekday": 1, "start": "09:00", "end": "25:00"}]', null, 'A time past 24:00 is BK018'),
             ('[{"weekday": 1, "start": "09:00:30", "end": "13:00"}]', null, 'Seconds are BK018'),
             ('[{"weekday": 1, "start": 9, "end": 13}]', null, 'Times as numbers are BK018'),
             ('[{"weekday": 1, "start": "09:00", "end": "13:00", "room": 2}]', null, 'An unknown key is BK018'),
             ('[{"start": "09:00", "end": "13:00"}]', null, 'An entry without a weekday for the whole week is BK018'),
             ('[{"weekday": 3, "start": "09:00", "end": "13:00"}]', 2, 'An entry for another day than p_weekday is BK018'),
             ('[]', 0, 'p_weekday 0 is BK018'),
             ('{"weekday": 1}', null, 'An object instead of an array is BK018')) t(h, w, m);
select throws_ok(format('select api.set_working_hours(%L, null)', :'anna'), 'BK018', null, 'NULL hours are BK018');
select is((select count(*)::int from booking.working_hours where resource_id = :'anna'), 3,
          'A refused week changes nothing');
select throws_ok(format('select api.set_working_hours(%L, %L, p_expected_version => 1)', :'anna', '[]'), 'BK021', null,
                 'A stale resource version is BK021 for hours too');
select throws_ok($q$select api.set_working_hours('c5000000-0000-4000-8000-0000000000ff', '[]')$q$, 'BK019', null,
                 'Hours of an unknown resource are BK019');
select is(api.set_working_hours(:'chair', '[]')->'hours', '[]'::jsonb, 'An empty week is no hours (nothing to remove)');

-- Exceptions: time off, closures, extra hours

select api.add_schedule_exception(:'loc', 'time_off', '2031-04-07 07:00Z', '2031-04-07 09:00Z', :'anna', 'dentist')
  as anna_off \gset
select is((:'anna_off'::jsonb) - 'id',
          jsonb_build_object('location_id', :'loc', 'resource_id', :'anna', 'kind', 'time_off',
                             'start_time', '2031-04-07T07:00:00+00:00', 'end_time', '2031-04-07T09:00:00+00:00',
                             'time_zone', 'Europe/Warsaw', 'start_local', '2031-04-07T09:00:00',
                             'end_local', '2031-04-07T11:00:00', 'note', 'dentist', 'overlapping_bookings', 0),
          'add_schedule_exception returns the exception with its local times');
select is((select resource_ids from api.get_availability(:'cut', '2031-04-07') where start_time = '2031-04-07 07:00Z'),
          array[:'ben']::uuid[], 'Anna''s time off leaves Ben at 09:00');
select throws_ok(format('select api.add_schedule_exception(%L, %L, %L, %L, %s)', :'loc', k, s, e, r), c, null, m)
from (values ('time_off', '2031-04-07 08:00Z', '2031-04-07 10:00Z', quote_literal(:'anna'), 'BK018',
              'Time off overlapping time off of the same resource is BK018'),
             ('time_off', '2031-04-08 10:00Z', '2031-04-08 09:00Z', quote_literal(:'anna'), 'BK018',
              'An end before the start is BK018'),
             ('time_off', '2031-04-08 10:00Z', '2031-04-08 12:00Z', 'null', 'BK018', 'Time off without a resource is BK018'),
             ('extra_hours', '2031-04-08 10:00Z', '2031-04-08 12:00Z', 'null', 'BK018',
              'Extra hours without a resource are BK018'),
             ('holiday', '2031-04-08 10:00Z', '2031-04-08 12:00Z', 'null', 'BK018', 'An unknown kind is BK018'),
             ('time_off', '2031-04-08 10:00Z', '2031-04-08 12:00Z', quote_literal(:'olaf'), 'BK019',
              'A resource of another location is BK019')) t(k, s, e, r, c, m);
select throws_ok(format('select api.add_schedule_exception(%L, %L, %L, %L, %L, %L)', :'loc', 'time_off',
                        '2031-04-08 10:00Z', '2031-04-08 12:00Z', :'anna', repeat('n', 1001)),
                 'BK018', null, 'A note over 1000 characters is BK018');
select throws_ok($q$select api.add_schedule_exception('c5000000-0000-4000-8000-0000000000ff', 'closure',
                    '2031-04-08 10:00Z', '2031-04-08 12:00Z')$q$, 'BK019', null, 'An unknown location is BK019');
select is(api.add_schedule_exception(:'loc', 'extra_hours', '2031-04-08 04:00Z', '2031-04-08 06:00Z', :'anna')->>'kind',
          'extra_hours', 'Extra hours overlapping nothing of their kind are added');
select is((select count(*)::int from api.get_availability(:'cut', '2031-04-08') where start_time < '2031-04-08 06:00Z'),
          4, 'Extra hours open slots before Anna''s Tuesday (04:00-05:30 UTC, on the half-hour grid)');

select api.set_working_hours(:'anna', '[{"start": "09:00", "end": "17:00"}]', 3);
select api.create_booking_atomic(:'dye', '2031-04-09 08:00Z', 'carla', '{}')->>'booking_id' as dye_booking \gset
select ok(:'dye_booking' is not null, 'A booking on Wednesday');
select api.add_schedule_exception(:'loc', 'closure', '2031-04-09 00:00Z', '2031-04-10 00:00Z', p_note => 'inventory')
  as closure \gset
select is(((:'closure'::jsonb)->>'overlapping_bookings')::int, 1,
          'A closure over a booking is added, and says it overlaps 1 booking (which stays booked)');
select is((select status from booking.reservations where id = :'dye_booking'), 'confirmed', 'The booking stays');
select is(api.remove_schedule_exception(((:'closure'::jsonb)->>'id')::uuid)->>'kind', 'closure',
          'remove_schedule_exception returns what it removed');
select throws_ok(format('select api.remove_schedule_exception(%L)', (:'closure'::jsonb)->>'id'), 'BK019', null,
                 'Removing it again is BK019');

-- Deactivation with future bookings and live holds

select api.create_booking_atomic(:'cut', '2031-04-14 08:00Z', 'dora', '{}', :'ben')->>'booking_id' as ben_booking \gset
select api.create_hold_atomic(null, 'emil', :'cut', '2031-04-14 10:00Z', null, null, 'sess-emil', :'ben')->>'hold_id'
  as ben_hold \gset
select throws_ok(format('select api.update_resource(%L, p_active => false)', :'ben'), 'BK020',
                 format('resource %s still has future bookings (1) or live holds (1)', :'ben'),
                 'Deactivating a resource with a future booking and a live hold is BK020, counting them');
select is((select active from booking.resources where id = :'ben'), true, 'and Ben stays active');
select results_eq(
  format($q$select r - 'created_at' - 'updated_at' from api.update_resource(%L, p_active => false, p_cancel_future => true) r$q$, :'ben'),
  format($q$values (jsonb_build_object('id', %L::uuid, 'location_id', %L::uuid, 'kind', 'staff', 'name', 'Ben',
                                        'active', false, 'capacity', 1, 'version', 3, 'cancelled_bookings', 1, 'released_holds', 1))$q$,
         :'ben', :'loc'),
  'With p_cancel_future the resource is deactivated, its booking cancelled and its hold released');
select results_eq(
  format($q$select status, cancel_reason from booking.reservations where id in (%L, %L) order by starts_at$q$,
         :'ben_booking', :'ben_hold'),
  $q$values ('cancelled'::text, 'no longer available'::text), ('released', null)$q$,
  'The booking is cancelled with a reason, the hold released');
select is((select count(*)::int from booking.events where reservation_id in (:'ben_booking', :'ben_hold')
            and type in ('booking:cancelled', 'hold:released')), 2,
          'The ordinary cancel and release write their events');
select is((select count(*)::int from booking.audit_log where reservation_id in (:'ben_booking', :'ben_hold')
            and action = 'update'), 2, 'and their audit rows');
select is((select resource_ids from api.get_availability(:'cut', '2031-04-14') where start_time = '2031-04-14 07:00Z'),
          array[:'anna']::uuid[], 'An inactive resource is offered for nothing');
select is(api.update_resource(:'ben', p_active => true)->>'active', 'true', 'A resource can be activated again');

select throws_ok(format('select api.update_service(%L, p_active => false)', :'dye'), 'BK020', null,
                 'Deactivating a service with a future booking is BK020');
select is(api.update_service(:'dye', p_active => false, p_cancel_future => true)->>'cancelled_bookings', '1',
          'p_cancel_future cancels its bookings');
select throws_ok(format($q$select * from api.get_availability(%L, '2031-04-14')$q$, :'dye'), 'BK002', null,
                 'A deactivated service is no longer offered (BK002)');
select is((select cancel_reason from booking.reservations where id = :'dye_booking'), 'the service is no longer offered',
          'with a reason the customer can read');
select is(api.update_service(:'dye', p_active => true)->>'active', 'true', 'A service can be offered again');

select api.create_booking_atomic(:'cut', '2031-04-14 08:00Z', 'fred', '{}')->>'booking_id' as fred_booking \gset
select throws_ok(format('select api.update_location(%L, p_active => false)', :'loc'), 'BK020', null,
                 'Closing a location with a future booking is BK020');
select is((api.update_location(:'loc', p_active => false, p_cancel_future => true) - 'created_at' - 'updated_at')
            - 'name' - 'time_zone' - 'max_live_holds_per_customer',
          jsonb_build_object('id', :'loc', 'active', false, 'version', 4, 'cancelled_bookings', 1, 'released_holds', 0),
          'With p_cancel_future the location closes and its booking is cancelled');
select is((select count(*)::int from booking.services where location_id = :'loc' and active)
          + (select count(*)::int from booking.resources where location_id = :'loc' and active), 0,
          'Its services and resources close with it');
select throws_ok(format('select api.create_resource(%L, %L)', :'loc', 'Newcomer'), 'BK018', null,
                 'Adding a resource to a closed location is BK018');
select throws_ok(format('select api.update_service(%L, p_active => true)', :'cut'), 'BK018', null,
                 'Offering a service at a closed location is BK018');
select is(api.update_location(:'loc', p_active => true)->>'active', 'true', 'A location can be reopened');
select is((select count(*)::int from booking.services where location_id = :'loc' and active), 0,
          'Reopening leaves its services closed until each is offered again');
select is(api.update_service(:'cut', p_active => true)->>'active', 'true', 'and then they can be');

-- The audit trail

select results_eq(
  format($q$select action, actor_role, actor_subject, before is null, after->>'name'
            from booking.catalogue_audit where entity = 'location' and entity_id = %L order by id limit 2$q$, :'loc'),
  $q$values ('create'::text, 'system'::text, null::text, true, 'Salon'::text),
            ('update', 'system', null, false, 'Salon Anna')$q$,
  'Creating and renaming a location write audit rows (system: a trusted session)');
select is((select count(*)::int from booking.catalogue_audit where entity = 'location' and entity_id = :'loc'), 5,
          'One audit row per change of the location, none for changes to the same values or refused ones');
select is((select array_agg(action order by id) from booking.catalogue_audit where entity = 'resource' and entity_id = :'ben'),
          array['create', 'deactivate', 'activate', 'deactivate'],
          'A resource''s rows: created, deactivated, activated, closed with its location');
select results_eq(
  format($q$select before->'resource_ids', after->'resource_ids' from booking.catalogue_audit
            where entity = 'service_resources' and entity_id = %L order by id limit 1$q$, :'cut'),
  format($q$values ('[]'::jsonb, jsonb_build_array(%L, %L))$q$, :'ben', :'anna'),
  'Changing who performs a service records the list before and after');
select is((select after->'hours' from booking.catalogue_audit where entity = 'working_hours' and entity_id = :'ben'),
          '[{"weekday": 1, "start": "09:00", "end": "17:00"}]'::jsonb, 'Changing hours records the week after');
select is((select count(*)::int from booking.catalogue_audit where entity = 'schedule_exception' and action = 'delete'), 1,
          'Removing an exception is recorded');

select tests.authenticate_as('admin', 'ada');
select is(api.update_resource(:'chair', p_name => 'Chair B')->>'name', 'Chair B', 'An admin renames the chair');
select results_eq(
  format($q$select e->>'action', e->>'actor_subject', e->>'actor_role', e->'before'->>'name', e->'after'->>'name',
                   (e->'after'->>'version')::int
            from jsonb_array_elements(api.catalogue_audit(p_entity_id => %L, p_limit => 1)) e$q$, :'chair'),
  $q$values ('update'::text, 'ada'::text, 'admin'::text, 'Chair A'::text, 'Chair B'::text, 4)$q$,
  'api.catalogue_audit shows the admin, the row before and after, newest first');
select is(jsonb_array_length(api.catalogue_audit(:'other')), 2,
          'api.catalogue_audit of one location shows its rows only (the location and Olaf created)');
select throws_ok('select api.catalogue_audit(p_limit => 0)', 'BK014', null, 'A limit of 0 is BK014');
select tests.clear_authentication();

-- catalogue:changed events: one per location and transaction for every change, none for a change to nothing

create function pg_temp.catalogue_events(p_location uuid) returns integer language sql as $$
  select count(*)::int from booking.events where location_id = p_location and type = 'catalogue:changed' $$;
select pg_temp.catalogue_events(:'loc') as before_events \gset
select set_config('booking.catalogue_events', '', true);
select api.update_location(:'loc', p_time_zone => 'Europe/Berlin');
select is(pg_temp.catalogue_events(:'loc'), :before_events + 1, 'A new time zone writes a catalogue:changed event');
select is((select payload->>'table' from booking.events where location_id = :'loc' order by id desc limit 1), 'locations',
          'naming the locations table');
select set_config('booking.catalogue_events', '', true);
select api.update_location(:'loc', p_time_zone => 'Europe/Berlin');
select api.set_working_hours(:'anna', '[{"start": "09:00", "end": "17:00"}]', 3);
select api.set_service_resources(:'cut', array[:'anna', :'ben']::uuid[]);
select is(pg_temp.catalogue_events(:'loc'), :before_events + 1, 'Changes to the same values write no event');
select set_config('booking.catalogue_events', '', true);
select api.set_service_resources(:'cut', array[:'anna']::uuid[]);
select is(pg_temp.catalogue_events(:'loc'), :before_events + 2, 'Changing who performs a service writes one');
select set_config('booking.catalogue_events', '', true);
select api.set_working_hours(:'anna', '[]', 3);
select is(pg_temp.catalogue_events(:'loc'), :before_events + 3, 'Changing hours writes one');
select set_config('booking.catalogue_events', '', true);
select api.remove_schedule_exception(((:'anna_off'::jsonb)->>'id')::uuid);
select is(pg_temp.catalogue_events(:'loc'), :before_events + 4, 'Removing an exception writes one');
select set_config('booking.catalogue_events', '', true);
select api.update_service(:'cut', p_hold_ttl => '7 minutes');
select is(pg_temp.catalogue_events(:'loc'), :before_events + 5, 'Changing a service writes one');
select set_config('booking.catalogue_events', '', true);
select api.update_resource(:'anna', p_name => 'Anna K.');
select is(pg_temp.catalogue_events(:'loc'), :before_events + 6, 'Renaming a resource writes one');
select set_config('booking.catalogue_events', '', true);
select api.create_service(:'loc', 'Wash', '15 minutes');
select api.create_resource(:'loc', 'Basin', 'equipment');
select is(pg_temp.catalogue_events(:'loc'), :before_events + 7, 'Several changes in one transaction (no reset in between) write one event');

select * from finish();
rollback;
