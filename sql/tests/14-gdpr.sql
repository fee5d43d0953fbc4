-- GDPR: a customer's export holds everything about them; erasure removes the person and keeps the history.
begin;
select plan(43);

-- Fixtures: one Warsaw studio; Anna and Bartek do manicures every day 09:00-17:00.
\set loc      '10000000-0000-0000-0000-000000000141'
\set anna     '20000000-0000-0000-0000-000000000141'
\set bartek   '20000000-0000-0000-0000-000000000142'
\set manicure '30000000-0000-0000-0000-000000000141'

select tests.create_location(:'loc', 'Privacy studio', 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'loc', 'Bartek', :'bartek');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna', :'bartek']::uuid[], :'manicure');

select tests.create_customer('gdpr-alice', p_display_name => 'Alice Kowalska', p_email => 'alice@example.com',
                             p_phone => '+48 600 100 200') as alice_id \gset
select tests.create_customer('gdpr-bob', p_display_name => 'Bob Nowak', p_email => 'bob@example.com',
                             p_phone => '+48 600 300 400');

-- Alice's history: a booking with details, a cancelled booking with a reason, an idempotent booking,
-- a live hold, and a conflict she met. Bob books too.
select tests.set_claims('customer', 'gdpr-alice');
select api.create_hold_atomic(null, 'gdpr-alice', :'manicure', '2031-03-10 10:00 Europe/Warsaw',
                              '2031-03-10 11:00 Europe/Warsaw', null, 'sess-a1', :'anna')->>'hold_id' as a1 \gset
select api.convert_hold_to_booking(:'a1', 'sess-a1', '{"note": "allergic to acetone"}') as a1conv \gset
select api.create_booking_atomic(:'manicure', '2031-03-11 10:00 Europe/Warsaw', 'gdpr-alice',
                                 '{"note": "bring a friend"}', :'anna', 'alice-key-1')->>'booking_id' as a2 \gset
select api.cancel_booking(:'a2', 'Alice is ill') as a2canc \gset
select api.create_hold_atomic(null, 'gdpr-alice', :'manicure', '2031-03-12 10:00 Europe/Warsaw',
                              '2031-03-12 11:00 Europe/Warsaw', null, 'sess-a3', :'anna')->>'hold_id' as a3 \gset

select tests.set_claims('customer', 'gdpr-bob');
select api.create_booking_atomic(:'manicure', '2031-03-13 10:00 Europe/Warsaw', 'gdpr-bob',
                                 '{"note": "bob secret"}', :'anna')->>'booking_id' as b1 \gset
select tests.set_claims('customer', 'gdpr-alice');
select api.create_booking_atomic(:'manicure', '2031-03-13 10:00 Europe/Warsaw', 'gdpr-alice',
                                 '{}', :'anna') as aconf \gset
select is((:'aconf'::jsonb)->>'success', 'false', 'Alice meets a conflict on Bob''s time');

-- Export: herself

select api.export_customer('gdpr-alice') as ex \gset
select is((:'ex'::jsonb)->'customer'->>'email', 'alice@example.com', 'The export holds the customer''s e-mail');
select is((:'ex'::jsonb)->'customer'->>'display_name', 'Alice Kowalska', 'The export holds the customer''s name');
select is((:'ex'::jsonb)->'customer'->>'phone', '+48 600 100 200', 'The export holds the customer''s phone');
select is(jsonb_array_length((:'ex'::jsonb)->'reservations'), 3, 'The export lists all three of her reservations');
select is(array(select r->>'id' from jsonb_array_elements((:'ex'::jsonb)->'reservations') r order by r->>'starts_at'),
          array[:'a1', :'a2', :'a3'], 'The export lists exactly her reservations, oldest first');
select is(array(select r->'details'->>'note' from jsonb_array_elements((:'ex'::jsonb)->'reservations') r
                order by r->>'starts_at'),
          array['allergic to acetone', 'bring a friend', null], 'The export carries each reservation''s details');
select is((select r->>'cancel_reason' from jsonb_array_elements((:'ex'::jsonb)->'reservations') r
           where r->>'id' = :'a2'), 'Alice is ill', 'The export carries the cancel reason');
select is((select r->>'service_name' from jsonb_array_elements((:'ex'::jsonb)->'reservations') r
           where r->>'id' = :'a1'), 'Manicure', 'The export names the service');
select ok(exists (select 1 from jsonb_array_elements((:'ex'::jsonb)->'conflicts') c
                  where c->>'id' = (:'aconf'::jsonb)->>'conflict_id' and c->>'party' = 'requester'),
          'The export lists the conflict she met');
select ok(jsonb_array_length((:'ex'::jsonb)->'audit') >= 5, 'The export lists the audit rows of her reservations');
select ok(not exists (select 1 from jsonb_array_elements((:'ex'::jsonb)->'audit') a
                      where a->>'reservation_id' not in (:'a1', :'a2', :'a3')),
          'The export''s audit rows are about her reservations only');
select ok(position('bob secret' in :'ex') = 0 and position('gdpr-bob' in :'ex') = 0
          and position('bob@example.com' in :'ex') = 0,
          'Nothing of Bob''s reaches Alice''s export, not even through the conflict');

select throws_ok($q$select api.export_customer('gdpr-bob')$q$, 'BK015', null,
                 'A customer cannot export another customer');
select tests.set_claims('customer', 'nobody');
select throws_ok($q$select api.export_customer('nobody')$q$, 'BK008', null,
                 'Exporting a subject nothing is held about is not found');

