-- Classes: a resource with a capacity whose seats are units. Availability counts the seats left, a
-- hold or booking takes 1..max_seats seats of one resource (seat 1 first, then up), all or nothing;
-- the last seat goes once; a lapsed seat hold frees its seats at once; release, convert and cancel act
-- on all of a reservation's seats; a reschedule takes its seats afresh; staff see a class's day.
begin;
set local timezone = 'UTC';
select plan(67);

-- Fixtures (UTC): the yoga room has 12 mats, studio B 2; both hold "Yoga" (60 minutes on an hourly
-- grid, at most 4 seats per booking), the room preferred. Pia is a stylist (one seat) doing "Cut".
\set loc    '31000000-0000-4000-8000-000000000001'
\set room   '31100000-0000-4000-8000-000000000001'
\set studio '31100000-0000-4000-8000-000000000002'
\set pia    '31100000-0000-4000-8000-000000000003'
\set yoga   '31200000-0000-4000-8000-000000000001'
\set cut    '31200000-0000-4000-8000-000000000002'
\set ten    '''2031-06-02 10:00+00'''
\set noon   '''2031-06-02 12:00+00'''

select tests.create_location(:'loc', 'Class studio');
select tests.create_staff(:'loc', 'Yoga room', :'room', '{"[06:00,22:00)"}');
select tests.create_staff(:'loc', 'Studio B', :'studio', '{"[06:00,22:00)"}');
select tests.create_staff(:'loc', 'Pia', :'pia');
update booking.resources set kind = 'room', capacity = 12 where id = :'room';
update booking.resources set kind = 'room', capacity = 2 where id = :'studio';
select tests.create_service(:'loc', 'Yoga', '60 minutes', array[:'room', :'studio']::uuid[], :'yoga',
                            p_slot_step => '60 minutes');
update booking.services set max_seats = 4 where id = :'yoga';
select tests.create_service(:'loc', 'Cut', '60 minutes', array[:'pia']::uuid[], :'cut', p_slot_step => '60 minutes');

create function pg_temp.slot(p_service uuid, p_start timestamptz, p_resource uuid default null)
returns table (resource_ids uuid[], seats_left integer) language sql as $$
  select a.resource_ids, a.seats_left from api.get_availability(p_service, '2031-06-02', 1, p_resource) a
  where a.start_time = p_start $$;
create function pg_temp.seats_of(p_id uuid) returns integer[] language sql as $$
  select array_agg(u.seat order by u.seat) from booking.units u where u.reservation_id = p_id $$;
create function pg_temp.statuses_of(p_id uuid) returns text[] language sql as $$
  select array_agg(distinct u.status) from booking.units u where u.reservation_id = p_id $$;
create function pg_temp.live_on(p_id uuid) returns bigint language sql as $$
  select count(*) from booking.units u where u.reservation_id = p_id and u.status in ('held', 'confirmed') $$;

-- (1) Capacity and seats left

select is((select capacity from booking.resources where id = :'room'), 12, 'The yoga room has 12 seats');
select is((select (s.resource_ids, s.seats_left)::text from pg_temp.slot(:'yoga', :ten) s),
          (array[:'room', :'studio']::uuid[], 14)::text,
          'A free session: both rooms, 14 seats left (12 + 2)');
select is((select seats_left from pg_temp.slot(:'cut', :ten)), 1,
          'An appointment with one free stylist: 1 seat left, as before seats');

-- (2) 1..k seats, seat 1 first and then up

select api.create_hold_atomic(null, 'alice', :'yoga', :ten, null, null, 'sess-alice') as h_alice \gset
select is(((:'h_alice'::jsonb)->>'seats')::int, 1, 'A hold without p_seats takes one seat');
select is((:'h_alice'::jsonb)->>'resource_id', :'room', 'on the preferred room');
select is(pg_temp.seats_of(((:'h_alice'::jsonb)->>'hold_id')::uuid), array[1], 'seat 1');

select api.create_hold_atomic(null, 'bob', :'yoga', :ten, null, null, 'sess-bob', p_seats => 3) as h_bob \gset
select is(((:'h_bob'::jsonb)->>'seats')::int, 3, 'A hold of 3 seats says so');
select is(pg_temp.seats_of(((:'h_bob'::jsonb)->>'hold_id')::uuid), array[2, 3, 4], 'and takes the next free seats, 2 to 4');
select is((select (units, seats)::text from booking.reservations where id = ((:'h_bob'::jsonb)->>'hold_id')::uuid),
          (3, 3)::text, 'Its reservation has 3 units and 3 seats');
select is((select seats_left from pg_temp.slot(:'yoga', :ten)), 10, 'Seats left: 14 - 4 = 10');

