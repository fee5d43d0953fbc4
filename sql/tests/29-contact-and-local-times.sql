-- Customer details and local times in results.
-- (1) The "contact" object of booking data (name, e-mail, phone), given to api.create_booking_atomic or
--     api.convert_hold_to_booking: validated (BK022, nothing written), normalized, kept on the
--     customer and not in the reservation's details, shown to staff, exported, erased.
-- (2) Every hold and booking result, conflict and alternative, and reservation view carries the
--     location's zone and the wall-clock times there, across the DST changes of Europe/Warsaw in 2031
--     (2031-03-30 spring forward, 2031-10-26 fall back); the result builders stay inlinable.
begin;
set local timezone = 'UTC';
select plan(68);

-- Fixtures: one Warsaw salon; Anna works round the clock, Bea too (for the strategies).
\set loc   'f9000000-0000-4000-8000-000000000001'
\set anna  'f9100000-0000-4000-8000-000000000001'
\set bea   'f9100000-0000-4000-8000-000000000002'
\set cut   'f9200000-0000-4000-8000-000000000001'
\set quick 'f9200000-0000-4000-8000-000000000002'
\set arb   'f9200000-0000-4000-8000-000000000003'
\set cons  'f9200000-0000-4000-8000-000000000004'
select tests.create_location(:'loc', 'Contact salon', 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna', '{"[00:00,24:00)"}');
select tests.create_staff(:'loc', 'Bea', :'bea', '{"[00:00,24:00)"}');
select tests.create_service(:'loc', 'Cut', '60 minutes', array[:'anna']::uuid[], :'cut');
select tests.create_service(:'loc', 'Quick', '30 minutes', array[:'anna']::uuid[], :'quick', p_slot_step => '30 minutes');
select tests.create_service(:'loc', 'Arbitrated', '30 minutes', array[:'bea']::uuid[], :'arb',
                            p_slot_step => '30 minutes', p_conflict_strategy => 'arbitration');
select tests.create_service(:'loc', 'Agreed', '30 minutes', array[:'bea']::uuid[], :'cons',
                            p_slot_step => '30 minutes', p_conflict_strategy => 'consensus');

create function pg_temp.contact(p_subject text) returns jsonb language sql as $$
  select jsonb_build_object('name', c.display_name, 'email', c.email, 'phone', c.phone)
  from booking.customers c where c.subject = p_subject $$;

-- (1) Contact details

select api.create_booking_atomic(:'cut', '2031-05-05 10:00 Europe/Warsaw', 'contact-anna',
  jsonb_build_object('note', 'first visit',
                     'contact', jsonb_build_object('name', E'  Anna\t Maria\n Nowak ', 'email', ' Anna.Nowak@Example.COM ',
                                                   'phone', '+48 (600) 100-200'))) as b1 \gset
select is((:'b1'::jsonb)->>'success', 'true', 'A booking with contact details succeeds');
select is(pg_temp.contact('contact-anna'),
          '{"name": "Anna Maria Nowak", "email": "Anna.Nowak@example.com", "phone": "+48600100200"}'::jsonb,
          'The details are kept on the customer: white space collapsed, the e-mail''s domain in lower case, the phone as digits after +');
select is((select details from booking.reservations where id = ((:'b1'::jsonb)->>'booking_id')::uuid),
          '{"note": "first visit"}'::jsonb, 'The reservation keeps the rest of the booking data, not the contact');
select api.create_booking_atomic(:'cut', '2031-05-05 12:00 Europe/Warsaw', 'contact-anna',
  '{"contact": {"phone": "600.100.201"}}');
select is(pg_temp.contact('contact-anna'),
          '{"name": "Anna Maria Nowak", "email": "Anna.Nowak@example.com", "phone": "600100201"}'::jsonb,
          'A later booking changes the details it gives and keeps the others (a phone without + stays without)');
select ctid as before_ctid from booking.customers where subject = 'contact-anna' \gset
select api.create_booking_atomic(:'cut', '2031-05-05 14:00 Europe/Warsaw', 'contact-anna',
  '{"contact": {"phone": "600 100 201", "email": null}}');
select api.create_booking_atomic(:'cut', '2031-05-05 15:00 Europe/Warsaw', 'contact-anna', '{"contact": {}}');
select api.create_booking_atomic(:'cut', '2031-05-05 16:00 Europe/Warsaw', 'contact-anna', '{"contact": null}');
select is((select ctid::text from booking.customers where subject = 'contact-anna'), :'before_ctid',
          'Details equal to the stored ones, a null detail, an empty or null contact: the customer row is not written');

-- through a hold
select api.create_hold_atomic(null, 'contact-ben', :'cut', '2031-05-06 10:00 Europe/Warsaw', null, null, 'sess-ben')->>'hold_id'
  as ben_hold \gset
select throws_ok(format($q$select api.convert_hold_to_booking(%L, 'sess-ben', '{"contact": {"email": "ben"}}')$q$, :'ben_hold'),
                 'BK022', null, 'Converting with an invalid e-mail is BK022');
select is((select status from booking.reservations where id = :'ben_hold'), 'held', 'and the hold stays a hold');
select is(api.convert_hold_to_booking(:'ben_hold', 'sess-ben',
            '{"note": "window seat", "contact": {"name": "Ben", "email": "ben@example.org"}}')->>'status',
          'confirmed', 'Converting with contact details books');
select is(pg_temp.contact('contact-ben'), '{"name": "Ben", "email": "ben@example.org", "phone": null}'::jsonb,
          'and keeps them on the customer');
select is((select details from booking.reservations where id = :'ben_hold'), '{"note": "window seat"}'::jsonb,
          'The booking data is merged into the details without the contact');

-- a conflict: the details are the customer's all the same (staff may need them to settle it)
select is(api.create_booking_atomic(:'cut', '2031-05-05 10:00 Europe/Warsaw', 'contact-gina',
            '{"contact": {"email": "gina@example.com"}}')->>'success', 'false', 'A booking onto a taken time is a conflict');
select is(pg_temp.contact('contact-gina')->>'email', 'gina@example.com', 'yet the requester''s details are kept');

-- an idempotent repeat answers as the first time
select api.create_booking_atomic(:'cut', '2031-05-07 10:00 Europe/Warsaw', 'contact-ida',
  '{"contact": {"name": "Ida"}}', p_idempotency_key => 'ida-1') as ida1 \gset
select is(api.create_booking_atomic(:'cut', '2031-05-07 10:00 Europe/Warsaw', 'contact-ida',
            '{"contact": {"name": "Ida"}}', p_idempotency_key => 'ida-1'), :'ida1'::jsonb,
          'A repeated idempotent booking with contact details returns the first answer');

-- a customer gives their own details
select tests.authenticate_as('customer', 'contact-cleo');
select is(api.create_booking_atomic('f9200000-0000-4000-8000-000000000001', '2031-05-08 10:00 Europe/Warsaw', 'contact-cleo',
            '{"contact": {"name": "Cleo", "phone": "+1 202 555 0100"}}')->>'success', 'true',
          'A customer books with their own details');
select tests.clear_authentication();
select is(pg_temp.contact('contact-cleo'), '{"name": "Cleo", "email": null, "phone": "+12025550100"}'::jsonb,
          'and they are theirs');

-- validation: BK022, and nothing is written
create function pg_temp.bad_contact(p_contact text) returns text language sql as $$
  select format($q$select api.create_booking_atomic('f9200000-0000-4000-8000-000000000001', '2031-05-09 10:00 Europe/Warsaw',
                                                   'contact-bad', '{"contact": %s}')$q$, p_contact) $$;
select throws_ok(pg_temp.bad_contact(c), 'BK022', null, 'BK022: ' || why)
from (values ('"Anna, 600 100 200"', 'the contact is not an object'),
             ('["Anna"]', 'the contact is an array'),
             ('{"fax": "600100200"}', 'an unknown detail'),
             ('{"name": 42}', 'a detail that is not text'),
             ('{"name": ""}', 'an empty name'),
             ('{"name": "   "}', 'a blank name'),
             ('{"name": "' || repeat('x', 201) || '"}', 'a name over 200 characters'),
             ('{"name": "Anna\u0007"}', 'a name with a control character'),
             ('{"email": "anna"}', 'an e-mail without @'),
             ('{"email": "anna@localhost"}', 'an e-mail without a dot in the domain'),
             ('{"email": "an na@example.com"}', 'an e-mail with a space'),
             ('{"email": "anna@example.com, bob@example.com"}', 'two e-mails'),
             ('{"email": "' || repeat('a', 64) || '@' || repeat('b', 60) || '.' || repeat('c', 60) || '.' || repeat('d', 60) || '.' || repeat('e', 60) || '.com"}',
              'an e-mail over 254 characters'),
             ('{"phone": "call me"}', 'a phone with letters'),
             ('{"phone": "12345"}', 'a phone of 5 digits'),
             ('{"phone": "+1234567890123456"}', 'a phone of 16 digits'),
             ('{"phone": "++48600100200"}', 'a phone with two +'),
             ('{"phone": "600+100+200"}', 'a + inside a phone')) v(c, why);
select is((select count(*)::int from booking.customers where subject = 'contact-bad'), 0,
          'A refused contact writes nothing: no customer, no reservation');
select lives_ok(pg_temp.bad_contact('{"name": "' || repeat('x', 200) || '", "email": "a.b-c+d@sub.example-mail.com", "phone": "123456"}'),
                'A 200-character name, a plus-addressed e-mail on a subdomain and a 6-digit phone are fine');

-- staff see the details; export shows them; erasure removes them
select is(api.search_bookings(:'loc', 'contact-ben')->'bookings'->0->'customer',
          '{"subject": "contact-ben", "name": "Ben", "email": "ben@example.org", "phone": null}'::jsonb,
          'Staff see the details with the booking');
select is((api.export_customer('contact-ben')->'customer') - 'id' - 'created_at' - 'erased_at' - 'priority',
          '{"subject": "contact-ben", "display_name": "Ben", "email": "ben@example.org", "phone": null}'::jsonb,
          'The GDPR export holds the details given with the booking');
select is(api.erase_customer('contact-ben')->>'success', 'true', 'An admin erases the customer');
select is(pg_temp.contact('erased:' || (select id from booking.customers where erased_at is not null and display_name is null
                                         and subject like 'erased:%' and id = (select customer_id from booking.reservations where id = :'ben_hold'))),
          '{"name": null, "email": null, "phone": null}'::jsonb, 'Erasure clears name, e-mail and phone');
select is((api.search_bookings(:'loc', p_from => '2031-05-06', p_to => '2031-05-06')->'bookings'->0->'customer')
            - 'subject',
          '{"name": null, "email": null, "phone": null}'::jsonb, 'and staff see no details any more');
select is((select details from booking.reservations where id = :'ben_hold'), '{}'::jsonb,
          'The booking''s details are emptied too');

-- (2) Local times in results, across the DST changes of 2031

-- spring forward: 01:30 CET + 30 minutes is 03:00 CEST
select api.create_hold_atomic(null, 'local-hana', :'quick', '2031-03-30 01:30 Europe/Warsaw', null, null, 'sess-hana') as h \gset
select is(array(select jsonb_object_keys(:'h'::jsonb) order by 1),
          array['end_local', 'end_time', 'expires_at', 'hold_id', 'resource_id', 'seats', 'start_local', 'start_time',
                'success', 'time_zone', 'version'],
          'A hold result adds time_zone, start_local and end_local to its keys');
select is(jsonb_build_object('time_zone', (:'h'::jsonb)->'time_zone', 'start_local', (:'h'::jsonb)->'start_local',
                             'end_local', (:'h'::jsonb)->'end_local', 'start_time', ((:'h'::jsonb)->>'start_time')::timestamptz),
          jsonb_build_object('time_zone', 'Europe/Warsaw', 'start_local', '2031-03-30T01:30:00', 'end_local', '2031-03-30T03:00:00',
                             'start_time', '2031-03-30 00:30+00'::timestamptz),
          'A hold across the spring-forward gap: 01:30 to 03:00 local, 30 real minutes');
select api.convert_hold_to_booking(((:'h'::jsonb)->>'hold_id')::uuid, 'sess-hana', '{}') as hb \gset
select is(array(select jsonb_object_keys(:'hb'::jsonb) order by 1),
          array['booking_id', 'end_local', 'end_time', 'resource_id', 'seats', 'start_local', 'start_time', 'status',
                'success', 'time_zone', 'version'],
          'A booking result adds time_zone, start_local and end_local to its keys');
select is(array[(:'hb'::jsonb)->>'start_local', (:'hb'::jsonb)->>'end_local', (:'hb'::jsonb)->>'time_zone'],
          array['2031-03-30T01:30:00', '2031-03-30T03:00:00', 'Europe/Warsaw'], 'The converted booking keeps its local times');
select is(api.convert_hold_to_booking(((:'h'::jsonb)->>'hold_id')::uuid, 'sess-hana', '{}'), :'hb'::jsonb,
          'A repeated convert answers the same, local times included');

-- fall back: 02:00 happens twice; a wall-clock 02:00 is the second one (CET)
select api.create_booking_atomic(:'quick', '2031-10-26 01:00+00', 'local-ola', '{}') as fb \gset
select is(array[(:'fb'::jsonb)->>'start_local', (:'fb'::jsonb)->>'end_local'],
          array['2031-10-26T02:00:00', '2031-10-26T02:30:00'], 'A booking at 01:00 UTC on 2031-10-26 is 02:00-02:30 local (CET)');
select api.reschedule_booking(((:'fb'::jsonb)->>'booking_id')::uuid, '2031-10-25 23:30+00') as rs \gset
select is(array[(:'rs'::jsonb)->>'start_local', (:'rs'::jsonb)->>'end_local', (:'rs'::jsonb)->>'time_zone'],
          array['2031-10-26T01:30:00', '2031-10-26T02:00:00', 'Europe/Warsaw'],
          'Rescheduled to 23:30 UTC: 01:30-02:00 local, summer time');
select is(((:'rs'::jsonb)->>'end_time')::timestamptz, '2031-10-26 00:00+00'::timestamptz,
          'whose local end 02:00 (summer time) is an hour before the 02:00 of the booking before (standard time)');
select is(api.reschedule_booking(((:'fb'::jsonb)->>'booking_id')::uuid, '2031-10-25 23:30+00') - 'version', (:'rs'::jsonb) - 'version',
          'Rescheduling to the same time answers with the same local times');
select api.get_reservation(((:'fb'::jsonb)->>'booking_id')::uuid) as view \gset
select is(array[(:'view'::jsonb)->>'time_zone', (:'view'::jsonb)->>'start_local', (:'view'::jsonb)->>'end_local'],
          array['Europe/Warsaw', '2031-10-26T01:30:00', '2031-10-26T02:00:00'], 'get_reservation carries the local times');
select is((select array[r->>'time_zone', r->>'start_local'] from jsonb_array_elements(api.list_customer_reservations('local-ola')) r),
          array['Europe/Warsaw', '2031-10-26T01:30:00'], 'and so does list_customer_reservations');
select api.cancel_booking(((:'fb'::jsonb)->>'booking_id')::uuid, 'local test') as cx \gset
select is(array[(:'cx'::jsonb)->>'status', (:'cx'::jsonb)->>'start_local', (:'cx'::jsonb)->>'time_zone'],
          array['cancelled', '2031-10-26T01:30:00', 'Europe/Warsaw'], 'A cancel result carries the local times');
select is(api.cancel_booking(((:'fb'::jsonb)->>'booking_id')::uuid) , :'cx'::jsonb, 'and a repeated cancel the same');

-- a conflict: the zone, and every alternative with its local times
select api.create_booking_atomic(:'quick', '2031-10-26 01:00+00', 'local-pia', '{}');
select api.create_hold_atomic(null, 'local-rui', :'quick', '2031-10-26 01:00+00', null, null, 'sess-rui') as cf \gset
select is((:'cf'::jsonb)->>'success', 'false', 'A hold on a booked time is a conflict');
select is((:'cf'::jsonb)->>'time_zone', 'Europe/Warsaw', 'The conflict says the location''s zone');
select is(jsonb_array_length((:'cf'::jsonb)->'alternatives'), 5, 'with five alternatives');
select is((select count(*)::int from jsonb_array_elements((:'cf'::jsonb)->'alternatives') a
           where a->>'time_zone' = 'Europe/Warsaw'
             and (a->>'start_local')::timestamp = (a->>'start_time')::timestamptz at time zone 'Europe/Warsaw'
             and (a->>'end_local')::timestamp = (a->>'end_time')::timestamptz at time zone 'Europe/Warsaw'), 5,
          'Every alternative carries its start and end on the location''s clock');
select is(array(select a->>'start_local' from jsonb_array_elements((:'cf'::jsonb)->'alternatives') a),
          array['2031-10-26T02:30:00', '2031-10-26T03:00:00', '2031-10-26T01:30:00', '2031-10-26T03:30:00',
                '2031-10-26T01:00:00'],
          'Nearest in real time to 02:00 standard time: 02:30, 03:00, then 01:30 summer time and 03:30 (90 minutes either side), 01:00');
select is((select count(*)::int from booking.conflicts c, jsonb_array_elements(c.alternatives) a
           where c.id = ((:'cf'::jsonb)->>'conflict_id')::uuid and a ? 'start_local'), 5,
          'The conflict row keeps the alternatives as offered, local times included');

-- strategies that place the attempt elsewhere answer with local times too
select api.create_hold_atomic(null, 'local-sol', :'arb', '2031-10-26 01:00+00', null, null, 'sess-sol');
select api.create_hold_atomic(null, 'local-tom', :'arb', '2031-10-26 01:00+00', null, null, 'sess-tom') as ar \gset
select is(array[(:'ar'::jsonb)->>'outcome', (:'ar'::jsonb)->>'requested_start_local', (:'ar'::jsonb)->>'time_zone'],
          array['nearest_time', '2031-10-26T02:00:00', 'Europe/Warsaw'],
          'Arbitration at the nearest time says the requested start on the location''s clock');
select is(((:'ar'::jsonb)->>'start_local')::timestamp, ((:'ar'::jsonb)->>'start_time')::timestamptz at time zone 'Europe/Warsaw',
          'and where it placed the hold');
select api.create_hold_atomic(null, 'local-uma', :'cons', '2031-03-30 00:30+00', null, null, 'sess-uma');
select api.create_hold_atomic(null, 'local-vic', :'cons', '2031-03-30 00:30+00', null, null, 'sess-vic') as cs \gset
select is(((:'cs'::jsonb)->'offered'->>'start_local')::timestamp,
          ((:'cs'::jsonb)->'offered'->>'start_time')::timestamptz at time zone 'Europe/Warsaw',
          'Consensus offers an alternative with its local time');
select is(array(select k from jsonb_object_keys(api.confirm_conflict(((:'cs'::jsonb)->>'conflict_id')::uuid, true)) k
                where k in ('time_zone', 'start_local', 'end_local') order by k),
          array['end_local', 'start_local', 'time_zone'], 'and accepting it answers with the local times');

-- validate_service_availability
select is(api.validate_service_availability(:'quick', '2031-03-30', '03:00') - 'resource_ids' - 'seats_left',
          jsonb_build_object('available', true, 'reason', null, 'time_zone', 'Europe/Warsaw',
                             'start_time', '2031-03-30 01:00+00'::timestamptz, 'end_time', '2031-03-30 01:30+00'::timestamptz,
                             'start_local', '2031-03-30T03:00:00', 'end_local', '2031-03-30T03:30:00'),
          'validate_service_availability answers with the local times of the start it checked');

-- The result builders stay inlined into their callers (a SET clause, or a lookup inside, would stop that)
create function pg_temp.plan_of(p_sql text) returns text language plpgsql as $$
declare
  v_line text;
  v_plan text := '';
begin
  for v_line in execute 'explain (verbose, costs off) ' || p_sql loop
    v_plan := v_plan || v_line || E'\n';
  end loop;
  return v_plan;
end $$;
select unalike(pg_temp.plan_of('select booking.taken_result(r, ''UTC'') from booking.reservations r'), '%_result%',
              'taken_result and the reservation_result inside it are inlined: the plan shows their expressions');
select unalike(pg_temp.plan_of('select booking.local_span(r.starts_at, r.ends_at, ''UTC'') from booking.reservations r'),
              '%local_span%', 'local_span is inlined');
select alike(pg_temp.plan_of('select booking.location_zone(r.location_id) from booking.reservations r'), '%location_zone%',
            'while a function that is not inlined shows in the plan by name');

select * from finish();
rollback;
