-- Direct bookings and idempotency: api.create_booking_atomic, with Stripe's Idempotency-Key semantics.
begin;
set local timezone = 'UTC';
select plan(36);

-- Fixtures: one location in UTC; Anna (preferred) and Bartek do manicures, every day 09:00-17:00.
\set loc      '10000000-0000-0000-0000-000000000001'
\set anna     '20000000-0000-0000-0000-000000000001'
\set bartek   '20000000-0000-0000-0000-000000000002'
\set manicure '30000000-0000-0000-0000-000000000001'

select tests.create_location(:'loc');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure');

-- A direct booking
select api.create_booking_atomic(:'manicure', '2031-03-10 10:00+00', 'alice', '{"name": "Alice Nowak"}') as b1 \gset
select is((:'b1'::jsonb)->>'success', 'true', 'A direct booking of a free slot succeeds');
select ok((:'b1'::jsonb) ?& array['success', 'booking_id', 'status', 'version'],
          'A booking result carries success, booking_id, status and version');
select is((:'b1'::jsonb)->>'status', 'confirmed', 'A direct booking is confirmed at once');
select is(((:'b1'::jsonb)->>'version')::bigint, 1::bigint, 'A direct booking starts at version 1');
select is((:'b1'::jsonb)->>'resource_id', :'anna', 'A direct booking with any staff takes the preferred resource');
select results_eq(
  format($q$select status, starts_at, ends_at, expires_at, details->>'name', confirmed_at is not null,
                   (select subject from booking.customers c where c.id = r.customer_id)
            from booking.reservations r where id = %L$q$, (:'b1'::jsonb)->>'booking_id'),
  $q$values ('confirmed'::text, '2031-03-10 10:00+00'::timestamptz, '2031-03-10 11:00+00'::timestamptz,
             null::timestamptz, 'Alice Nowak'::text, true, 'alice'::text)$q$,
  'The booking is one confirmed row with its details, owned by its customer');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 10:00+00', 'bob', '{}')->>'resource_id', :'bartek',
          'A second direct booking at the same time takes the next eligible resource');
select api.create_booking_atomic(:'manicure', '2031-03-10 10:00+00', 'carol', '{}') as b3 \gset
select is((:'b3'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'A direct booking of a fully booked time is a BOOKING_CONFLICT');
select is((:'b3'::jsonb)->'requires_retry', 'false'::jsonb, 'A booking conflict is not worth retrying');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 10:30+00', 'carol', '{}', :'anna')->>'success', 'false',
          'A direct booking overlapping a booking on a named resource is refused');
select throws_ok(format($q$select api.create_booking_atomic(%L, now() - interval '1 day', 'carol', '{}')$q$, :'manicure'),
                 'BK004', null, 'A direct booking in the past is refused');
select throws_ok($q$select api.create_booking_atomic('99999999-9999-9999-9999-999999999999', '2031-03-10 12:00+00', 'carol', '{}')$q$,
                 'BK001', null, 'A direct booking of an unknown service is refused');
select throws_ok(format($q$select api.create_booking_atomic(%L, '2031-03-10 12:00+00', 'carol', '"Carol"')$q$, :'manicure'),
                 'BK014', null, 'Booking details must be a JSON object');

-- Idempotency: the same key and request from the same customer
select api.create_booking_atomic(:'manicure', '2031-03-10 11:00+00', 'alice', '{"name": "Alice Nowak"}',
                                 null, 'key-1') as k1 \gset
select api.create_booking_atomic(:'manicure', '2031-03-10 11:00+00', 'alice', '{"name": "Alice Nowak"}',
                                 null, 'key-1') as k1again \gset
select is((:'k1'::jsonb)->>'success', 'true', 'A booking with an idempotency key succeeds');
select is(:'k1again'::jsonb, :'k1'::jsonb, 'The same key and request return the identical first result');
select is((select count(*)::int from booking.reservations where starts_at = '2031-03-10 11:00+00'), 1,
          'The repeated request writes one reservation');
select is((select count(*)::int from booking.idempotency_keys k join booking.customers c on c.id = k.customer_id
           where c.subject = 'alice' and k.key = 'key-1'), 1, 'One idempotency record is kept');
