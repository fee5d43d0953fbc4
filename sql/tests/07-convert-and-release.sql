-- Convert and release: a hold becomes a booking in place, or lets its slot go at once.
begin;
set local timezone = 'UTC';
select plan(45);

-- Fixtures: one location in UTC; Anna and Bartek do manicures and work every day 09:00-17:00.
\set loc      '10000000-0000-0000-0000-000000000001'
\set anna     '20000000-0000-0000-0000-000000000001'
\set bartek   '20000000-0000-0000-0000-000000000002'
\set manicure '30000000-0000-0000-0000-000000000001'

select tests.create_location(:'loc');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure',
                            p_hold_ttl => '10 minutes');

-- Convert a live hold
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h1 \gset
select api.convert_hold_to_booking(:'h1', 'sess-alice', '{"name": "Alice Nowak", "phone": "+48 600 100 200"}') as b1 \gset

select is((:'b1'::jsonb)->>'success', 'true', 'A live hold converts into a booking');
select is((:'b1'::jsonb)->>'booking_id', :'h1', 'The booking keeps the hold''s id');
select is((:'b1'::jsonb)->>'status', 'confirmed', 'The converted booking is confirmed');
select is(((:'b1'::jsonb)->>'version')::bigint, 2::bigint, 'Converting bumps the version');
select results_eq(
  format($q$select status, version, expires_at, details->>'name', details->>'phone', confirmed_at is not null
            from booking.reservations where id = %L$q$, :'h1'),
  $q$values ('confirmed'::text, 2::bigint, null::timestamptz, 'Alice Nowak'::text, '+48 600 100 200'::text, true)$q$,
  'The ledger row is confirmed in place with the booking details and no expiry');
select is((select count(*)::int from booking.reservations where starts_at = '2031-03-10 10:00+00'), 1,
          'Converting writes no second row');

select api.convert_hold_to_booking(:'h1', 'sess-alice', '{"name": "Alice Nowak"}') as b1again \gset
select is((:'b1again'::jsonb)->>'success', 'true', 'Converting twice succeeds');
select is((:'b1again'::jsonb)->>'booking_id', :'h1', 'Converting twice returns the same booking');
select is(((:'b1again'::jsonb)->>'version')::bigint, 2::bigint, 'Converting twice does not bump the version again');

select throws_ok(format($q$select api.convert_hold_to_booking(%L, 'sess-mallory', '{}')$q$, :'h1'),
                 'BK009', null, 'A hold cannot be converted from another session');
select throws_ok($q$select api.convert_hold_to_booking('99999999-9999-9999-9999-999999999999', 'sess-alice', '{}')$q$,
                 'BK008', null, 'Converting an unknown hold is not found');
select throws_ok(format($q$select api.convert_hold_to_booking(%L, 'sess-alice', '[1, 2]')$q$, :'h1'),
                 'BK014', null, 'Booking details must be a JSON object');

-- An expired hold whose time is still free
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 11:00+00', '2031-03-10 12:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h2 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h2';
select api.convert_hold_to_booking(:'h2', 'sess-alice', '{}') as b2 \gset
select is((:'b2'::jsonb)->>'success', 'true', 'A lapsed hold still converts while its time is free');
select is((select status from booking.reservations where id = :'h2'), 'confirmed', 'The lapsed hold is now a booking');

select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 12:00+00', '2031-03-10 13:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h3 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h3';
select is(api.cleanup_expired_holds() >= 1, true, 'Cleanup marks the lapsed hold expired');
select is((select status from booking.reservations where id = :'h3'), 'expired', 'The cleaned hold is expired');
select is(api.convert_hold_to_booking(:'h3', 'sess-alice', '{}')->>'status', 'confirmed',
          'A hold already marked expired still converts while its time is free');

-- An expired hold whose time another customer took
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 13:00+00', '2031-03-10 14:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h4 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h4';
select api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-10 13:00+00', '2031-03-10 14:00+00',
                              null, 'sess-bob', :'anna') as bob4 \gset
select is((:'bob4'::jsonb)->>'success', 'true', 'Another customer can hold the time of a lapsed hold');
select api.convert_hold_to_booking(:'h4', 'sess-alice', '{"name": "Alice Nowak"}') as b4 \gset
select is((:'b4'::jsonb)->>'success', 'false', 'A lapsed hold whose time was taken does not convert');
select is((:'b4'::jsonb)->>'conflict_type', 'HOLD_CONFLICT', 'The conflict names the hold that took the time');
select ok(jsonb_array_length((:'b4'::jsonb)->'alternatives') between 1 and 5, 'The refused convert offers alternatives');
select results_eq(
  format($q$select status, version, details from booking.reservations where id = %L$q$, :'h4'),
  $q$values ('expired'::text, 2::bigint, '{}'::jsonb)$q$,
  'The refused hold stays expired and unconverted, without the details');