-- Export: staff

select tests.set_claims('staff', 'stefan');
select is(jsonb_array_length(api.export_customer('gdpr-alice')->'reservations'), 3, 'Staff may export a customer');

-- Erase: who may

select tests.set_claims('customer', 'gdpr-alice');
select throws_ok($q$select api.erase_customer('gdpr-alice')$q$, 'BK017', null,
                 'A customer JWT role cannot erase, not even itself');
select tests.set_claims('staff', 'stefan');
select throws_ok($q$select api.erase_customer('gdpr-alice')$q$, 'BK017', null, 'A staff JWT role cannot erase');
select tests.authenticate_as('staff', 'stefan');
select throws_ok($q$select api.erase_customer('gdpr-alice')$q$, '42501', null,
                 'The staff database role cannot call api.erase_customer');
select tests.clear_authentication();
select is((select email from booking.customers where id = :'alice_id'), 'alice@example.com',
          'Refused erasures change nothing');

-- Erase: an admin

select count(*) as n_before from booking.reservations where customer_id = :'alice_id' \gset
select tests.set_claims('admin', 'ada');
select api.erase_customer('gdpr-alice') as er \gset
select is((:'er'::jsonb)->>'success', 'true', 'An admin erases a customer');
select is((:'er'::jsonb)->>'customer_id', :'alice_id', 'The erasure names the customer id');
select is((:'er'::jsonb)->>'already_erased', 'false', 'A first erasure is not already erased');
select is(((:'er'::jsonb)->>'reservations_scrubbed')::int, 3, 'All three of her reservations are scrubbed');
select is(((:'er'::jsonb)->>'holds_released')::int, 1, 'Her live hold is released');
select ok((:'er'::jsonb)->>'erased_at' is not null, 'The erasure says when');

select results_eq(
  format($q$select subject, display_name, email, phone, erased_at is not null from booking.customers where id = %L$q$,
         :'alice_id'),
  format($q$values ('erased:' || %L, null::text, null::text, null::text, true)$q$, :'alice_id'),
  'Name, e-mail and phone are gone and the subject no longer names her');
select is((select count(*)::int from booking.reservations where customer_id = :'alice_id'), :'n_before'::int,
          'Every reservation row stays');
select results_eq(
  format($q$select id::text, starts_at, ends_at, status, details, cancel_reason, session_id, idempotency_key
            from booking.reservations where customer_id = %L order by starts_at$q$, :'alice_id'),
  format($q$values (%L, '2031-03-10 10:00 Europe/Warsaw'::timestamptz, '2031-03-10 11:00 Europe/Warsaw'::timestamptz,
                    'confirmed'::text, '{}'::jsonb, null::text, null::text, null::text),
                   (%L, '2031-03-11 10:00 Europe/Warsaw', '2031-03-11 11:00 Europe/Warsaw', 'cancelled', '{}', null, null, null),
                   (%L, '2031-03-12 10:00 Europe/Warsaw', '2031-03-12 11:00 Europe/Warsaw', 'released', '{}', null, null, null)$q$,
         :'a1', :'a2', :'a3'),
  'Times and statuses stay; details, reasons, sessions and keys go');
select is((select count(*)::int from booking.idempotency_keys where customer_id = :'alice_id'), 0,
          'Her idempotency records are deleted');
select is((select count(*)::int from booking.audit_log a
           where a.reservation_id in (:'a1', :'a2', :'a3')
             and (a::text like '%acetone%' or a::text like '%bring a friend%' or a::text like '%Alice is ill%'
                  or a::text like '%sess-a%' or a::text like '%alice-key-1%' or a::text like '%gdpr-alice%')), 0,
          'The audit log keeps no details, reasons, sessions, keys or subject of hers');
select ok((select count(*) from booking.audit_log a where a.reservation_id in (:'a1', :'a2', :'a3')) >= 5,
          'The audit rows themselves stay, scrubbed');
select is((select count(*)::int from booking.conflicts c where c.requester_customer_id = :'alice_id'
           and (c.detail ? 'session_id' or c.detail ? 'idempotency_key')), 0,
          'Her conflicts keep no session or key');
select is((select email from booking.customers where subject = 'gdpr-bob'), 'bob@example.com',
          'Another customer is untouched');
select is((select details->>'note' from booking.reservations where id = :'b1'), 'bob secret',
          'Another customer''s details are untouched');

-- Erase again: harmless

select api.erase_customer('gdpr-alice') as er2 \gset
select is((:'er2'::jsonb)->>'success', 'true', 'Erasing again by the former subject succeeds');
select is((:'er2'::jsonb)->>'already_erased', 'true', 'A second erasure says already erased');
select is((:'er2'::jsonb)->>'customer_id', :'alice_id', 'A second erasure finds the same customer');
select is(((:'er2'::jsonb)->>'reservations_scrubbed')::int, 0, 'A second erasure scrubs nothing');
select is((:'er2'::jsonb)->'erased_at', (:'er'::jsonb)->'erased_at', 'A second erasure keeps the first erasure time');
select is((api.erase_customer('erased:' || :'alice_id'))->>'already_erased', 'true',
          'Erasing by the erased:<id> subject is harmless too');
select throws_ok($q$select api.erase_customer('never-seen')$q$, 'BK008', null, 'Erasing an unknown subject is not found');
select throws_ok($q$select api.export_customer('gdpr-alice')$q$, 'BK008', null,
                 'After erasure, nothing is found under her former subject');

select * from finish();
rollback;
