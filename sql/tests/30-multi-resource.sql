-- Multi-resource services: a Colouring needs a stylist for its whole 90 minutes (the main pool), a
-- wash station for its first 20 (pool 2) and a dryer for its last 30 (pool 3). The catalogue that
-- defines the pools (api.set_service_pools: offsets, members, versions, BK023/BK024), availability
-- and alternatives that respect every pool with its offsets and buffers, all-or-nothing holds and
-- bookings (convert, cancel, release, lazy expiry and reschedule move or free every unit), conflicts
-- that name the pool that was taken, and each conflict strategy when a further pool is what refuses.
begin;
set local timezone = 'UTC';
set constraints all immediate;     -- the outbox's deferred triggers write events statement by statement
select plan(92);

\set loc      'e3000000-0000-4000-8000-000000000001'
\set away     'e3000000-0000-4000-8000-000000000002'
\set anna     'e3100000-0000-4000-8000-000000000001'
\set bea      'e3100000-0000-4000-8000-000000000002'
\set wash     'e3100000-0000-4000-8000-000000000011'
\set dryer    'e3100000-0000-4000-8000-000000000012'
\set olaf     'e3100000-0000-4000-8000-000000000021'
\set colour   'e3200000-0000-4000-8000-000000000001'
\set washonly 'e3200000-0000-4000-8000-000000000002'
\set dryonly  'e3200000-0000-4000-8000-000000000003'
\set simple   'e3200000-0000-4000-8000-000000000004'
\set cutbea   'e3200000-0000-4000-8000-000000000005'

-- Everyone works 09:00-17:00 every day (UTC). Colouring: 90 minutes, 10 minutes kept free before and
-- 15 after, starts every 30 minutes, Anna or Bea. "Wash only" and "Dry only" take the wash station or
-- the dryer alone for 30 minutes.
select tests.create_location(:'loc', 'Pool salon', 'UTC', p_max_live_holds_per_customer => 100);
select tests.create_location(:'away', 'Elsewhere', 'UTC');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bea', :'bea');
select tests.create_staff(:'loc', 'Wash station', :'wash');
select tests.create_staff(:'loc', 'Dryer', :'dryer');
select tests.create_staff(:'away', 'Olaf', :'olaf');
select tests.create_service(:'loc', 'Colouring', '90 minutes', array[:'anna', :'bea']::uuid[], :'colour',
                            p_buffer_before => '10 minutes', p_buffer_after => '15 minutes',
                            p_slot_step => '30 minutes');
select tests.create_service(:'loc', 'Wash only', '30 minutes', array[:'wash']::uuid[], :'washonly',
                            p_slot_step => '30 minutes');
select tests.create_service(:'loc', 'Dry only', '30 minutes', array[:'dryer']::uuid[], :'dryonly',
                            p_slot_step => '30 minutes');

-- ---------------------------------------------------------------------------------------------
-- The catalogue: api.set_service_pools