select ok((select expires_at >= now() + interval '24 hours' from booking.idempotency_keys where key = 'key-1'),
          'The idempotency record is kept at least 24 hours');

set local timezone = 'Europe/Warsaw';
select is(api.create_booking_atomic(:'manicure', '2031-03-10 12:00+01', 'alice', '{"name": "Alice Nowak"}',
                                    null, 'key-1'), :'k1'::jsonb,
          'The same instant from a session in another time zone is the same request');
set local timezone = 'UTC';

-- Same key, another request
select throws_ok(format($q$select api.create_booking_atomic(%L, '2031-03-10 12:00+00', 'alice',
                          '{"name": "Alice Nowak"}', null, 'key-1')$q$, :'manicure'),
                 'BK011', null, 'The same key with another start is refused');
select throws_ok(format($q$select api.create_booking_atomic(%L, '2031-03-10 11:00+00', 'alice',
                          '{"name": "Alice Kowalska"}', null, 'key-1')$q$, :'manicure'),
                 'BK011', null, 'The same key with other booking details is refused');
select throws_ok(format($q$select api.create_booking_atomic(%L, '2031-03-10 11:00+00', 'alice',
                          '{"name": "Alice Nowak"}', %L, 'key-1')$q$, :'manicure', :'bartek'),
                 'BK011', null, 'The same key with another resource is refused');
select is((select count(*)::int from booking.reservations where starts_at = '2031-03-10 12:00+00'), 0,
          'A refused reuse of a key writes no reservation');
select is((select response from booking.idempotency_keys where key = 'key-1'), :'k1'::jsonb,
          'A refused reuse of a key keeps the first result');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 11:00+00', 'alice', '{"name": "Alice Nowak"}',
                                    null, 'key-1'), :'k1'::jsonb,
          'After a refused reuse the first request still replays');

-- The same key from another customer
select api.create_booking_atomic(:'manicure', '2031-03-10 11:00+00', 'bob', '{"name": "Alice Nowak"}',
                                 null, 'key-1') as kb \gset
select is((:'kb'::jsonb)->>'success', 'true', 'The same key from another customer is an independent request');
select isnt((:'kb'::jsonb)->>'booking_id', (:'k1'::jsonb)->>'booking_id',
            'Another customer''s key never replays someone else''s booking');
select is((:'kb'::jsonb)->>'resource_id', :'bartek', 'Another customer''s request is booked on its own');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 13:00+00', 'dave', '{}', null, 'key-1')->>'success',
          'true', 'The same key with another request from a third customer is not an error');

-- A conflict is replayed too
select api.create_booking_atomic(:'manicure', '2031-03-10 14:00+00', 'erin', '{}', :'anna') as e1 \gset
select api.create_booking_atomic(:'manicure', '2031-03-10 14:00+00', 'frank', '{}', :'anna', 'key-c') as c1 \gset
select is((:'c1'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'A keyed booking of a booked time is a conflict');
select api.cancel_booking(((:'e1'::jsonb)->>'booking_id')::uuid) as e1cancel \gset
select is(api.create_booking_atomic(:'manicure', '2031-03-10 14:00+00', 'frank', '{}', :'anna', 'key-c'),
          :'c1'::jsonb, 'The same key and request replay the first conflict, even after the time frees up');
select is((select count(*)::int from booking.conflicts c join booking.customers u on u.id = c.requester_customer_id
           where u.subject = 'frank'), 1, 'A replayed conflict is recorded once');
select is((select count(*)::int from booking.reservations r join booking.customers u on u.id = r.customer_id
           where u.subject = 'frank'), 0, 'A replayed conflict writes no reservation');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 14:00+00', 'frank', '{}', :'anna', 'key-c2')->>'success',
          'true', 'A new key books the freed time');
select is(api.create_booking_atomic(:'manicure', '2031-03-10 15:00+00', 'frank', '{}', :'anna')->>'success', 'true',
          'Without a key every request is new');
select is((select count(*)::int from booking.reservations where idempotency_key = 'key-c2'), 1,
          'A booking stores its idempotency key');

select * from finish();
rollback;