select api.create_booking_atomic(:'yoga', :ten, 'carol', '{}', p_seats => 4) as b_carol \gset
select is(((:'b_carol'::jsonb)->>'seats')::int, 4, 'A booking of max_seats (4) seats');
select is(pg_temp.seats_of(((:'b_carol'::jsonb)->>'booking_id')::uuid), array[5, 6, 7, 8], 'seats 5 to 8');
select is((api.get_reservation(((:'b_carol'::jsonb)->>'booking_id')::uuid)->>'seats')::int, 4,
          'get_reservation shows the seats');

select api.create_booking_atomic(:'yoga', :ten, 'dave', '{}', p_seats => null) as b_dave \gset
select is(pg_temp.seats_of(((:'b_dave'::jsonb)->>'booking_id')::uuid), array[9], 'p_seats NULL means one seat');

-- (3) max_seats and capacity

select throws_ok(format($q$select api.create_hold_atomic(null, 'eve', %L, %L, null, null, 's', p_seats => 5)$q$,
                        :'yoga', :ten),
                 'BK026', null, 'More seats than max_seats is BK026');
select throws_ok(format($q$select api.create_booking_atomic(%L, %L, 'eve', '{}', p_seats => 0)$q$, :'yoga', :ten),
                 'BK026', null, 'Zero seats is BK026');
select throws_ok(format($q$select api.create_booking_atomic(%L, %L, 'eve', '{}', p_seats => 2)$q$, :'cut', :ten),
                 'BK026', null, 'An appointment (max_seats 1) takes one seat only');
select throws_ok(format($q$select api.create_hold_atomic(null, 'eve', %L, %L, null, null, 's', %L, p_seats => 3)$q$,
                        :'yoga', :ten, :'studio'),
                 'BK027', null, 'Three seats in a room of two is BK027');
select is((select count(*)::int from booking.reservations r join booking.customers c on c.id = r.customer_id
           where c.subject = 'eve'), 0, 'and nothing was written');

-- (4) The last seat

select api.create_booking_atomic(:'yoga', :ten, 'erin', '{}', p_seats => 2) as b_erin \gset
select is(pg_temp.seats_of(((:'b_erin'::jsonb)->>'booking_id')::uuid), array[10, 11], 'Erin takes seats 10 and 11');
select is((select (s.resource_ids, s.seats_left)::text from pg_temp.slot(:'yoga', :ten) s),
          (array[:'room', :'studio']::uuid[], 3)::text, 'One seat left in the room, two in studio B');
select api.create_hold_atomic(null, 'frank', :'yoga', :ten, null, null, 'sess-frank', :'room', p_seats => 2) as h_frank \gset
select is((:'h_frank'::jsonb)->>'success', 'false', 'Two seats where one is left: refused, all or nothing');
select ok((:'h_frank'::jsonb)->>'conflict_type' in ('HOLD_CONFLICT', 'BOOKING_CONFLICT'), 'as a conflict');
select is((select count(*)::int from booking.units u join booking.reservations r on r.id = u.reservation_id
           join booking.customers c on c.id = r.customer_id where c.subject = 'frank'), 0,
          'and no seat of it stays behind');
select ok(not exists (select 1 from jsonb_array_elements((:'h_frank'::jsonb)->'alternatives') a
                      where (a->>'start_time')::timestamptz = :ten and a->>'resource_id' = :'room'),
          'Its alternatives never offer the room at 10:00, where one seat is left');
select ok(jsonb_array_length((:'h_frank'::jsonb)->'alternatives') > 0, 'but other times');
select api.create_hold_atomic(null, 'gina', :'yoga', :ten, null, null, 'sess-gina', :'room') as h_gina \gset
select is(pg_temp.seats_of(((:'h_gina'::jsonb)->>'hold_id')::uuid), array[12], 'The last seat, 12, goes to Gina');
select api.create_hold_atomic(null, 'hank', :'yoga', :ten, null, null, 'sess-hank', :'room') as h_hank \gset
select is((:'h_hank'::jsonb)->>'success', 'false', 'and no one after her gets it');
select ok(not exists (select 1 from jsonb_array_elements((:'h_hank'::jsonb)->'alternatives') a
                      where (a->>'start_time')::timestamptz = :ten and a->>'resource_id' = :'room'),
          'Alternatives for one seat never offer the full room at 10:00');
select is((select (s.resource_ids, s.seats_left)::text from pg_temp.slot(:'yoga', :ten) s),
          (array[:'studio']::uuid[], 2)::text, 'The full room is no longer listed at 10:00');
select is((select count(*)::int from pg_temp.slot(:'yoga', :ten, :'room')), 0,
          'and the room alone has no slot at 10:00');
select api.create_hold_atomic(null, 'hank', :'yoga', :ten, null, null, 'sess-hank2', p_seats => 2) as h_hank2 \gset
select is((:'h_hank2'::jsonb)->>'resource_id', :'studio', 'Two seats of any room: studio B, the room being full');
select is((api.validate_service_availability(:'yoga', '2031-06-02', '10:00'))->>'seats_left', '0',
          'validate_service_availability: no seat left at 10:00');
