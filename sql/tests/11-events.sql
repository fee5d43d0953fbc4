-- Events: every change to a reservation or a conflict appends one row to the outbox, in order,
-- on the location's local day, with no personal data.
begin;
set local timezone = 'UTC';
select plan(28);

-- Fixtures: one location in Warsaw; Anna (preferred) and Bartek do manicures, every day 00:00-02:00 and
-- 09:00-17:00 local time.
\set loc      '10000000-0000-0000-0000-000000000001'
\set anna     '20000000-0000-0000-0000-000000000001'
\set bartek   '20000000-0000-0000-0000-000000000002'
\set manicure '30000000-0000-0000-0000-000000000001'

select tests.create_location(:'loc', p_time_zone => 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna', '{"[00:00,02:00)", "[09:00,17:00)"}');
select tests.create_staff(:'loc', 'Bartek', :'bartek', '{"[00:00,02:00)", "[09:00,17:00)"}');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure');

-- Deferred event triggers fire at the end of each statement from here on, as they would at commit.
set constraints all immediate;
select ok(exists (select 1 from booking.events where location_id = :'loc' and type = 'catalogue:changed'),
          'Loading a catalogue writes a catalogue:changed event');
select is((select count(*)::int from booking.events where location_id = :'loc' and type = 'catalogue:changed'), 1,
          'A whole catalogue load writes one catalogue:changed event per location');
select coalesce(max(id), 0) as e0 from booking.events \gset

-- Hold and convert, just after local midnight (still the previous day in UTC)
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-11 00:30+01', '2031-03-11 01:30+01',
                              null, 'sess-alice')->>'hold_id' as h1 \gset
select results_eq(
  format($q$select type, resource_id, service_id, day, (select subject from booking.customers c where c.id = e.customer_id)
            from booking.events e where reservation_id = %L$q$, :'h1'),
  format($q$values ('hold:created'::text, %L::uuid, %L::uuid, '2031-03-11'::date, 'alice'::text)$q$, :'anna', :'manicure'),
  'A new hold writes hold:created with its resource, service, customer and local day');
select is((select day from booking.events where reservation_id = :'h1'), '2031-03-11'::date,
          'The event day is the local date, not the UTC date (2031-03-10)');
select is((select payload->>'status' from booking.events where reservation_id = :'h1'), 'held',
          'The hold:created payload says held');

select api.convert_hold_to_booking(:'h1', 'sess-alice',
  '{"name": "Zofia Szymańska", "phone": "+48 600 700 800", "email": "zofia@example.com"}') as b1 \gset
select results_eq(
  format($q$select type, payload->>'status', (payload->>'version')::bigint from booking.events
            where reservation_id = %L order by id$q$, :'h1'),
  $q$values ('hold:created'::text, 'held'::text, 1::bigint), ('booking:confirmed', 'confirmed', 2)$q$,
  'Converting a hold writes booking:confirmed after hold:created');
select is(api.availability_version(:'manicure', '2031-03-11'),
          (select max(id) from booking.events where reservation_id = :'h1'),
          'The availability version of the day is the newest event that touched it');

-- Release
select api.create_hold_atomic(null, 'bob', :'manicure', '2031-03-11 10:00+01', '2031-03-11 11:00+01',
                              null, 'sess-bob')->>'hold_id' as h2 \gset
select api.release_hold(:'h2', 'sess-bob') as r2 \gset
select api.release_hold(:'h2', 'sess-bob') as r2again \gset
select is(array(select type from booking.events where reservation_id = :'h2' order by id),
          array['hold:created', 'hold:released'], 'Releasing writes hold:released once, even when released twice');

-- Expiry
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-11 11:00+01', '2031-03-11 12:00+01',
                              null, 'sess-carol')->>'hold_id' as h3 \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h3';
select is((select count(*)::int from booking.events where reservation_id = :'h3'), 1,
          'Moving expires_at alone writes no event');
select ok(api.cleanup_expired_holds() >= 1, 'Cleanup expires the lapsed hold');
select is(array(select type from booking.events where reservation_id = :'h3' order by id),
          array['hold:created', 'hold:expired'], 'An expired hold writes hold:expired');
select api.create_hold_atomic(null, 'carol', :'manicure', '2031-03-11 12:00+01', '2031-03-11 13:00+01',
                              null, 'sess-carol', :'bartek')->>'hold_id' as h3b \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'h3b';
select api.create_booking_atomic(:'manicure', '2031-03-11 12:00+01', 'carol', '{}', :'bartek')->>'booking_id' as b3b \gset
select is(array(select type from booking.events where reservation_id = :'h3b' order by id),
          array['hold:created', 'hold:expired'], 'A lapsed hold taken over by a booking writes hold:expired');

-- Cancel
select api.create_booking_atomic(:'manicure', '2031-03-11 12:00+01', 'dave', '{"name": "Zofia Szymańska"}')->>'booking_id' as b4 \gset
select api.cancel_booking(:'b4', 'ill') as c4 \gset
select is(array(select type from booking.events where reservation_id = :'b4' order by id),
          array['booking:confirmed', 'booking:cancelled'], 'A direct booking writes booking:confirmed, a cancel booking:cancelled');