select results_eq(
  format($q$select operation, attempted_reservation_id::text, holder_reservation_id::text
            from booking.conflicts where id = %L$q$, (:'b4'::jsonb)->>'conflict_id'),
  format($q$values ('convert_hold'::text, %L::text, %L::text)$q$, :'h4', (:'bob4'::jsonb)->>'hold_id'),
  'The refused convert is recorded as a conflict with the hold in the way');

select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 14:00+00', '2031-03-10 15:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h5 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h5';
select api.create_booking_atomic(:'manicure', '2031-03-10 14:00+00', 'bob', '{}', :'anna') as bob5 \gset
select is(api.convert_hold_to_booking(:'h5', 'sess-alice', '{}')->>'conflict_type', 'BOOKING_CONFLICT',
          'A lapsed hold whose time was booked gives a BOOKING_CONFLICT');

-- An expired hold whose time was held by another customer whose hold lapsed too
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 15:00+00', '2031-03-10 16:00+00',
                              null, 'sess-alice', :'anna')->>'hold_id' as h6 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h6';
select api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-10 15:00+00', '2031-03-10 16:00+00',
                              null, 'sess-bob', :'anna')->>'hold_id' as bob6 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'bob6';
select is(api.convert_hold_to_booking(:'h6', 'sess-alice', '{}')->>'success', 'true',
          'A lapsed hold converts when the hold that took its time has lapsed too');
select is((select status from booking.reservations where id = :'bob6'), 'expired',
          'The other lapsed hold is marked expired by the convert');

-- Release
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-10 16:00+00', '2031-03-10 17:00+00',
                              null, 'sess-carol', :'anna')->>'hold_id' as h7 \gset
select ok(not exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                      where start_time = '2031-03-10 16:00+00'), 'A held slot is not offered');
select throws_ok(format($q$select api.release_hold(%L, 'sess-mallory')$q$, :'h7'),
                 'BK009', null, 'A hold cannot be released from another session');
select api.release_hold(:'h7', 'sess-carol') as r7 \gset
select is((:'r7'::jsonb)->>'success', 'true', 'Releasing a hold succeeds');
select is((:'r7'::jsonb)->>'status', 'released', 'A released hold says released');
select is(((:'r7'::jsonb)->>'version')::bigint, 2::bigint, 'Releasing bumps the version');
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                  where start_time = '2031-03-10 16:00+00'), 'A released slot is offered again at once');
select api.release_hold(:'h7', 'sess-carol') as r7again \gset
select is((:'r7again'::jsonb)->>'success', 'true', 'Releasing twice is harmless');
select is(((:'r7again'::jsonb)->>'version')::bigint, 2::bigint, 'Releasing twice changes nothing');
select is(api.create_hold_atomic(null, 'dave', :'manicure', '2031-03-10 16:00+00', '2031-03-10 17:00+00',
                                 null, 'sess-dave', :'anna')->>'success', 'true',
          'Another customer can hold a released slot at once');
select throws_ok(format($q$select api.convert_hold_to_booking(%L, 'sess-carol', '{}')$q$, :'h7'),
                 'BK010', null, 'A released hold cannot become a booking');
select throws_ok(format($q$select api.release_hold(%L, 'sess-alice')$q$, :'h1'),
                 'BK010', null, 'A booking cannot be released as a hold');
select throws_ok($q$select api.release_hold('99999999-9999-9999-9999-999999999999', 'sess-alice')$q$,
                 'BK008', null, 'Releasing an unknown hold is not found');

-- A lapsed hold (expires_at passed, not yet marked by a cleanup) reads as expired everywhere
select api.create_hold_atomic(null, 'erin', :'manicure', '2031-03-12 09:00+00', '2031-03-12 10:00+00',
                              null, 'sess-erin', :'anna')->>'hold_id' as h8 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h8';
select api.release_hold(:'h8', 'sess-erin') as r8 \gset
select is((:'r8'::jsonb)->>'success', 'true', 'Releasing a lapsed hold is harmless');
select is((:'r8'::jsonb)->>'status', 'expired', 'Releasing a lapsed hold says expired, not released');
select is(((:'r8'::jsonb)->>'version')::bigint, 1::bigint, 'Releasing a lapsed hold does not bump its version');
select is((select status from booking.reservations where id = :'h8'), 'held',
          'Releasing a lapsed hold writes nothing (the cleanup marks it)');
select is(api.get_reservation(:'h8')->>'status', 'expired', 'Reading a lapsed hold says expired');
select is((select r->>'status' from jsonb_array_elements(api.export_customer('erin')->'reservations') r
           where r->>'id' = :'h8'), 'expired', 'A customer''s export shows a lapsed hold as expired');

-- The ledger never overlaps
select is((select count(*)::int from booking.reservations a join booking.reservations b
           on a.resource_id = b.resource_id and a.id < b.id and a.occupied && b.occupied
           where a.status in ('held', 'confirmed') and b.status in ('held', 'confirmed')), 0,
          'No two live reservations of a resource overlap');

select * from finish();
rollback;