select is((api.validate_service_availability(:'yoga', '2031-06-02', '11:00'))->>'seats_left', '14',
          'and 14 at 11:00');

-- (5) A lapsed seat hold frees its seats at once

update booking.reservations set expires_at = now() - interval '1 minute' where id = ((:'h_bob'::jsonb)->>'hold_id')::uuid;
select is((select seats_left from pg_temp.slot(:'yoga', :ten, :'room')), 3,
          'Bob''s 3 seats are free as soon as his hold lapses, before any cleanup');
select is((api.get_reservation(((:'h_bob'::jsonb)->>'hold_id')::uuid))->>'status', 'expired', 'His hold reads as expired');
select api.create_hold_atomic(null, 'ivy', :'yoga', :ten, null, null, 'sess-ivy', :'room', p_seats => 3) as h_ivy \gset
select is(pg_temp.seats_of(((:'h_ivy'::jsonb)->>'hold_id')::uuid), array[2, 3, 4], 'Ivy takes the three lapsed seats');
select is((select status from booking.reservations where id = ((:'h_bob'::jsonb)->>'hold_id')::uuid), 'expired',
          'and Bob''s hold is marked expired in passing');
select is(pg_temp.statuses_of(((:'h_bob'::jsonb)->>'hold_id')::uuid), array['expired'], 'all three of its seats');

-- (6) Release, convert and cancel act on every seat

select is(api.release_hold(((:'h_ivy'::jsonb)->>'hold_id')::uuid, 'sess-ivy')->>'status', 'released',
          'Ivy releases her three-seat hold');
select is(pg_temp.statuses_of(((:'h_ivy'::jsonb)->>'hold_id')::uuid), array['released'], 'all three seats are released');
select is((select seats_left from pg_temp.slot(:'yoga', :ten, :'room')), 3, 'and free again');
select api.create_hold_atomic(null, 'jan', :'yoga', :ten, null, null, 'sess-jan', :'room', p_seats => 2) as h_jan \gset
select api.convert_hold_to_booking(((:'h_jan'::jsonb)->>'hold_id')::uuid, 'sess-jan', '{}') as b_jan \gset
select is(((:'b_jan'::jsonb)->>'seats')::int, 2, 'A converted two-seat hold is a two-seat booking');
select is(pg_temp.statuses_of(((:'b_jan'::jsonb)->>'booking_id')::uuid), array['confirmed'], 'both seats confirmed');
select is(pg_temp.seats_of(((:'b_jan'::jsonb)->>'booking_id')::uuid), array[2, 3], 'the same seats');
select is((api.cancel_booking(((:'b_carol'::jsonb)->>'booking_id')::uuid, 'ill'))->>'seats', '4',
          'Carol cancels her four-seat booking');
select is(pg_temp.statuses_of(((:'b_carol'::jsonb)->>'booking_id')::uuid), array['cancelled'], 'all four seats cancelled');
select is((select seats_left from pg_temp.slot(:'yoga', :ten, :'room')), 5, 'and free: 1 + 4 seats left');

select api.create_hold_atomic(null, 'nia', :'yoga', '2031-06-02 16:00+00', null, null, 'sess-nia', :'room',
                              p_seats => 2)->>'hold_id' as h_nia \gset
update booking.reservations set status = 'expired', expires_at = now() - interval '1 minute' where id = :'h_nia';
select is(api.convert_hold_to_booking(:'h_nia', 'sess-nia', '{}')->>'status', 'confirmed',
          'An expired two-seat hold whose seats are still free converts');
select is(pg_temp.statuses_of(:'h_nia'), array['confirmed'], 'with both its seats');
select api.create_hold_atomic(null, 'oli', :'yoga', '2031-06-02 17:00+00', null, null, 'sess-oli', :'room',
                              p_seats => 2)->>'hold_id' as h_oli \gset
update booking.reservations set status = 'expired', expires_at = now() - interval '1 minute' where id = :'h_oli';
select api.create_booking_atomic(:'yoga', '2031-06-02 17:00+00', 'pat', '{}', :'room')->>'booking_id' as b_pat \gset
select is(pg_temp.seats_of(:'b_pat'), array[1], 'Pat books seat 1, which the expired hold no longer holds');
select is(api.convert_hold_to_booking(:'h_oli', 'sess-oli', '{}')->>'success', 'false',
          'then the expired hold cannot convert: one of its seats is taken');
select is((pg_temp.statuses_of(:'h_oli'), pg_temp.live_on(:'b_pat'))::text, (array['expired'], 1)::text,
          'it stays expired, and Pat keeps her seat');

-- (7) A reschedule takes its seats afresh at the new time

