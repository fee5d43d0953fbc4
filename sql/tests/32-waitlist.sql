-- Waiting lists: join a taken slot, see your place, leave; freed time is offered to the first eligible
-- waiter in the same transaction, as a hold that converts like any other; declined and lapsed offers
-- pass to the next in line.
begin;
set local timezone = 'UTC';
select plan(80);

-- Fixtures: one location in UTC with a cap of 3 live holds per customer. Anna alone does manicures;
-- Anna (preferred) and Bartek do pedicures; "Grab" is a manicure by Anna under last_wins; a yoga
-- room seats three, and a yoga class there may be booked for two at once. Everyone works 09-17.
\set loc      '32000000-0000-4000-8000-000000000001'
\set anna     '32100000-0000-4000-8000-000000000001'
\set bartek   '32100000-0000-4000-8000-000000000002'
\set room     '32100000-0000-4000-8000-000000000003'
\set manicure '32200000-0000-4000-8000-000000000001'
\set pedicure '32200000-0000-4000-8000-000000000002'
\set grab     '32200000-0000-4000-8000-000000000003'
\set yoga     '32200000-0000-4000-8000-000000000004'

select tests.create_location(:'loc', 'Waiting studio');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_staff(:'loc', 'Yoga room', :'room');
update booking.resources set kind = 'room', capacity = 3 where id = :'room';
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna']::uuid[], :'manicure');
select tests.create_service(:'loc', 'Pedicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'pedicure');
select tests.create_service(:'loc', 'Grab', '60 minutes', array[:'anna']::uuid[], :'grab',
                            p_conflict_strategy => 'last_wins');
select tests.create_service(:'loc', 'Yoga', '60 minutes', array[:'room']::uuid[], :'yoga');
update booking.services set max_seats = 2 where id = :'yoga';

-- Deferred event triggers fire at the end of each statement from here on, as they would at commit.
set constraints all immediate;

create function pg_temp.entry(p_id text) returns booking.waitlist_entries language sql as $$
  select * from booking.waitlist_entries where id = p_id::uuid $$;
create function pg_temp.join(p_user text, p_service uuid, p_start timestamptz, p_resource uuid default null,
                             p_seats int default 1) returns jsonb language sql as $$
  select api.join_waitlist(p_user, p_service, p_start, p_resource, p_seats) $$;
create function pg_temp.book(p_user text, p_service uuid, p_start timestamptz) returns uuid language sql as $$
  select (api.create_booking_atomic(p_service, p_start, p_user, '{}')->>'booking_id')::uuid $$;
create function pg_temp.hold(p_user text, p_service uuid, p_start timestamptz) returns uuid language sql as $$
  select (api.create_hold_atomic(null, p_user, p_service, p_start, null, null, 'sess-' || p_user)->>'hold_id')::uuid $$;
create function pg_temp.lapse(p_hold uuid) returns void language sql as $$
  update booking.reservations set expires_at = now() - interval '1 minute' where id = p_hold;
  update booking.waitlist_entries set offer_expires_at = now() - interval '1 minute' where offer_hold_id = p_hold $$;

-- (a) Joining a taken slot: in line by join time, position visible, joining twice is the same entry
select pg_temp.book('bob', :'manicure', '2031-05-05 10:00+00') as b10 \gset
select pg_temp.join('alice', :'manicure', '2031-05-05 10:00+00') as j_alice \gset
select is((:'j_alice'::jsonb)->>'status', 'waiting', 'A customer joins the waiting list of a booked slot');
select is((:'j_alice'::jsonb)->'position', '1'::jsonb, 'The first to join is first in line');
select is((:'j_alice'::jsonb)->'created', 'true'::jsonb, 'The join says it created the entry');
select is((:'j_alice'::jsonb)->>'start_local', '2031-05-05T10:00:00', 'The entry shows its slot on the location''s clock');
select (:'j_alice'::jsonb)->>'entry_id' as alice \gset
select pg_temp.join('carol', :'manicure', '2031-05-05 10:00+00')->>'entry_id' as carol \gset
select is(api.get_waitlist_entry(:'carol')->'position', '2'::jsonb, 'The second to join is second');
select is(pg_temp.join('alice', :'manicure', '2031-05-05 10:00+00')->>'entry_id', :'alice',
          'Joining again with the same wish returns the same entry');
select is(pg_temp.join('alice', :'manicure', '2031-05-05 10:00+00')->'created', 'false'::jsonb,
          'and says it created nothing');
select throws_ok(format('select api.join_waitlist(%L, %L, %L, %L)', 'alice', :'manicure', '2031-05-05 10:00+00', :'anna'),
                 'BK031', null, 'Joining the same slot with another resource wish is BK031');
select tests.authenticate_as('customer', 'mallory');
select throws_ok(format('select api.join_waitlist(%L, %L, %L)', 'alice', :'manicure', '2031-05-05 10:00+00'),
                 'BK015', null, 'A customer cannot put someone else on a list');
select throws_ok(format('select api.get_waitlist_entry(%L)', :'alice'), 'BK029', null,
                 'A customer cannot see someone else''s entry (BK029, as if it did not exist)');
select tests.clear_authentication();
select throws_ok(format('select api.join_waitlist(%L, %L, %L)', 'alice', :'manicure', '2020-05-05 10:00+00'),
                 'BK004', null, 'A start in the past cannot be waited for');
select throws_ok(format('select api.decline_offer(%L)', :'alice'), 'BK030', null,
                 'A waiting entry has no offer to decline (BK030)');
select throws_ok(format('select api.join_waitlist(%L, %L, %L, null, 2)', 'alice', :'manicure', '2031-05-05 11:00+00'),
                 'BK026', null, 'Seats beyond the service''s max_seats are BK026, as for a hold');
select is(api.join_waitlist('alice', :'manicure', '2031-05-05 10:00+00', null, null)->'created', 'false'::jsonb,
          'NULL seats mean one, as for a hold: the same wish as the entry alice has');

-- (b) A cancel offers the time to the first in line, in the same transaction
select api.cancel_booking(:'b10');
select is((pg_temp.entry(:'alice')).status, 'offered', 'Cancelling the booking offers the slot to the first in line');
select (pg_temp.entry(:'alice')).offer_hold_id as alice_hold \gset
select results_eq(format($q$select r.status, c.subject, r.session_id, r.resource_id, r.starts_at, r.expires_at
                            from booking.reservations r join booking.customers c on c.id = r.customer_id where r.id = %L$q$,
                         :'alice_hold'),
                  format($q$values ('held'::text, 'alice'::text, %L::text, %L::uuid, '2031-05-05 10:00+00'::timestamptz,
                                    now() + interval '10 minutes')$q$, 'waitlist:' || :'alice', :'anna'),
                  'The offer is a hold for the waiter, session waitlist:<entry id>, with the service''s hold TTL');
select is(api.get_waitlist_entry(:'alice')->'offer'->>'hold_id', :'alice_hold', 'The entry shows its offer''s hold');
select is(api.get_waitlist_entry(:'alice')->'position', 'null'::jsonb, 'An offered entry has no position');
select is((pg_temp.entry(:'carol')).status, 'waiting', 'The second in line still waits');
select is(api.get_waitlist_entry(:'carol')->'position', '1'::jsonb, 'and is now first');
select results_eq(format($q$select type, booking.event_topics(e), payload->>'hold_id', payload->>'session_id'
                            from booking.events e where type = 'waitlist:offered' and payload->>'entry_id' = %L$q$, :'alice'),
                  format($q$values ('waitlist:offered'::text, array['user:alice'], %L::text, %L::text)$q$,
                         :'alice_hold', 'waitlist:' || :'alice'),
                  'waitlist:offered goes to the waiter''s own topic only, with the hold and its session');
select is(api.convert_hold_to_booking(:'alice_hold', 'waitlist:' || :'alice', '{}')->>'status', 'confirmed',
          'The offer converts like any hold, with its session');
select results_eq(format($q$select status, end_reason, ended_at is not null from booking.waitlist_entries where id = %L$q$, :'alice'),
                  $q$values ('accepted'::text, 'converted'::text, true)$q$,
                  'A converted offer makes the entry accepted');
select is((select count(*)::int from booking.events where type = 'waitlist:accepted' and payload->>'entry_id' = :'alice'), 1,
          'and says so on the waiter''s topic');

-- (c) Release passes on; decline passes on; a lapsed offer passes on
select pg_temp.hold('dave', :'manicure', '2031-05-05 11:00+00') as d11 \gset
select pg_temp.join('erin', :'manicure', '2031-05-05 11:00+00')->>'entry_id' as erin \gset
select pg_temp.join('frank', :'manicure', '2031-05-05 11:00+00')->>'entry_id' as frank \gset
select pg_temp.join('gina', :'manicure', '2031-05-05 11:00+00')->>'entry_id' as gina \gset
select api.release_hold(:'d11', 'sess-dave');
select is((pg_temp.entry(:'erin')).status, 'offered', 'Releasing a hold offers its time to the first in line');
select is(api.decline_offer(:'erin')->>'status', 'declined', 'The waiter declines the offer');
select is((select status from booking.reservations where id = (pg_temp.entry(:'erin')).offer_hold_id), 'released',
          'Declining releases the offer''s hold');
select is((pg_temp.entry(:'frank')).status, 'offered', 'and the time passes to the next in line at once');
select is(api.decline_offer(:'erin')->>'status', 'declined', 'Declining twice returns the entry as it is');
select pg_temp.lapse((pg_temp.entry(:'frank')).offer_hold_id);
select is(api.get_waitlist_entry(:'frank')->>'status', 'lapsed', 'An offer whose hold has expired reads as lapsed');
select is(api.cleanup_expired_holds(), 1, 'Cleanup expires the lapsed offer''s hold');
select results_eq(format($q$select status, end_reason from booking.waitlist_entries where id = %L$q$, :'frank'),
                  $q$values ('lapsed'::text, 'offer_expired'::text)$q$, 'An expired offer lapses');
select is((pg_temp.entry(:'gina')).status, 'offered', 'and its time passes to the next in line');
select is(api.release_hold((pg_temp.entry(:'gina')).offer_hold_id, 'waitlist:' || :'gina')->>'status', 'released',
          'An offer can be released with release_hold and its session too');
select results_eq(format($q$select status, end_reason from booking.waitlist_entries where id = %L$q$, :'gina'),
                  $q$values ('declined'::text, 'released'::text)$q$, 'which declines it');

-- (d) Expiry, lazy or by cleanup: the waiter first, then whoever triggered the expiry
select pg_temp.hold('hank', :'manicure', '2031-05-05 12:00+00') as h12 \gset
select pg_temp.join('ivy', :'manicure', '2031-05-05 12:00+00')->>'entry_id' as ivy \gset
select pg_temp.lapse(:'h12');
select is(api.create_hold_atomic(null, 'jack', :'manicure', '2031-05-05 12:00+00', null, null, 'sess-jack')->>'success',
          'false', 'A hold over a lapsed hold that has a waiter does not get the time');
select is((pg_temp.entry(:'ivy')).status, 'offered', 'The waiter is offered the lapsed hold''s time first');
select is((select status from booking.reservations where id = :'h12'), 'expired', 'The lapsed hold was marked expired');
select pg_temp.hold('kate', :'manicure', '2031-05-05 13:00+00') as h13 \gset
select pg_temp.join('liam', :'manicure', '2031-05-05 13:00+00')->>'entry_id' as liam \gset
select pg_temp.lapse(:'h13');
select is((pg_temp.entry(:'liam')).status, 'waiting', 'A lapsed hold is not offered until something marks it');
select api.cleanup_expired_holds();
select is((pg_temp.entry(:'liam')).status, 'offered', 'Cleanup expiring the hold offers its time');

-- (e) Reschedule away
select pg_temp.book('mia', :'pedicure', '2031-05-06 10:00+00') as m10 \gset
select pg_temp.book('ned', :'pedicure', '2031-05-06 10:00+00') as n10 \gset
select pg_temp.join('olga', :'pedicure', '2031-05-06 10:00+00')->>'entry_id' as olga \gset
select is((pg_temp.entry(:'olga')).status, 'waiting', 'Both pedicurists are booked: the waiter waits');
select api.reschedule_booking(:'n10', '2031-05-06 15:00+00');
select is((pg_temp.entry(:'olga')).status, 'offered', 'Moving a booking away offers its old time');
select is((select resource_id from booking.reservations where id = (pg_temp.entry(:'olga')).offer_hold_id), :'bartek'::uuid,
          'on the resource it freed');

-- (f) Preemption frees time for the waiting list first; a preempted offer goes back in line
select pg_temp.hold('pia', :'grab', '2031-05-07 10:00+00') as p10 \gset
select pg_temp.join('quin', :'grab', '2031-05-07 10:00+00')->>'entry_id' as quin \gset
select api.create_hold_atomic(null, 'rex', :'grab', '2031-05-07 10:00+00', null, null, 'sess-rex') as grab1 \gset
select is((select status from booking.reservations where id = :'p10'), 'preempted', 'last_wins preempts the hold in the way');
select is((pg_temp.entry(:'quin')).status, 'offered', 'The preempted hold''s time goes to the waiter first');
select is((:'grab1'::jsonb)->>'success', 'false', 'and the preempting attempt, behind the waiter, is refused');
select (pg_temp.entry(:'quin')).offer_hold_id as quin_hold1 \gset
select api.create_hold_atomic(null, 'rex', :'grab', '2031-05-07 10:00+00', null, null, 'sess-rex') as grab2 \gset
select is((select status from booking.reservations where id = :'quin_hold1'), 'preempted', 'A second try preempts the offer''s hold');
select results_eq(format($q$select status, offers, offer_hold_id <> %L from booking.waitlist_entries where id = %L$q$,
                         :'quin_hold1', :'quin'),
                  $q$values ('offered'::text, 2, true)$q$,
                  'The preempted offer puts the waiter back at its place, and it is offered the time again');
select is((:'grab2'::jsonb)->>'success', 'false', 'A waiter''s offer cannot be preempted away');
select is((select count(*)::int from booking.events where type = 'waitlist:requeued' and payload->>'entry_id' = :'quin'), 1,
          'The waiter hears it was put back in line (waitlist:requeued) before the new offer');

-- (g) Hold cap: a waiter at the cap is passed over, keeps its place, and the next one is offered
select pg_temp.book('sam', :'manicure', '2031-05-08 10:00+00') as s10 \gset
select pg_temp.join('tess', :'manicure', '2031-05-08 10:00+00')->>'entry_id' as tess \gset
select pg_temp.join('uma', :'manicure', '2031-05-08 10:00+00')->>'entry_id' as uma \gset
select pg_temp.hold('tess', :'pedicure', ('2031-05-09 1' || n || ':00+00')::timestamptz) from generate_series(0, 2) n;
select api.cancel_booking(:'s10');
select is((pg_temp.entry(:'tess')).status, 'waiting', 'A waiter at the live-hold cap is passed over');
select is(api.get_waitlist_entry(:'tess')->'position', '1'::jsonb, 'and keeps its place');
select is((pg_temp.entry(:'uma')).status, 'offered', 'The next in line is offered the time');

-- (h) Classes: one offer per freed seat; a waiter wanting two seats waits for two at once
select pg_temp.book('c' || n, :'yoga', '2031-05-10 10:00+00') from generate_series(1, 3) n;
select pg_temp.join('vic', :'yoga', '2031-05-10 10:00+00', p_seats => 2)->>'entry_id' as vic \gset
select pg_temp.join('wes', :'yoga', '2031-05-10 10:00+00')->>'entry_id' as wes \gset
select pg_temp.join('xia', :'yoga', '2031-05-10 10:00+00')->>'entry_id' as xia \gset
select pg_temp.join('yan', :'yoga', '2031-05-10 10:00+00')->>'entry_id' as yan \gset
select is(api.get_waitlist_entry(:'yan')->'position', '4'::jsonb, 'A full class has a line: the fourth is fourth');
select api.cancel_booking((select r.id from booking.reservations r join booking.customers c on c.id = r.customer_id
                           where c.subject = 'c1' and r.service_id = :'yoga'));
select results_eq(format($q$select status from booking.waitlist_entries where id in (%L, %L, %L, %L) order by joined_at$q$,
                         :'vic', :'wes', :'xia', :'yan'),
                  $q$values ('waiting'::text), ('offered'), ('waiting'), ('waiting')$q$,
                  'One freed seat: one offer, to the first waiter it fits (not the one wanting two)');
select api.cancel_booking((select r.id from booking.reservations r join booking.customers c on c.id = r.customer_id
                           where c.subject = 'c2' and r.service_id = :'yoga'));
select is((pg_temp.entry(:'xia')).status, 'offered', 'The next freed seat goes to the next waiter it fits');
select api.leave_waitlist(:'yan');
select api.decline_offer(:'wes');
select is((pg_temp.entry(:'vic')).status, 'waiting', 'A declined seat alone does not fit the two-seat waiter');
select api.decline_offer(:'xia');
select is((pg_temp.entry(:'vic')).status, 'offered',
          'Two seats free together go to the two-seat waiter, first in line');
select is((select units::int from booking.reservations where id = (pg_temp.entry(:'vic')).offer_hold_id), 2,
          'Her offer takes two seats');
select is((select count(*)::int from booking.waitlist_entries e join booking.reservations r on r.id = e.offer_hold_id
           where e.id in (:'vic', :'wes', :'xia', :'yan') and r.status = 'held'), 1,
          'Nobody holds two offers at once and no freed seat was offered twice');

-- (i) A start that can no longer be booked lapses instead of being offered
select pg_temp.book('zed', :'manicure', '2031-05-12 10:00+00') as z10 \gset
select pg_temp.join('abe', :'manicure', '2031-05-12 10:00+00')->>'entry_id' as abe \gset
update booking.services set min_notice = '100 years' where id = :'manicure';
select api.cancel_booking(:'z10');
select results_eq(format($q$select status, end_reason, offer_hold_id from booking.waitlist_entries where id = %L$q$, :'abe'),
                  $q$values ('lapsed'::text, 'start_passed'::text, null::uuid)$q$,
                  'A start inside the notice (or past) is not offered: the entry lapses');
update booking.services set min_notice = '0' where id = :'manicure';
select pg_temp.book('bea', :'manicure', '2031-05-12 11:00+00');
select pg_temp.join('cid', :'manicure', '2031-05-12 11:00+00')->>'entry_id' as cid \gset
update booking.waitlist_entries set starts_at = now() - interval '1 hour', ends_at = now(),
       occupied = tstzrange(now() - interval '1 hour', now()) where id = :'cid';
select is(api.get_waitlist_entry(:'cid')->>'status', 'lapsed', 'A waiting entry whose start has come reads as lapsed');
select ok(api.cleanup_waitlist() >= 1, 'cleanup_waitlist marks such entries');
select results_eq(format($q$select status, end_reason from booking.waitlist_entries where id = %L$q$, :'cid'),
                  $q$values ('lapsed'::text, 'start_passed'::text)$q$, 'as lapsed, start passed');

-- (j) Joining a free slot is an offer at once; leaving passes an offer on
select pg_temp.join('dan', :'pedicure', '2031-05-13 10:00+00') as j_dan \gset
select is((:'j_dan'::jsonb)->>'status', 'offered', 'Joining a free slot is an offer at once');
select is((select session_id from booking.reservations where id = ((:'j_dan'::jsonb)->'offer'->>'hold_id')::uuid),
          'waitlist:' || ((:'j_dan'::jsonb)->>'entry_id'), 'with the entry''s session');
select pg_temp.book('eve', :'pedicure', '2031-05-13 10:00+00');
select pg_temp.join('fay', :'pedicure', '2031-05-13 10:00+00')->>'entry_id' as fay \gset
select pg_temp.join('gus', :'pedicure', '2031-05-13 10:00+00')->>'entry_id' as gus \gset
select is(api.leave_waitlist(:'fay')->>'status', 'left', 'A waiter leaves the list');
select is(api.get_waitlist_entry(:'gus')->'position', '1'::jsonb, 'and the one behind moves up');
select is(api.leave_waitlist(((:'j_dan'::jsonb)->>'entry_id')::uuid)->>'status', 'left', 'An offered waiter may leave too');
select is((select status from booking.reservations where id = ((:'j_dan'::jsonb)->'offer'->>'hold_id')::uuid), 'released',
          'which releases the offer''s hold');
select is((pg_temp.entry(:'gus')).status, 'offered', 'and the time goes to the next in line');
select is(api.leave_waitlist(:'fay')->>'status', 'left', 'Leaving twice returns the entry as it is');

-- (k) Staff, limits, privacy
select tests.authenticate_as('staff', 'stefan');
select is(jsonb_array_length(api.list_waitlist(:'yoga')->'entries'), 1, 'Staff list a service''s live entries');
select is(api.list_waitlist(:'yoga')->'entries'->0->>'customer', 'vic', 'in line order, with the customer');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'vic');
select throws_ok(format('select api.list_waitlist(%L)', :'yoga'), '42501', null, 'Customers cannot list a service''s line');
select is(jsonb_array_length(api.list_customer_waitlist('vic')), 1, 'A customer lists its own live entries');
select tests.clear_authentication();
insert into booking.waitlist_entries (location_id, service_id, customer_id, starts_at, ends_at, occupied, slot_id)
select :'loc', :'pedicure', booking.customer_id_for('hoarder'), s, s + interval '1 hour', tstzrange(s, s + interval '1 hour'), 'x'
  from generate_series(timestamptz '2031-06-01 10:00+00', '2031-06-20 10:00+00', interval '1 day') s;
select pg_temp.book('ida', :'manicure', '2031-05-14 10:00+00');
select throws_ok(format('select api.join_waitlist(%L, %L, %L)', 'hoarder', :'manicure', '2031-05-14 10:00+00'),
                 'BK032', null, 'Twenty live entries at a location are the most a customer may have');
select ok(api.export_customer('vic')->'waitlist' @> jsonb_build_array(jsonb_build_object('id', :'vic')),
          'The GDPR export lists the customer''s waiting-list entries');
select api.erase_customer('tess');
select results_eq(format($q$select status, end_reason from booking.waitlist_entries where id = %L$q$, :'tess'),
                  $q$values ('left'::text, 'erased'::text)$q$, 'Erasing a customer takes it off every waiting list');
select ok((select relrowsecurity from pg_class where oid = 'booking.waitlist_entries'::regclass),
          'booking.waitlist_entries has row-level security enabled');

select * from finish();
rollback;
