-- Cancel and reschedule: the time is freed or moved in one step, with optimistic versions.
begin;
set local timezone = 'UTC';
select plan(54);

-- Fixtures: one location in UTC; Anna (preferred) and Bartek do manicures, every day 09:00-17:00;
-- Cezary works there too but does no manicures.
\set loc      '10000000-0000-0000-0000-000000000001'
\set anna     '20000000-0000-0000-0000-000000000001'
\set bartek   '20000000-0000-0000-0000-000000000002'
\set cezary   '20000000-0000-0000-0000-000000000003'
\set manicure '30000000-0000-0000-0000-000000000001'

select tests.create_location(:'loc');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_staff(:'loc', 'Cezary', :'cezary');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure');

-- Cancel
select api.create_booking_atomic(:'manicure', '2031-03-10 10:00+00', 'alice', '{}', :'anna')->>'booking_id' as b1 \gset

select api.cancel_booking(:'b1', 'changed plans', 7) as v1 \gset
select is((:'v1'::jsonb)->>'success', 'false', 'Cancelling with a stale version fails');
select is((:'v1'::jsonb)->>'conflict_type', 'VERSION_CONFLICT', 'A stale version is a VERSION_CONFLICT');
select results_eq(format($q$select status, version from booking.reservations where id = %L$q$, :'b1'),
                  $q$values ('confirmed'::text, 1::bigint)$q$, 'A refused cancel changes nothing');
select results_eq(
  format($q$select conflict_type, operation, holder_reservation_id::text from booking.conflicts where id = %L$q$,
         (:'v1'::jsonb)->>'conflict_id'),
  format($q$values ('VERSION_CONFLICT'::text, 'cancel_booking'::text, %L::text)$q$, :'b1'),
  'A version conflict on cancel is recorded in booking.conflicts');

select api.cancel_booking(:'b1', 'changed plans', 1) as c1 \gset
select is((:'c1'::jsonb)->>'success', 'true', 'Cancelling with the current version succeeds');
select is((:'c1'::jsonb)->>'status', 'cancelled', 'A cancelled booking says cancelled');
select is(((:'c1'::jsonb)->>'version')::bigint, 2::bigint, 'Cancelling bumps the version');
select results_eq(
  format($q$select status, cancel_reason, starts_at, ended_at is not null from booking.reservations where id = %L$q$, :'b1'),
  $q$values ('cancelled'::text, 'changed plans'::text, '2031-03-10 10:00+00'::timestamptz, true)$q$,
  'A cancelled booking stays in the ledger with its reason and time');
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                  where start_time = '2031-03-10 10:00+00'), 'A cancelled time is offered again at once');
select api.cancel_booking(:'b1') as c1again \gset
select is((:'c1again'::jsonb)->>'success', 'true', 'Cancelling twice is harmless');
select is(((:'c1again'::jsonb)->>'version')::bigint, 2::bigint, 'Cancelling twice changes nothing');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 10:00+00', 'bob', '{}', :'anna')->>'success', 'true',
          'Another customer can book a cancelled time');
select is((select count(*)::int from booking.reservations where resource_id = :'anna'
           and starts_at = '2031-03-10 10:00+00'), 2, 'The cancelled booking and the new one are both kept');

select throws_ok($q$select api.cancel_booking('99999999-9999-9999-9999-999999999999')$q$,
                 'BK008', null, 'Cancelling an unknown booking is not found');
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-10 16:00+00', '2031-03-10 17:00+00',
                              null, 'sess-carol', :'anna')->>'hold_id' as hold \gset
select throws_ok(format($q$select api.cancel_booking(%L)$q$, :'hold'),
                 'BK010', null, 'A hold is released, not cancelled');

-- Reschedule
select api.create_booking_atomic(:'manicure', '2031-03-10 12:00+00', 'alice', '{}', :'anna')->>'booking_id' as r1 \gset
select api.reschedule_booking(:'r1', '2031-03-10 14:00+00', 1) as m1 \gset
select is((:'m1'::jsonb)->>'success', 'true', 'A booking moves to a free time');
select is((:'m1'::jsonb)->>'booking_id', :'r1', 'A moved booking keeps its id');
select is(((:'m1'::jsonb)->>'version')::bigint, 2::bigint, 'Moving bumps the version');
select results_eq(
  format($q$select status, resource_id, starts_at, ends_at, occupied, slot_id from booking.reservations where id = %L$q$, :'r1'),
  format($q$values ('confirmed'::text, %L::uuid, '2031-03-10 14:00+00'::timestamptz, '2031-03-10 15:00+00'::timestamptz,
                    tstzrange('2031-03-10 14:00+00', '2031-03-10 15:00+00'), %L::text)$q$,
         :'anna', :'manicure' || '@2031-03-10T14:00:00Z'),
  'The ledger row has the new time, range and slot id');
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                  where start_time = '2031-03-10 12:00+00'), 'The old time is free after a move');
select ok(not exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                      where start_time = '2031-03-10 14:00+00'), 'The new time is taken after a move');