select api.create_booking_atomic(:'yoga', :noon, 'kim', '{}', :'room', p_seats => 2) as b_kim \gset
select api.reschedule_booking(((:'b_jan'::jsonb)->>'booking_id')::uuid, :noon) as r_jan \gset
select is((:'r_jan'::jsonb)->>'success', 'true', 'Jan''s two seats move to noon');
select is(pg_temp.seats_of(((:'b_jan'::jsonb)->>'booking_id')::uuid), array[3, 4],
          'where seats 1 and 2 are Kim''s: Jan gets 3 and 4');
select is((select array_agg(distinct lower(u.occupied)) from booking.units u
           where u.reservation_id = ((:'b_jan'::jsonb)->>'booking_id')::uuid), array[:noon::timestamptz],
          'both seats at noon');
select is((select seats_left from pg_temp.slot(:'yoga', :ten, :'room')), 7, 'and 10:00 has two more seats left');
select api.create_booking_atomic(:'yoga', '2031-06-02 14:00+00', 'lea', '{}', :'room', p_seats => 4) as b_lea \gset
select api.create_booking_atomic(:'yoga', '2031-06-02 14:00+00', 'lea', '{}', :'room', p_seats => 4) as b_lea2 \gset
select api.create_booking_atomic(:'yoga', '2031-06-02 14:00+00', 'lea', '{}', :'room', p_seats => 3) as b_lea3 \gset
select api.reschedule_booking(((:'b_jan'::jsonb)->>'booking_id')::uuid, '2031-06-02 14:00+00') as r_jan2 \gset
select is((:'r_jan2'::jsonb)->>'success', 'false', 'Two seats cannot move where one is left');
select is(pg_temp.seats_of(((:'b_jan'::jsonb)->>'booking_id')::uuid), array[3, 4], 'the booking keeps its seats');
select is((select array_agg(distinct lower(u.occupied)) from booking.units u
           where u.reservation_id = ((:'b_jan'::jsonb)->>'booking_id')::uuid), array[:noon::timestamptz],
          'at its time');
select throws_ok(format($q$select api.reschedule_booking(%L, %L, null, %L)$q$,
                        (:'b_lea'::jsonb)->>'booking_id', '2031-06-02 16:00+00', :'studio'),
                 'BK027', null, 'Four seats cannot move to a room of two');
select api.create_booking_atomic(:'yoga', '2031-06-02 14:00+00', 'lea', '{}', :'room');    -- the last seat at 14:00

-- (8) Idempotency counts the seats

select api.create_booking_atomic(:'yoga', '2031-06-02 18:00+00', 'max', '{}', p_idempotency_key => 'k-1',
                                 p_seats => 2) as b_max \gset
select is(api.create_booking_atomic(:'yoga', '2031-06-02 18:00+00', 'max', '{}', p_idempotency_key => 'k-1',
                                    p_seats => 2), :'b_max'::jsonb, 'The same request replays its first answer');
select throws_ok(format($q$select api.create_booking_atomic(%L, '2031-06-02 18:00+00', 'max', '{}',
                                                            p_idempotency_key => 'k-1', p_seats => 3)$q$, :'yoga'),
                 'BK011', null, 'The same key with other seats is another request: BK011');

-- (9) Units stay in step with their reservations

select is((select count(*)::int from booking.reservations r
           where r.location_id = :'loc' and r.seats <> (select count(*) from booking.units u
                                                        where u.reservation_id = r.id and u.pool = 1)),
          0, 'Every reservation has as many main-pool units as seats');

-- (10) The staff day of a class

select tests.authenticate_as('staff', 'desk');
select api.location_schedule(:'loc', '2031-06-02', :'room')->'resources'->0 as day \gset
select tests.clear_authentication();
select is((select array_agg((r->>'seats')::int order by (r->>'start_time')::timestamptz, (r->>'seats')::int)
           from jsonb_array_elements((:'day'::jsonb)->'reservations') r
           where (r->>'start_time')::timestamptz = :ten),
          array[1, 1, 1, 2]::int[],
          'The room''s 10:00 session lists each live reservation once, with its seats (Alice, Dave, Gina, Erin)');
select ok(exists (select 1 from jsonb_array_elements((:'day'::jsonb)->'free') f
                  where (f->>'start_time')::timestamptz <= :ten and (f->>'end_time')::timestamptz >= :ten::timestamptz + interval '1 hour'),
          'A session with seats left is free time in the staff view');
select ok(not exists (select 1 from jsonb_array_elements((:'day'::jsonb)->'free') f
                      where tstzrange((f->>'start_time')::timestamptz, (f->>'end_time')::timestamptz)
                            && tstzrange('2031-06-02 14:00+00', '2031-06-02 15:00+00')),
          'a full session (14:00) is not');

select * from finish();
rollback;
