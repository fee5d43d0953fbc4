-- Audit: every hold, convert and cancel leaves who did what to which reservation, before and after;
-- only admins read it.
begin;
select plan(30);

-- Fixtures: one Warsaw studio; Anna does manicures every day 09:00-17:00.
\set loc      '10000000-0000-0000-0000-000000000131'
\set anna     '20000000-0000-0000-0000-000000000131'
\set manicure '30000000-0000-0000-0000-000000000131'

select tests.create_location(:'loc', 'Audit studio', 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna']::uuid[], :'manicure');

-- The audit log's shape

select has_table('booking', 'audit_log', 'booking.audit_log exists');
select columns_are('booking', 'audit_log', array[
  'id', 'location_id', 'reservation_id', 'action', 'actor_subject', 'actor_role', 'db_user', 'before', 'after', 'at'],
  'The audit log records who, what, which reservation, before and after, and when');
select is(
  (select array_agg(a.attname::text order by k.ord)
   from pg_constraint c cross join lateral unnest(c.conkey) with ordinality k(attnum, ord)
   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
   where c.conrelid = 'booking.audit_log'::regclass and c.contype = 'p'),
  array['location_id', 'id'], 'The audit log is keyed by location and id, so it shards with its location');

-- A customer holds and converts

select tests.set_claims('customer', 'alice');
select api.create_hold_atomic(null, 'alice', :'manicure', '2031-03-10 10:00 Europe/Warsaw',
                              '2031-03-10 11:00 Europe/Warsaw', null, 'sess-alice')->>'hold_id' as hold \gset

select results_eq(
  format($q$select action, actor_subject, actor_role, db_user = session_user, location_id, before is null, after->>'status',
                   (after->>'id')::uuid
            from booking.audit_log where reservation_id = %L$q$, :'hold'),
  format($q$values ('insert'::text, 'alice'::text, 'customer'::text, true, %L::uuid, true,
                    'held'::text, %L::uuid)$q$, :'loc', :'hold'),
  'A hold writes one insert row with the customer as actor and the new row as after');

select api.convert_hold_to_booking(:'hold', 'sess-alice', '{"note": "sensitive nails"}') as conv \gset
select is((:'conv'::jsonb)->>'success', 'true', 'The hold converts');
select is((select count(*)::int from booking.audit_log where reservation_id = :'hold'), 2,
          'Converting adds one audit row');
select results_eq(
  format($q$select action, actor_subject, actor_role, before->>'status', after->>'status',
                   after->'details'->>'note', (before->>'version')::int, (after->>'version')::int
            from booking.audit_log where reservation_id = %L order by id desc limit 1$q$, :'hold'),
  $q$values ('update'::text, 'alice'::text, 'customer'::text, 'held'::text, 'confirmed'::text,
            'sensitive nails'::text, 1, 2)$q$,
  'A convert writes an update row: held before, confirmed with the details after');

-- Staff cancel

select tests.set_claims('staff', 'stefan');
select api.cancel_booking(:'hold', 'customer called') as canc \gset
select is((:'canc'::jsonb)->>'status', 'cancelled', 'Staff cancel the booking');
select results_eq(
  format($q$select action, actor_subject, actor_role, before->>'status', after->>'status', after->>'cancel_reason'
            from booking.audit_log where reservation_id = %L order by id desc limit 1$q$, :'hold'),
  $q$values ('update'::text, 'stefan'::text, 'staff'::text, 'confirmed'::text, 'cancelled'::text,
            'customer called'::text)$q$,
  'A cancel writes an update row naming the staff member, confirmed before, cancelled after');
select api.cancel_booking(:'hold') as canc2 \gset
select is((select count(*)::int from booking.audit_log where reservation_id = :'hold'), 3,
          'Cancelling a cancelled booking changes nothing and writes no audit row');

-- A trusted SQL session (no claims) is the system

select tests.clear_authentication();
select api.create_booking_atomic(:'manicure', '2031-03-10 12:00 Europe/Warsaw', 'bob', '{}')->>'booking_id' as b2 \gset
select results_eq(
  format($q$select action, actor_subject, actor_role from booking.audit_log where reservation_id = %L$q$, :'b2'),
  $q$values ('insert'::text, null::text, 'system'::text)$q$,
  'A change without JWT claims is recorded as the system');

-- A direct write to the table is audited too (the trigger does not depend on the API)

update booking.reservations set details = '{"note": "by hand"}' where id = :'b2';
select is((select after->'details'->>'note' from booking.audit_log where reservation_id = :'b2'
           order by id desc limit 1), 'by hand', 'A direct update of a reservation is audited');
update booking.reservations set details = details where id = :'b2';
select is((select count(*)::int from booking.audit_log where reservation_id = :'b2'), 2,
          'An update that changes nothing writes no audit row');

-- Reading it: admins

select tests.set_claims('admin', 'ada');
select api.audit_log(:'hold') as trail \gset
select is(jsonb_array_length(:'trail'::jsonb), 3, 'An admin reads the three rows of a reservation');
select is(array(select e->>'action' from jsonb_array_elements(:'trail'::jsonb) e),
          array['update', 'update', 'insert'], 'The audit trail is newest first');
select is((:'trail'::jsonb)->0->'before'->>'status', 'confirmed', 'Each row carries the before image');
select is((:'trail'::jsonb)->0->>'actor_subject', 'stefan', 'Each row names its actor');
select is(jsonb_array_length(api.audit_log(null, null, 2)), 2, 'p_limit caps the rows returned');
select ok(jsonb_array_length(api.audit_log()) >= 5, 'Without a reservation, the whole log is read');
select is(jsonb_array_length(api.audit_log(:'hold', now() + interval '1 hour')), 0,
          'p_since leaves out older rows');
select is(api.audit_log('99999999-9999-9999-9999-999999999999'), '[]'::jsonb,
          'An unknown reservation has an empty trail');
select throws_ok($q$select api.audit_log(null, null, 0)$q$, 'BK014', null, 'A limit below 1 is refused');
select throws_ok($q$select api.audit_log(null, null, 1001)$q$, 'BK014', null, 'A limit above 1000 is refused');

-- Customers and staff cannot read it

select tests.set_claims('customer', 'alice');
select throws_ok(format($q$select api.audit_log(%L)$q$, :'hold'), 'BK017', null,
                 'A customer JWT role is refused the audit log, even for its own booking');
select tests.set_claims('staff', 'stefan');
select throws_ok($q$select api.audit_log()$q$, 'BK017', null, 'A staff JWT role is refused the audit log');

select tests.authenticate_as('customer', 'alice');
select tests.set_claims('admin', 'alice');
select throws_ok($q$select api.audit_log()$q$, '42501', null,
                 'The customer database role cannot call api.audit_log, whatever its claims say');
select throws_ok($q$select count(*) from booking.audit_log$q$, '42501', null,
                 'The customer database role cannot read booking.audit_log directly');
select tests.clear_authentication();

select tests.authenticate_as('staff', 'stefan');
select throws_ok($q$select api.audit_log()$q$, '42501', null, 'The staff database role cannot call api.audit_log');
select tests.clear_authentication();

select tests.authenticate_as('admin', 'ada');
select is(jsonb_array_length(api.audit_log(:'hold')), 3, 'The admin database role reads the audit log');
select tests.clear_authentication();

select ok(has_function_privilege('booking_admin', 'api.audit_log(uuid, timestamptz, integer)', 'execute')
          and not has_function_privilege('booking_customer', 'api.audit_log(uuid, timestamptz, integer)', 'execute')
          and not has_function_privilege('booking_staff', 'api.audit_log(uuid, timestamptz, integer)', 'execute')
          and not has_function_privilege('booking_gateway', 'api.audit_log(uuid, timestamptz, integer)', 'execute'),
          'Only booking_admin may execute api.audit_log');

select * from finish();
rollback;
