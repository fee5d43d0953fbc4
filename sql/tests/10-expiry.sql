-- Expiry: a hold whose expires_at has passed is free at once for every function, cleanup or not.
begin;
set local timezone = 'UTC';
select plan(27);

-- Fixtures: one location in UTC; Anna alone does manicures; Anna (preferred) and Bartek do pedicures;
-- both work every day 09:00-17:00.
\set loc      '10000000-0000-0000-0000-000000000001'
\set anna     '20000000-0000-0000-0000-000000000001'
\set bartek   '20000000-0000-0000-0000-000000000002'
\set manicure '30000000-0000-0000-0000-000000000001'
\set pedicure '30000000-0000-0000-0000-000000000002'

select tests.create_location(:'loc');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna']::uuid[], :'manicure');
select tests.create_service(:'loc', 'Pedicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'pedicure');

-- A lapsed hold is free for reads before anyone cleans it up
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-alice')->>'hold_id' as h1 \gset
select ok(not exists (select 1 from api.get_availability(:'manicure', '2031-03-10') where start_time = '2031-03-10 10:00+00'),
          'A live hold is not offered');
select is(api.validate_service_availability(:'manicure', '2031-03-10', '10:00')->>'reason', 'taken',
          'A live hold makes its time taken');
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h1';
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-10') where start_time = '2031-03-10 10:00+00'),
          'A lapsed hold is offered again at once');
select is(api.validate_service_availability(:'manicure', '2031-03-10', '10:00')->'available', 'true'::jsonb,
          'A lapsed hold''s time validates as available');
select is(api.validate_service_availability(:'manicure', '2031-03-10', '10:00')->'resource_ids', jsonb_build_array(:'anna'),
          'A lapsed hold''s resource is listed as free');
select is((select status from booking.reservations where id = :'h1'), 'held', 'Reading never writes: the lapsed hold is still held');

-- A new hold takes it and marks the old one expired
select api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-bob') as h1b \gset
select is((:'h1b'::jsonb)->>'success', 'true', 'A new hold takes the time of a lapsed hold');
select results_eq(format($q$select status, version, ended_at is not null from booking.reservations where id = %L$q$, :'h1'),
                  $q$values ('expired'::text, 2::bigint, true)$q$,
                  'The lapsed hold is marked expired by the hold that took its time');
select is((select count(*)::int from booking.conflicts), 0, 'Taking a lapsed hold''s time is not a conflict');

-- A hold that lapses this very instant is free too
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 11:00+00', '2031-03-10 12:00+00',
                              null, 'sess-alice')->>'hold_id' as h0 \gset
update booking.reservations set expires_at = now() where id = :'h0';
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-10') where start_time = '2031-03-10 11:00+00'),
          'A hold is free at the instant it expires');
select is(api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-10 11:00+00', '2031-03-10 12:00+00',
                                 null, 'sess-bob')->>'success', 'true',
          'A hold expiring at this instant can be taken');

-- A direct booking takes it
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 12:00+00', '2031-03-10 13:00+00',
                              null, 'sess-alice')->>'hold_id' as h2 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h2';
select is(api.create_booking_atomic(:'manicure', '2031-03-10 12:30+00', 'bob', '{}')->>'success', 'true',
          'A direct booking overlapping a lapsed hold succeeds');
select is((select status from booking.reservations where id = :'h2'), 'expired',
          'The lapsed hold is marked expired by the booking that took its time');

-- A reschedule takes it
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 14:00+00', '2031-03-10 15:00+00',
                              null, 'sess-alice')->>'hold_id' as h3 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h3';
select api.create_booking_atomic(:'manicure', '2031-03-10 16:00+00', 'carol', '{}')->>'booking_id' as b3 \gset
select is(api.reschedule_booking(:'b3', '2031-03-10 14:00+00')->>'success', 'true',
          'A booking moves onto the time of a lapsed hold');
select is((select status from booking.reservations where id = :'h3'), 'expired',
          'The lapsed hold is marked expired by the move');

-- Any staff: a lapsed hold on the preferred resource does not push the attempt to the next one
select api.create_hold_atomic(null, 'alice', :'pedicure', '2031-03-12 10:00+00', '2031-03-12 11:00+00',
                              null, 'sess-alice')->>'hold_id' as h4 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h4';
select is(api.create_hold_atomic(null, 'bob', :'pedicure', '2031-03-12 10:00+00', '2031-03-12 11:00+00',
                                 null, 'sess-bob')->>'resource_id', :'anna',
          'Any staff takes the preferred resource whose hold has lapsed');

-- Cleanup
select api.create_hold_atomic(null, 'dave', :'pedicure', '2031-03-11 10:00+00', '2031-03-11 11:00+00',
                              null, 'sess-dave', :'anna')->>'hold_id' as l1 \gset
select api.create_hold_atomic(null, 'dave', :'pedicure', '2031-03-11 10:00+00', '2031-03-11 11:00+00',
                              null, 'sess-dave', :'bartek')->>'hold_id' as l2 \gset
select api.create_hold_atomic(null, 'erin', :'pedicure', '2031-03-11 13:00+00', '2031-03-11 14:00+00',
                              null, 'sess-erin', :'anna')->>'hold_id' as live \gset
update booking.reservations set expires_at = now() - interval '1 second' where id in (:'l1', :'l2');
select count(*) as lapsed from booking.reservations where status = 'held' and expires_at <= now() \gset
select is(:lapsed::int, 2, 'Two lapsed holds wait for cleanup');
select is(api.cleanup_expired_holds(), :lapsed::int, 'Cleanup returns the number of holds it expired');
select results_eq(format($q$select status, version from booking.reservations where id in (%L, %L) order by id$q$, :'l1', :'l2'),
                  $q$values ('expired'::text, 2::bigint), ('expired'::text, 2::bigint)$q$,
                  'Cleanup marks the lapsed holds expired and bumps their version');
select results_eq(format($q$select status, version from booking.reservations where id = %L$q$, :'live'),
                  $q$values ('held'::text, 1::bigint)$q$, 'Cleanup leaves live holds alone');
select is(api.cleanup_expired_holds(), 0, 'A second cleanup finds nothing to do');
select is((select count(*)::int from booking.reservations where status = 'held' and expires_at <= now()), 0,
          'No lapsed hold is left held after cleanup');
select is(api.health()->'expired_uncleaned_holds', '0'::jsonb, 'Health reports no uncleaned holds after cleanup');
select results_eq(format($q$select status from booking.reservations where id in (%L, %L, %L) order by id$q$,
                         :'h1', :'h2', :'h3'),
                  $q$values ('expired'::text), ('expired'::text), ('expired'::text)$q$,
                  'Cleanup leaves holds already expired as they were');

-- A cleaned-up hold's owner can still convert it while the time is free, and cannot release it into use
select is(api.convert_hold_to_booking(:'l1', 'sess-dave', '{}')->>'status', 'confirmed',
          'A cleaned-up hold converts while its time is free');
select is(api.release_hold(:'l2', 'sess-dave')->>'status', 'expired', 'Releasing an expired hold leaves it expired');
select ok(exists (select 1 from api.get_availability(:'pedicure', '2031-03-11', 1, :'bartek')
                  where start_time = '2031-03-11 10:00+00'), 'An expired hold''s time is offered');

select * from finish();
rollback;