-- The new time is taken
select api.create_booking_atomic(:'manicure', '2031-03-10 15:00+00', 'bob', '{}', :'anna')->>'booking_id' as other \gset
select api.reschedule_booking(:'r1', '2031-03-10 15:00+00', 2) as m2 \gset
select is((:'m2'::jsonb)->>'success', 'false', 'A move onto a booked time fails');
select is((:'m2'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'A move onto a booked time is a BOOKING_CONFLICT');
select ok(jsonb_array_length((:'m2'::jsonb)->'alternatives') between 1 and 5, 'A refused move offers up to 5 alternatives');
select results_eq(format($q$select starts_at, version from booking.reservations where id = %L$q$, :'r1'),
                  $q$values ('2031-03-10 14:00+00'::timestamptz, 2::bigint)$q$,
                  'A refused move keeps the old time and version');
select results_eq(
  format($q$select operation, holder_reservation_id::text, attempted_reservation_id::text
            from booking.conflicts where id = %L$q$, (:'m2'::jsonb)->>'conflict_id'),
  format($q$values ('reschedule_booking'::text, %L::text, %L::text)$q$, :'other', :'r1'),
  'A refused move is recorded as a conflict naming both bookings');
select is(api.reschedule_booking(:'r1', '2031-03-10 16:00+00', 2)->>'conflict_type', 'HOLD_CONFLICT',
          'A move onto a held time is a HOLD_CONFLICT');
select ok(not exists (select 1 from api.get_availability(:'manicure', '2031-03-10', 1, :'anna')
                      where start_time = '2031-03-10 14:00+00'), 'After refused moves the old time is still taken');

-- Stale version
select api.reschedule_booking(:'r1', '2031-03-10 13:00+00', 1) as m3 \gset
select is((:'m3'::jsonb)->>'conflict_type', 'VERSION_CONFLICT', 'A move with a stale version is a VERSION_CONFLICT');
select is(((:'m3'::jsonb)->>'current_version')::bigint, 2::bigint, 'A version conflict tells the current version');
select results_eq(format($q$select starts_at, version from booking.reservations where id = %L$q$, :'r1'),
                  $q$values ('2031-03-10 14:00+00'::timestamptz, 2::bigint)$q$,
                  'A move with a stale version changes nothing');
select is((select count(*)::int from booking.conflicts where conflict_type = 'VERSION_CONFLICT'
           and operation = 'reschedule_booking' and holder_reservation_id = :'r1'), 1,
          'A version conflict on reschedule is recorded');

-- Onto its own old time
select api.create_booking_atomic(:'manicure', '2031-03-11 10:00+00', 'dave', '{}', :'anna')->>'booking_id' as r2 \gset
select api.reschedule_booking(:'r2', '2031-03-11 10:15+00') as m4 \gset
select is((:'m4'::jsonb)->>'success', 'true', 'Moving a 10:00 booking to 10:15 with the same stylist succeeds');
select is(((:'m4'::jsonb)->>'start_time')::timestamptz, '2031-03-11 10:15+00'::timestamptz,
          'The booking starts at 10:15 after the move');
select is(api.reschedule_booking(:'r2', '2031-03-11 09:45+00', 2)->>'success', 'true',
          'Moving back over its own time succeeds too');
select is((select count(*)::int from booking.reservations where customer_id =
           (select id from booking.customers where subject = 'dave')), 1, 'Moving over its own time writes no second row');
select is(api.reschedule_booking(:'r2', '2031-03-11 09:45+00', 3) ->> 'version', '3',
          'Moving to the time it already has changes nothing');

-- To another resource
select api.reschedule_booking(:'r2', '2031-03-11 09:45+00', 3, :'bartek') as m5 \gset
select is((:'m5'::jsonb)->>'success', 'true', 'A booking moves to another eligible resource at the same time');
select is((select resource_id::text from booking.reservations where id = :'r2'), :'bartek',
          'The ledger row names the new resource');
select ok(exists (select 1 from api.get_availability(:'manicure', '2031-03-11', 1, :'anna')
                  where start_time = '2031-03-11 09:45+00'), 'The old resource is free after the move');
select is(((:'m5'::jsonb)->>'version')::bigint, 4::bigint, 'Moving to another resource bumps the version');

-- Invalid moves
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-11 12:00+00', null, %L)$q$, :'r2', :'cezary'),
                 'BK012', null, 'A booking cannot move to a resource that does not perform the service');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-11 16:30+00')$q$, :'r2'),
                 'BK003', null, 'A booking cannot move outside working hours');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-11 12:07+00')$q$, :'r2'),
                 'BK013', null, 'A booking cannot move off the slot grid');
select throws_ok(format($q$select api.reschedule_booking(%L, now() - interval '1 day')$q$, :'r2'),
                 'BK004', null, 'A booking cannot move into the past');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-10 11:00+00')$q$, :'b1'),
                 'BK010', null, 'A cancelled booking cannot be moved');

-- The state is checked before the version: a request that could never succeed is an error, and no
-- conflict row is written for it
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-12 16:00+00', '2031-03-12 17:00+00',
                              null, 'sess-carol', :'anna')->>'hold_id' as hold2 \gset
select count(*) as conflicts_before from booking.conflicts \gset
select throws_ok(format($q$select api.cancel_booking(%L, null, 99)$q$, :'hold2'),
                 'BK010', null, 'A hold with a stale version is still BK010, not a VERSION_CONFLICT');
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'hold2';
select throws_ok(format($q$select api.cancel_booking(%L, null, 99)$q$, :'hold2'),
                 'BK010', null, 'A lapsed hold with a stale version is BK010');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-11 10:00+00', 99)$q$, :'hold2'),
                 'BK010', null, 'Moving a hold with a stale version is BK010, not a VERSION_CONFLICT');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-03-11 10:00+00', 1)$q$, :'b1'),
                 'BK010', null, 'Moving a cancelled booking with a stale version is BK010');
select api.cancel_booking(:'b1', 'again', 1) as c1stale \gset
select is((:'c1stale'::jsonb)->>'status', 'cancelled',
          'Cancelling a cancelled booking with a stale version returns it (a retried cancel succeeded)');
select is(((:'c1stale'::jsonb)->>'version')::bigint, 2::bigint, 'and changes nothing');
select is((select cancel_reason from booking.reservations where id = :'b1'), 'changed plans',
          'and keeps the first reason');
select is((select count(*) from booking.conflicts), :'conflicts_before'::bigint,
          'None of these requests records a conflict');

select * from finish();
rollback;
