-- Holds: api.create_hold_atomic — the success shape, the TTL, conflicts with alternatives, "any staff",
-- buffers and bookings in the way.
begin;
set local timezone = 'UTC';
select plan(48);

-- Fixtures: one location in UTC; Anna (preferred) and Bartek do manicures, Cezary does massages with a
-- 15-minute buffer after, Dorota works nights only. Everyone works every day.
\set loc    '10000000-0000-0000-0000-000000000001'
\set anna   '20000000-0000-0000-0000-000000000001'
\set bartek '20000000-0000-0000-0000-000000000002'
\set cezary '20000000-0000-0000-0000-000000000003'
\set dorota '20000000-0000-0000-0000-000000000004'
\set manicure '30000000-0000-0000-0000-000000000001'
\set massage  '30000000-0000-0000-0000-000000000002'
\set latecut  '30000000-0000-0000-0000-000000000003'

select tests.create_location(:'loc');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_staff(:'loc', 'Cezary', :'cezary');
select tests.create_staff(:'loc', 'Dorota', :'dorota', '{"[00:00,02:00)", "[22:00,24:00)"}');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure',
                            p_hold_ttl => '10 minutes');
select tests.create_service(:'loc', 'Massage', '60 minutes', array[:'cezary']::uuid[], :'massage',
                            p_buffer_after => '15 minutes');
select tests.create_service(:'loc', 'Late cut', '60 minutes', array[:'dorota']::uuid[], :'latecut');

-- A first hold, any staff
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-alice') as h1 \gset

select is((:'h1'::jsonb)->>'success', 'true', 'A hold on a free slot succeeds');
select is(array(select jsonb_object_keys(:'h1'::jsonb) order by 1),
          array['end_local', 'end_time', 'expires_at', 'hold_id', 'resource_id', 'seats', 'start_local', 'start_time',
                'success', 'time_zone', 'version'],
          'A successful hold returns success, hold_id, resource_id, start_time, end_time, expires_at, version, seats, time_zone, start_local and end_local');
select is((:'h1'::jsonb)->>'resource_id', :'anna', 'Any staff takes the preferred resource first');
select is(((:'h1'::jsonb)->>'start_time')::timestamptz, '2031-03-10 10:00+00'::timestamptz,
          'The hold starts at the requested time');
select is(((:'h1'::jsonb)->>'end_time')::timestamptz, '2031-03-10 11:00+00'::timestamptz,
          'The hold ends one service duration later');
select is(((:'h1'::jsonb)->>'expires_at')::timestamptz, now() + interval '10 minutes',
          'A NULL expires_at means the service''s hold TTL');
select is(((:'h1'::jsonb)->>'version')::bigint, 1::bigint, 'A new hold is at version 1');
select results_eq(
  format($q$select status, resource_id, session_id, slot_id, expires_at from booking.reservations where id = %L$q$,
         (:'h1'::jsonb)->>'hold_id'),
  format($q$values ('held'::text, %L::uuid, 'sess-alice'::text, %L::text, now() + interval '10 minutes')$q$,
         :'anna', :'manicure' || '@2031-03-10T10:00:00Z'),
  'The hold is one held row in the ledger with its session and canonical slot id');

-- Any staff: the preferred is held, the second eligible resource is taken
select api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-bob') as h2 \gset
select is((:'h2'::jsonb)->>'success', 'true', 'Any staff is not a conflict while another eligible resource is free');
select is((:'h2'::jsonb)->>'resource_id', :'bartek', 'Any staff takes the second eligible resource when the first is held');
select is((select count(*)::int from booking.conflicts where service_id = :'manicure'), 0,
          'Losing the preferred resource to a hold records no conflict');

-- Every eligible resource is taken
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-carol') as c1 \gset
select is((:'c1'::jsonb)->>'success', 'false', 'Any staff reports a conflict when every eligible resource is held');
select is((:'c1'::jsonb)->>'conflict_type', 'HOLD_CONFLICT', 'A slot held by others is a HOLD_CONFLICT');
select ok((:'c1'::jsonb) ?& array['conflict_id', 'conflict_type', 'conflict_reason', 'suggested_action',
                                  'requires_retry', 'alternatives'],
          'A conflict carries conflict_id, conflict_type, conflict_reason, suggested_action, requires_retry and alternatives');
select ok(length((:'c1'::jsonb)->>'conflict_reason') > 0 and length((:'c1'::jsonb)->>'suggested_action') > 0,
          'A conflict says why and what to do');