-- Reschedule
select api.create_booking_atomic(:'manicure', '2031-03-11 13:00+01', 'erin', '{}', :'anna')->>'booking_id' as b5 \gset
select api.reschedule_booking(:'b5', '2031-03-11 14:00+01') as m5 \gset
select results_eq(
  format($q$select type, (payload->>'start_time')::timestamptz, (payload#>>'{previous,start_time}')::timestamptz
            from booking.events where reservation_id = %L order by id$q$, :'b5'),
  $q$values ('booking:confirmed'::text, '2031-03-11 13:00+01'::timestamptz, null::timestamptz),
            ('booking:rescheduled', '2031-03-11 14:00+01', '2031-03-11 13:00+01')$q$,
  'A move writes booking:rescheduled with the new and the previous time');

-- Conflict
select api.create_hold_atomic(null, 'frank', :'manicure', '2031-03-11 14:00+01', '2031-03-11 15:00+01',
                              null, 'sess-frank', :'anna') as c6 \gset
select results_eq(
  format($q$select type, payload->>'conflict_id', payload->>'conflict_type', day,
                   (select subject from booking.customers c where c.id = e.customer_id)
            from booking.events e where type = 'conflict:detected'$q$),
  format($q$values ('conflict:detected'::text, %L::text, 'BOOKING_CONFLICT'::text, '2031-03-11'::date, 'frank'::text)
         $q$, (:'c6'::jsonb)->>'conflict_id'),
  'A conflict writes conflict:detected for the requester, naming the conflict');

-- Reschedule to another resource: the old resource's availability changes too
select api.reschedule_booking(:'b5', '2031-03-11 14:00+01', null, :'bartek') as m5b \gset
select results_eq(
  format($q$select type, resource_id from booking.events where reservation_id = %L and id > %s order by id$q$,
         :'b5', (select max(id) from booking.events where type = 'conflict:detected')),
  format($q$values ('booking:rescheduled'::text, %L::uuid), ('availability:updated', %L::uuid)$q$, :'bartek', :'anna'),
  'A move to another resource writes booking:rescheduled and availability:updated for the old resource');

-- Version conflicts are events too
select api.availability_version(:'manicure', '2031-03-12') as otherday \gset
select api.availability_version(:'manicure', '2031-03-11') as sameday \gset
select api.cancel_booking(:'b5', null, 1) as v5 \gset
select is(api.availability_version(:'manicure', '2031-03-11'), :sameday::bigint,
          'A conflict changes nothing, so it does not change the availability version of its own day');
select results_eq(
  $q$select day, resource_id from booking.events where type = 'conflict:detected'
     and payload->>'conflict_type' = 'VERSION_CONFLICT'$q$,
  format($q$values ('2031-03-11'::date, %L::uuid)$q$, :'bartek'),
  'A version conflict writes conflict:detected on the booking''s day and resource');
select is(api.availability_version(:'manicure', '2031-03-12'), :otherday::bigint,
          'A version conflict does not change the availability version of other days');

-- Order and content of the whole log
select is(array(select type from booking.events where id > :e0 order by id),
          array['hold:created', 'booking:confirmed',
                'hold:created', 'hold:released',
                'hold:created', 'hold:expired',
                'hold:created', 'hold:expired', 'booking:confirmed',
                'booking:confirmed', 'booking:cancelled',
                'booking:confirmed', 'booking:rescheduled',
                'conflict:detected',
                'booking:rescheduled', 'availability:updated',
                'conflict:detected'],
          'Event ids increase in the order the changes happened');
select is((select count(distinct id)::int from booking.events where id > :e0),
          (select count(*)::int from booking.events where id > :e0), 'Event ids are unique');
select ok((select bool_and(txid = pg_current_xact_id()) from booking.events where id > :e0),
          'Each event records the transaction that wrote it');
select ok((select bool_and(location_id = :'loc') from booking.events where id > :e0), 'Each event names its location');
select ok((select bool_and(day is not null) from booking.events where id > :e0),
          'Every reservation and conflict event has a day');
select ok(not exists (select 1 from booking.events where payload::text ilike any (array[
            '%Zofia%', '%Szyma%', '%600 700%', '%example.com%'])),
          'Booking details never reach an event payload');
select ok(not exists (select 1 from booking.events e join booking.customers c on e.payload::text like '%' || c.subject || '%'
                      where c.subject in ('alice', 'bob', 'carol', 'dave', 'erin', 'frank')),
          'Customer subjects never reach an event payload');
select ok((select bool_and(not (payload ? 'details') and not (payload ? 'customer_id') and not (payload ? 'cancel_reason'))
           from booking.events where id > :e0), 'Payloads carry no details, customer or cancel reason');
select ok((select bool_and(jsonb_typeof(payload) = 'object' and length(payload::text) < 1000)
           from booking.events where id > :e0), 'Payloads are small JSON objects');

select * from finish();
rollback;