select api.set_service_pools(:'colour', format(
  '[{"pool": 3, "name": "Dryer", "starts_after": "60 minutes", "resource_ids": ["%s"]},
    {"pool": 2, "name": "Wash station", "lasts": "20 minutes", "resource_ids": ["%s"]}]', :'dryer', :'wash')::jsonb) as set1 \gset
select is((:'set1'::jsonb)->'pools', format(
  '[{"pool": 2, "name": "Wash station", "starts_after": "00:00:00", "lasts": "00:20:00", "resource_ids": ["%s"]},
    {"pool": 3, "name": "Dryer", "starts_after": "01:00:00", "lasts": null, "resource_ids": ["%s"]}]', :'wash', :'dryer')::jsonb,
  'set_service_pools answers the pools by number, intervals as PostgreSQL writes them, lasts NULL until the end');
select is((:'set1'::jsonb)->>'version', '2', 'Setting the pools bumps the service''s version');
select is(api.set_service_pools(:'colour', format(
  '[{"pool": 2, "name": "Wash station", "starts_after": "0", "lasts": "PT20M", "resource_ids": ["%s"]},
    {"pool": 3, "name": "Dryer", "starts_after": "01:00", "lasts": null, "resource_ids": ["%s"]}]', :'wash', :'dryer')::jsonb)->>'version',
  '2', 'The same pools spelled otherwise write nothing: the version stays');
select is((select count(*)::int from booking.catalogue_audit
           where entity = 'service_resources' and entity_id = :'colour' and after ? 'pools'), 1,
          'A change of the pools is audited as a change of the service''s resources, once');
select results_eq(format('select resource_id, pool, preference from booking.service_resources where service_id = %L order by pool, preference', :'colour'),
                  format($q$values (%L::uuid, 1::smallint, 1::smallint), (%L::uuid, 1::smallint, 2::smallint),
                                   (%L::uuid, 2::smallint, 1::smallint), (%L::uuid, 3::smallint, 1::smallint)$q$,
                         :'anna', :'bea', :'wash', :'dryer'),
                  'The members are the service''s resources of their pools, in preference order');

select throws_ok(format('select api.set_service_pools(%L, %L)', :'colour', p), c, null, d)
from (values
  (format('[{"pool": 2, "name": "Late", "starts_after": "90 minutes", "resource_ids": ["%s"]}]', :'wash'), 'BK023',
   'A pool starting at the end of the appointment is BK023'),
  (format('[{"pool": 2, "name": "Stylist too", "resource_ids": ["%s"]}]', :'anna'), 'BK024',
   'A resource of the main pool in a further pool is BK024'),
  (format('[{"pool": 2, "name": "A", "resource_ids": ["%s"]}, {"pool": 3, "name": "B", "resource_ids": ["%s"]}]', :'wash', :'wash'),
   'BK024', 'A resource in two further pools is BK024'),
  (format('[{"pool": 1, "name": "Main", "resource_ids": ["%s"]}]', :'wash'), 'BK018', 'Pool 1 is not a further pool: BK018'),
  (format('[{"pool": 9, "name": "Nine", "resource_ids": ["%s"]}]', :'wash'), 'BK018', 'Pool 9 is BK018'),
  (format('[{"pool": 2, "name": "A", "resource_ids": ["%s"]}, {"pool": 2, "name": "B", "resource_ids": ["%s"]}]', :'wash', :'dryer'),
   'BK018', 'A pool number twice is BK018'),
  (format('[{"pool": 2, "name": "Wash", "lasts": "soon", "resource_ids": ["%s"]}]', :'wash'), 'BK018', 'A lasts that is no interval is BK018'),
  ('[{"pool": 2, "name": "Nobody", "resource_ids": []}]', 'BK018', 'A pool without members is BK018'),
  (format('[{"pool": 2, "name": "Wash", "resource_ids": ["%s", "%s"]}]', :'wash', :'wash'), 'BK018', 'A member twice in a pool is BK018'),
  (format('[{"pool": 2, "name": "Wash", "colour": "red", "resource_ids": ["%s"]}]', :'wash'), 'BK018', 'An unknown key is BK018'),
  (format('[{"pool": 2, "name": "Olaf", "resource_ids": ["%s"]}]', :'olaf'), 'BK019', 'A resource of another location is BK019')
) t(p, c, d);
select throws_ok(format('select api.set_service_pools(%L, %L, 1)', :'colour', '[]'), 'BK021', null,
                 'A stale version is BK021');
select throws_ok(format('select api.set_service_resources(%L, array[%L, %L]::uuid[])', :'colour', :'anna', :'wash'),
                 'BK024', null, 'set_service_resources refuses a resource of a further pool: BK024');
select is(api.set_service_resources(:'colour', array[:'bea', :'anna']::uuid[])->'resource_ids',
          jsonb_build_array(:'bea', :'anna'), 'set_service_resources answers the main pool only');
select is((select count(*)::int from booking.service_resources where service_id = :'colour' and pool > 1), 2,
          'and leaves the further pools as they are');
select api.set_service_resources(:'colour', array[:'anna', :'bea']::uuid[]);
select throws_ok(format('select api.update_service(%L, p_duration => %L)', :'colour', '60 minutes'), 'BK023', null,
                 'A duration the dryer would start at is BK023');
select results_eq(format('select pool, name, starts_after, lasts, resource_ids from api.service_pools(%L)', :'colour'),
                  format($q$values (2::smallint, 'Wash station'::text, interval '0', interval '20 minutes', array[%L]::uuid[]),
                                   (3::smallint, 'Dryer'::text, interval '60 minutes', null::interval, array[%L]::uuid[])$q$,
                         :'wash', :'dryer'),
                  'service_pools: number, name, when, and the members');
select results_eq(format('select name, pool from api.service_resources(%L)', :'colour'),
                  $q$values ('Anna'::text, 1::smallint), ('Bea', 1::smallint), ('Wash station', 2::smallint), ('Dryer', 3::smallint)$q$,
                  'service_resources shows each resource''s pool');
select function_privs_are('api', 'service_pools', array['uuid'], r, array['EXECUTE'], format('%s may read the pools', r))
from unnest(array['booking_customer', 'booking_gateway']) r;

-- capacity and max_seats through the admin API
select is(api.create_resource(:'loc', 'Yoga room', 'room', 'e3100000-0000-4000-8000-000000000031', p_capacity => 12)->>'capacity',
          '12', 'create_resource takes a capacity');
select throws_ok(format('select api.create_resource(%L, %L, p_capacity => 0)', :'loc', 'Nothing'), 'BK018', null,
                 'A capacity of 0 is BK018');
select is(api.update_resource('e3100000-0000-4000-8000-000000000031', p_capacity => 3)->>'capacity', '3',
          'update_resource changes the capacity');
insert into booking.units (location_id, reservation_id, pool, seat, resource_id, occupied, status)
values (:'loc', gen_random_uuid(), 1, 3, 'e3100000-0000-4000-8000-000000000031',
        tstzrange(now() + interval '1 day', now() + interval '1 day 1 hour'), 'confirmed');
select throws_ok('select api.update_resource(''e3100000-0000-4000-8000-000000000031'', p_capacity => 2)', 'BK020', null,
                 'A capacity below a seat a future booking uses is BK020');
delete from booking.units where resource_id = 'e3100000-0000-4000-8000-000000000031';
select is(api.create_service(:'loc', 'Yoga', '1 hour', p_max_seats => 4)->>'max_seats', '4', 'create_service takes max_seats');
select throws_ok(format('select api.create_service(%L, %L, %L, p_max_seats => 101)', :'loc', 'Big', '1 hour'), 'BK018', null,
                 'max_seats above 100 is BK018');
select is(api.update_service(:'dryonly', p_max_seats => 2)->>'max_seats', '2', 'update_service changes max_seats');

-- ---------------------------------------------------------------------------------------------
-- Availability: every pool has a member free for its part, buffers where the part touches the
-- appointment's start (the wash station: 10 minutes before) or end (the dryer: 15 minutes after)

select api.create_booking_atomic(:'washonly', '2031-06-02 10:00+00', 'w-wash', '{}')->>'booking_id' as washed \gset
select api.create_booking_atomic(:'dryonly', '2031-06-02 13:30+00', 'w-dry', '{}')->>'booking_id' as dried \gset
select is(array(select start_time from api.get_availability(:'colour', '2031-06-02') where start_time <= '2031-06-02 13:00+00'),
          array['2031-06-02 09:00+00', '2031-06-02 09:30+00', '2031-06-02 11:00+00', '2031-06-02 11:30+00',
                '2031-06-02 13:00+00']::timestamptz[],
          'Not at 10:00 or 10:30 (the wash station, with its 10 minutes before) nor 12:00 or 12:30 (the dryer, with its 15 after)');
select is(api.validate_service_availability(:'colour', '2031-06-02', '10:30')->>'reason', 'taken',
          'validate_service_availability follows: 10:30 is taken');
select is(api.validate_service_availability(:'colour', '2031-06-02', '11:00')->'resource_ids', jsonb_build_array(:'anna', :'bea'),
          'and 11:00 is free with both stylists');
insert into booking.schedule_exceptions (location_id, resource_id, kind, period)
values (:'loc', :'dryer', 'time_off', tstzrange('2031-06-02 15:00+00', '2031-06-02 17:00+00'));
select is(array(select start_time from api.get_availability(:'colour', '2031-06-02') where start_time >= '2031-06-02 13:00+00'),
          array['2031-06-02 13:00+00', '2031-06-02 13:30+00']::timestamptz[],
          'A dryer away from 15:00 leaves 13:30 as the last start');
select is(api.validate_service_availability(:'colour', '2031-06-02', '14:00')->>'reason', 'outside_working_hours',
          'A pool with nobody working is outside working hours, not taken');
select throws_ok(format($q$select api.create_hold_atomic(null, 'nobody', %L, '2031-06-02 14:00+00', null, null, 's')$q$, :'colour'),
                 'BK003', null, 'Holding when nobody of a pool works is BK003');

-- ---------------------------------------------------------------------------------------------
-- A hold takes one unit of every pool; a refused one writes nothing and names the pool

select api.create_hold_atomic(null, 'alice', :'colour', '2031-06-02 11:00+00', null, null, 's-alice') as h1 \gset
select is((:'h1'::jsonb)->>'resource_id', :'anna', 'A Colouring hold takes the preferred stylist');
select results_eq(format('select pool, resource_id, occupied, status from booking.units where reservation_id = %L order by pool', (:'h1'::jsonb)->>'hold_id'),
                  format($q$values (1::smallint, %L::uuid, tstzrange('2031-06-02 10:50+00', '2031-06-02 12:45+00'), 'held'::text),
                                   (2::smallint, %L::uuid, tstzrange('2031-06-02 10:50+00', '2031-06-02 11:20+00'), 'held'),
                                   (3::smallint, %L::uuid, tstzrange('2031-06-02 12:00+00', '2031-06-02 12:45+00'), 'held')$q$,
                         :'anna', :'wash', :'dryer'),
                  'and one unit of each pool for its part: the wash station with the buffer before, the dryer with the buffer after');
select is((select units from booking.reservations where id = ((:'h1'::jsonb)->>'hold_id')::uuid), 3::smallint,
          'The reservation counts its three units');
select is(api.validate_service_availability(:'colour', '2031-06-02', '11:00')->>'reason', 'taken',
          'Bea is free at 11:00 but the wash station is not: 11:00 is taken');

select (select count(*) from booking.units where location_id = :'loc') as units_before \gset
select api.create_hold_atomic(null, 'bob', :'colour', '2031-06-02 10:30+00', null, null, 's-bob') as c1 \gset
select is((:'c1'::jsonb)->>'success', 'false', 'A Colouring whose wash station is booked is refused');
select is((:'c1'::jsonb)->'pool', '{"pool": 2, "name": "Wash station"}'::jsonb, 'The conflict names the pool that was taken');
select is((:'c1'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'The wash station is booked: BOOKING_CONFLICT');
select results_eq(format('select holder_reservation_id, detail->''pool'' from booking.conflicts where id = %L', (:'c1'::jsonb)->>'conflict_id'),
                  format($q$values (%L::uuid, '{"pool": 2, "name": "Wash station"}'::jsonb)$q$, :'washed'),
                  'The conflict row keeps the wash station''s booking as the holder and the pool in its detail');
select is((select count(*) from booking.units where location_id = :'loc'), :'units_before'::bigint,
          'All or nothing: the refused hold left no unit behind (not even the free stylist''s)');
select is((select count(*)::int from booking.reservations r join booking.customers c on c.id = r.customer_id
           where c.subject = 'bob'), 0, 'and no reservation');
select ok((select bool_and((a->>'start_time')::timestamptz in (select start_time from api.get_availability(:'colour', '2031-06-02', 8)))
           from jsonb_array_elements((:'c1'::jsonb)->'alternatives') a)
          and jsonb_array_length((:'c1'::jsonb)->'alternatives') > 0,
          'Every alternative offered is a start availability shows: the alternatives respect the pools');
select is(api.create_hold_atomic(null, 'bob', :'colour', '2031-06-02 12:00+00', null, null, 's-bob')->'pool',
          '{"pool": 3, "name": "Dryer"}'::jsonb, 'A dryer taken at the end is named too');
select is(api.create_hold_atomic(null, 'bob', :'colour', '2031-06-02 10:30+00', null, null, 's-bob', :'bea')->'pool',
          '{"pool": 2, "name": "Wash station"}'::jsonb, 'also when the customer names the stylist');

-- convert and cancel move every unit with the reservation
select is(api.convert_hold_to_booking(((:'h1'::jsonb)->>'hold_id')::uuid, 's-alice', '{}')->>'status', 'confirmed',
          'The hold becomes a booking');
select is(array(select status from booking.units where reservation_id = ((:'h1'::jsonb)->>'hold_id')::uuid order by pool),
          array['confirmed', 'confirmed', 'confirmed'], 'and every unit with it');
select is(api.cancel_booking(((:'h1'::jsonb)->>'hold_id')::uuid)->>'status', 'cancelled', 'Cancelling it');
select is(array(select status from booking.units where reservation_id = ((:'h1'::jsonb)->>'hold_id')::uuid order by pool),
          array['cancelled', 'cancelled', 'cancelled'], 'cancels every unit');
select is(api.validate_service_availability(:'colour', '2031-06-02', '11:00')->>'available', 'true',
          'and frees the stylist, the wash station and the dryer at once');

-- lazy expiry: a lapsed hold is free on every resource of it
select api.create_hold_atomic(null, 'carol', :'colour', '2031-06-02 09:00+00', null, null, 's-carol')->>'hold_id' as carol \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'carol';
select is(array(select expires_at from booking.units where reservation_id = :'carol'),
          array_fill(now() - interval '1 minute', array[3]), 'A hold''s expiry is its units''');
select is(api.validate_service_availability(:'colour', '2031-06-02', '09:00')->>'available', 'true',
          'A lapsed hold counts as free at once');
select is(api.create_hold_atomic(null, 'dan', :'washonly', '2031-06-02 09:00+00', null, null, 's-dan')->>'success', 'true',
          'Another service takes the lapsed hold''s wash station');
select is(array(select status from booking.units where reservation_id = :'carol' order by pool),
          array['expired', 'expired', 'expired'], 'and the lapsed hold is expired with all its units');
select api.convert_hold_to_booking(:'carol', 's-carol', '{}') as c2 \gset
select is((:'c2'::jsonb)->>'conflict_type', 'HOLD_CONFLICT', 'Converting it then is a conflict: its wash station is held');
select is((:'c2'::jsonb)->'pool', '{"pool": 2, "name": "Wash station"}'::jsonb, 'naming the pool');
select is(array(select status from booking.units where reservation_id = :'carol' order by pool),
          array['expired', 'expired', 'expired'], 'and it stays expired, every unit of it');

-- release
select api.create_hold_atomic(null, 'erin', :'colour', '2031-06-02 13:00+00', null, null, 's-erin')->>'hold_id' as erin \gset
select is(api.release_hold(:'erin', 's-erin')->>'status', 'released', 'Releasing a Colouring hold');
select is(array(select status from booking.units where reservation_id = :'erin' order by pool),
          array['released', 'released', 'released'], 'releases every unit');

-- reschedule: the further pools' units move by as much as the start
select api.create_booking_atomic(:'colour', '2031-06-02 11:00+00', 'fay', '{}')->>'booking_id' as fay \gset
select is(api.reschedule_booking(:'fay', '2031-06-02 11:30+00')->>'success', 'true', 'A Colouring booking moves 30 minutes later');
select results_eq(format('select pool, occupied from booking.units where reservation_id = %L order by pool', :'fay'),
                  $q$values (1::smallint, tstzrange('2031-06-02 11:20+00', '2031-06-02 13:15+00')),
                            (2::smallint, tstzrange('2031-06-02 11:20+00', '2031-06-02 11:50+00')),
                            (3::smallint, tstzrange('2031-06-02 12:30+00', '2031-06-02 13:15+00'))$q$,
                  'with its wash station and dryer units, each moved by the same 30 minutes');
select api.reschedule_booking(:'fay', '2031-06-02 10:30+00') as c3 \gset
select is((:'c3'::jsonb)->>'success', 'false', 'A move whose wash station would be taken is refused');
select is((:'c3'::jsonb)->'pool', '{"pool": 2, "name": "Wash station"}'::jsonb, 'naming the wash station');
select is((:'c3'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'which is booked');
select results_eq(format('select starts_at, (select array_agg(occupied order by pool) from booking.units where reservation_id = r.id) from booking.reservations r where id = %L', :'fay'),
                  $q$values ('2031-06-02 11:30+00'::timestamptz,
                             array[tstzrange('2031-06-02 11:20+00', '2031-06-02 13:15+00'), tstzrange('2031-06-02 11:20+00', '2031-06-02 11:50+00'),
                                   tstzrange('2031-06-02 12:30+00', '2031-06-02 13:15+00')])$q$,
                  'The booking keeps its time and every unit its place');
select throws_ok(format('select api.reschedule_booking(%L, %L)', :'fay', '2031-06-02 14:00+00'), 'BK003', null,
                 'A move to when its dryer is away is BK003');

-- ---------------------------------------------------------------------------------------------
-- The strategies act on the main pool; a taken further pool refuses whatever the strategy, and
-- nobody's hold is preempted or rolled back for an attempt the wash station refuses.
-- "Simple": Bea for an hour, the wash station for its first 20 minutes; "Cut": Bea alone.

select tests.create_service(:'loc', 'Simple', '60 minutes', array[:'bea']::uuid[], :'simple', p_slot_step => '60 minutes');
select tests.create_service(:'loc', 'Cut', '60 minutes', array[:'bea']::uuid[], :'cutbea', p_slot_step => '60 minutes');
select api.set_service_pools(:'simple', format('[{"pool": 2, "name": "Wash station", "lasts": "20 minutes", "resource_ids": ["%s"]}]', :'wash')::jsonb);
select tests.create_customer('vip', p_priority => 10);
create function pg_temp.hold(p_user text, p_service uuid, p_at text) returns jsonb language sql as $$
  select api.create_hold_atomic(null, p_user, p_service, ('2031-06-03 ' || p_at || '+00')::timestamptz, null, null,
                                's-' || p_user) $$;
create function pg_temp.strategy(p text) returns void language sql as $$
  update booking.services set conflict_strategy = p where id = 'e3200000-0000-4000-8000-000000000004' $$;
create function pg_temp.status_of(p jsonb) returns text language sql as $$
  select status from booking.reservations where id = (p->>'hold_id')::uuid $$;
create temp table r (name text primary key, v jsonb);

insert into r values ('w1', pg_temp.hold('w1', :'washonly', '09:00')), ('fcfs', pg_temp.hold('r1', :'simple', '09:00'));
select is((select v->'pool' from r where name = 'fcfs'), '{"pool": 2, "name": "Wash station"}'::jsonb,
          'first_come_first_serve: refused, naming the wash station');

select pg_temp.strategy('last_wins');
insert into r values ('w2', pg_temp.hold('w2', :'washonly', '10:00')), ('lw', pg_temp.hold('r2', :'simple', '10:00'));
select is((select (v->>'success') || ' ' || (v->'pool'->>'name') from r where name = 'lw'), 'false Wash station',
          'last_wins: a hold on the wash station by another service is not preempted; refused, naming it');
select is(pg_temp.status_of((select v from r where name = 'w2')), 'held', 'last_wins: the wash station''s hold stays');
insert into r values ('lw1', pg_temp.hold('r3', :'simple', '11:00')), ('lw2', pg_temp.hold('r4', :'simple', '11:00'));
select is((select v->>'outcome' from r where name = 'lw2'), 'preempted',
          'last_wins: a Simple hold preempts an older Simple hold (its stylist and wash station go with it)');
select is(array(select status from booking.units where reservation_id = (select (v->>'hold_id')::uuid from r where name = 'lw1')),
          array['preempted', 'preempted'], 'last_wins: every unit of the preempted hold is freed');
select is((select units from booking.reservations where id = (select (v->>'hold_id')::uuid from r where name = 'lw2')), 2::smallint,
          'last_wins: the winner holds Bea and the wash station');
insert into r values ('c5', pg_temp.hold('c5', :'cutbea', '12:00')), ('w5', pg_temp.hold('w5', :'washonly', '12:00')),
                     ('lw3', pg_temp.hold('r5', :'simple', '12:00'));
select is((select (v->>'success') || ' ' || (v->'pool'->>'name') from r where name = 'lw3'), 'false Wash station',
          'last_wins: Bea held and the wash station held by others: refused, naming the wash station');
select is(pg_temp.status_of((select v from r where name = 'c5')), 'held',
          'last_wins: Bea''s hold is not preempted for an attempt the wash station refuses');

select pg_temp.strategy('priority_based');
insert into r values ('w6', pg_temp.hold('w6', :'washonly', '13:00')), ('pb', pg_temp.hold('vip', :'simple', '13:00'));
select is((select (v->>'success') || ' ' || (v->'pool'->>'name') from r where name = 'pb'), 'false Wash station',
          'priority_based: even a VIP is refused when a further pool is taken');
select is(pg_temp.status_of((select v from r where name = 'w6')), 'held', 'priority_based: the wash station''s hold stays');

select pg_temp.strategy('rollback_all');
insert into r values ('w7', pg_temp.hold('w7', :'washonly', '14:00')), ('rb', pg_temp.hold('r7', :'simple', '14:00'));
select is((select v->>'outcome' || ' ' || (v->'pool'->>'name') from r where name = 'rb'), 'refused Wash station',
          'rollback_all: a taken further pool is refused, nothing rolled back');
select is(pg_temp.status_of((select v from r where name = 'w7')), 'held', 'rollback_all: the wash station''s hold stays');

select pg_temp.strategy('consensus');
insert into r values ('w8', pg_temp.hold('w8', :'washonly', '15:00')), ('cs', pg_temp.hold('r8', :'simple', '15:00'));
select is((select v->>'status' || ' ' || (v->'pool'->>'name') from r where name = 'cs'), 'awaiting_confirmation Wash station',
          'consensus: an alternative is offered, naming the pool that was taken');
select api.confirm_conflict((select (v->>'conflict_id')::uuid from r where name = 'cs'), true) as accepted \gset
select is((select units from booking.reservations where id = ((:'accepted'::jsonb)->>'hold_id')::uuid), 2::smallint,
          'consensus: the accepted alternative holds Bea and the wash station');

select pg_temp.strategy('arbitration');
insert into r values ('w9', pg_temp.hold('w9', :'washonly', '16:00')), ('ar', pg_temp.hold('r9', :'simple', '16:00'));
select is((select v->>'outcome' from r where name = 'ar'), 'nearest_time',
          'arbitration: placed at the nearest time at which the wash station is free too');
select is((select units from booking.reservations where id = (select (v->>'hold_id')::uuid from r where name = 'ar')), 2::smallint,
          'arbitration: with both of its units');

select pg_temp.strategy('admin_intervention');
insert into r values ('ai', pg_temp.hold('r10', :'simple', '09:00'));   -- the wash station: held by w1
select is((select v->>'status' || ' ' || (v->'pool'->>'name') from r where name = 'ai'), 'open Wash station',
          'admin_intervention: escalated, naming the pool');
select throws_ok(format('select api.resolve_conflict(%L, %L)', (select v->>'conflict_id' from r where name = 'ai'), 'grant_requester'),
                 'BK010', null, 'admin_intervention: granting it while the wash station is still taken is BK010');

select is((select count(*)::int from booking.units a join booking.units b
             on a.location_id = b.location_id and a.resource_id = b.resource_id and a.seat = b.seat
            and (a.reservation_id, a.pool) < (b.reservation_id, b.pool) and a.occupied && b.occupied
           where a.location_id = :'loc' and a.status in ('held', 'confirmed') and b.status in ('held', 'confirmed')),
          0, 'No two live units of a seat overlap');
select is((select count(*)::int from booking.reservations r where r.location_id = :'loc'
             and r.units <> (select count(*) from booking.units u where u.reservation_id = r.id)),
          0, 'Every reservation has all its units');

select * from finish();
rollback;