select is((:'c1'::jsonb)->'requires_retry', 'true'::jsonb, 'A hold conflict may be retried (the hold may lapse)');
select results_eq(
  format($q$select conflict_type, operation, holder_reservation_id, requested_start from booking.conflicts where id = %L$q$,
         (:'c1'::jsonb)->>'conflict_id'),
  format($q$values ('HOLD_CONFLICT'::text, 'create_hold'::text, %L::uuid, '2031-03-10 10:00+00'::timestamptz)$q$,
         (:'h1'::jsonb)->>'hold_id'),
  'The conflict is recorded in booking.conflicts with the holder and the requested time');
select is(array(select (a->>'start_time')::timestamptz from jsonb_array_elements((:'c1'::jsonb)->'alternatives') a),
          array['2031-03-10 09:00+00', '2031-03-10 11:00+00', '2031-03-10 11:15+00', '2031-03-10 11:30+00',
                '2031-03-10 11:45+00']::timestamptz[],
          'Five alternatives come back, nearest first');
select is(array(select distinct a->>'resource_id' from jsonb_array_elements((:'c1'::jsonb)->'alternatives') a),
          array[:'anna'], 'Any staff is offered the preferred resource where it is free');
select ok((select bool_and(a ?& array['slot_id', 'start_time', 'end_time', 'resource_id']
                           and a->>'slot_id' = :'manicure' || '@' || to_char((a->>'start_time')::timestamptz, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
           from jsonb_array_elements((:'c1'::jsonb)->'alternatives') a),
          'Each alternative has slot_id, start_time, end_time and resource_id');

-- A named resource: its alternatives prefer it
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                              null, 'sess-carol', :'bartek') as c2 \gset
select is((:'c2'::jsonb)->>'conflict_type', 'HOLD_CONFLICT', 'A hold on a named, held resource is a HOLD_CONFLICT');
select is(array(select distinct a->>'resource_id' from jsonb_array_elements((:'c2'::jsonb)->'alternatives') a),
          array[:'bartek'], 'Alternatives prefer the requested resource over the service''s preferred one');
select is((select count(*)::int from booking.conflicts c join booking.customers u on u.id = c.requester_customer_id
           where u.subject = 'carol'), 2, 'Every conflict is recorded although the action failed');
select is((select count(*)::int from booking.reservations where starts_at = '2031-03-10 10:00+00'), 2,
          'A refused hold writes no reservation');

-- The same minute, the same resource
select is(api.create_hold_atomic(null, 'dave', :'manicure', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                                 null, 'sess-dave', :'anna')->>'success', 'false',
          'A second hold on the same minute is refused');
select is(api.create_hold_atomic(null, 'dave', :'manicure', '2031-03-10 10:30+00', '2031-03-10 11:30+00',
                                 null, 'sess-dave', :'anna')->>'conflict_type', 'HOLD_CONFLICT',
          'A hold overlapping another by half an hour is refused');

-- Same day first
select api.create_hold_atomic(null, 'alice', :'latecut', '2031-03-10 23:00+00', '2031-03-11 00:00+00',
                              null, 'sess-alice') as n1 \gset
select api.create_hold_atomic(null, 'bob', :'latecut', '2031-03-10 23:00+00', '2031-03-11 00:00+00',
                              null, 'sess-bob') as n2 \gset
select is((:'n1'::jsonb)->>'success', 'true', 'A hold ending at midnight succeeds');
select is(array(select (a->>'start_time')::timestamptz from jsonb_array_elements((:'n2'::jsonb)->'alternatives') a),
          array['2031-03-10 22:00+00', '2031-03-10 01:00+00', '2031-03-10 00:45+00', '2031-03-10 00:30+00',
                '2031-03-10 00:15+00']::timestamptz[],
          'Alternatives on the same day come before a nearer slot on the next day');

-- Expiry: clamped to the TTL
select is((api.create_hold_atomic(null, 'erin', :'manicure', '2031-03-10 14:00+00', '2031-03-10 15:00+00',
                                  now() + interval '2 hours', 'sess-erin')->>'expires_at')::timestamptz,
          now() + interval '10 minutes', 'An expires_at beyond the hold TTL is clamped to the TTL');
select is((api.create_hold_atomic(null, 'erin', :'manicure', '2031-03-10 15:00+00', '2031-03-10 16:00+00',
                                  now() + interval '5 minutes', 'sess-erin')->>'expires_at')::timestamptz,
          now() + interval '5 minutes', 'An expires_at within the hold TTL is kept');
select throws_ok(format($q$select api.create_hold_atomic(null, 'erin', %L, '2031-03-10 16:00+00',
                          '2031-03-10 17:00+00', now() - interval '1 second', 'sess-erin')$q$, :'manicure'),
                 'BK007', null, 'An expires_at in the past is refused');

-- Buffers
select is(api.create_hold_atomic(null, 'alice', :'massage', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                                 null, 'sess-alice')->>'success', 'true', 'A massage with a buffer after can be held');
select api.create_hold_atomic(null, 'bob', :'massage', '2031-03-10 11:00+00', '2031-03-10 12:00+00',
                              null, 'sess-bob') as b1 \gset
select is((:'b1'::jsonb)->>'success', 'false', 'A hold overlapping another only through its buffer is refused');
select is((:'b1'::jsonb)->>'conflict_type', 'HOLD_CONFLICT', 'A refusal through a buffer is a HOLD_CONFLICT');
select is(api.create_hold_atomic(null, 'bob', :'massage', '2031-03-10 11:15+00', '2031-03-10 12:15+00',
                                 null, 'sess-bob')->>'success', 'true', 'A hold right after the buffer succeeds');

-- A confirmed booking in the way
select api.create_booking_atomic(:'manicure', '2031-03-11 12:00+00', 'frank', '{}', :'anna') as bk \gset
select api.create_hold_atomic(null, 'gina', :'manicure', '2031-03-11 12:00+00', '2031-03-11 13:00+00',
                              null, 'sess-gina', :'anna') as c3 \gset
select is((:'c3'::jsonb)->>'success', 'false', 'A hold on a booked time is refused');
select is((:'c3'::jsonb)->>'conflict_type', 'BOOKING_CONFLICT', 'A booking in the way is a BOOKING_CONFLICT');
select is((:'c3'::jsonb)->'requires_retry', 'false'::jsonb, 'A booking conflict is not worth retrying');
select is((select holder_reservation_id::text from booking.conflicts where id = ((:'c3'::jsonb)->>'conflict_id')::uuid),
          (:'bk'::jsonb)->>'booking_id', 'The recorded booking conflict names the booking in the way');
select is(api.create_hold_atomic(null, 'gina', :'manicure', '2031-03-11 12:00+00', '2031-03-11 13:00+00',
                                 null, 'sess-gina')->>'resource_id', :'bartek',
          'Any staff passes a booked preferred resource');

-- Invalid requests
select throws_ok(format($q$select api.create_hold_atomic(null, 'hana', %L, '2031-03-10 12:00+00',
                          '2031-03-10 12:30+00', null, 'sess-hana')$q$, :'manicure'),
                 'BK006', null, 'A hold of the wrong length is refused');
select throws_ok(format($q$select api.create_hold_atomic(null, 'hana', %L, '2031-03-10 12:00+00',
                          '2031-03-10 13:00+00', null, 'sess-hana', %L)$q$, :'manicure', :'cezary'),
                 'BK012', null, 'A hold on a resource that does not perform the service is refused');
select throws_ok(format($q$select api.create_hold_atomic(null, 'hana', %L, '2031-03-10 17:00+00',
                          '2031-03-10 18:00+00', null, 'sess-hana')$q$, :'manicure'),
                 'BK003', null, 'A hold outside working hours is refused');
select throws_ok(format($q$select api.create_hold_atomic(null, 'hana', %L, '2031-03-10 12:00+00',
                          '2031-03-10 13:00+00', null, null)$q$, :'manicure'),
                 'BK014', null, 'A hold needs a session');
select throws_ok(format($q$select api.create_hold_atomic(null, 'hana', %L, now() - interval '1 day',
                          now() - interval '23 hours', null, 'sess-hana')$q$, :'manicure'),
                 'BK004', null, 'A hold in the past is refused');

-- A slot id, when given, must name this service at this start
select throws_ok(format($q$select api.create_hold_atomic(%L, 'hana', %L, '2031-03-10 12:00+00',
                          null, null, 'sess-hana')$q$, :'manicure' || '@2031-03-11T12:00:00Z', :'manicure'),
                 'BK014', null, 'A slot id naming another day is refused');
select throws_ok(format($q$select api.create_hold_atomic(%L, 'hana', %L, '2031-03-10 12:00+00',
                          null, null, 'sess-hana')$q$, 'some-slot', :'manicure'),
                 'BK014', null, 'A slot id that is not a slot id is refused');
select api.create_hold_atomic(:'manicure' || '@2031-03-14T09:00:00Z', 'hana', :'manicure', '2031-03-14 09:00+00',
                              null, null, 'sess-hana')->>'hold_id' as hana_hold \gset
select is((select slot_id from booking.reservations where id = :'hana_hold'),
          :'manicure' || '@2031-03-14T09:00:00Z', 'The slot id get_availability gave is accepted and stored');

select * from finish();
rollback;
