-- Security: pinned search_path, no table privileges for callers, per-function grants, and what one
-- customer can see and change of another's (nothing), through the API and through row-level security.
begin;
select plan(63);

-- Fixtures: one Warsaw studio; Anna does manicures every day 09:00-17:00. Customers A and B.
\set loc      '10000000-0000-0000-0000-000000000151'
\set anna     '20000000-0000-0000-0000-000000000151'
\set manicure '30000000-0000-0000-0000-000000000151'

select tests.create_location(:'loc', 'Security studio', 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna']::uuid[], :'manicure');
select tests.create_customer('sec-a', p_email => 'a@example.com');
select tests.create_customer('sec-b', p_email => 'b@example.com');

select api.create_booking_atomic(:'manicure', '2031-04-07 10:00 Europe/Warsaw', 'sec-a', '{"note": "a"}')
       ->>'booking_id' as a_booking \gset
select api.create_booking_atomic(:'manicure', '2031-04-07 12:00 Europe/Warsaw', 'sec-b', '{"note": "b private"}',
                                 null, 'b-key')->>'booking_id' as b_booking \gset
select api.create_hold_atomic(null, 'sec-b', :'manicure', '2031-04-07 14:00 Europe/Warsaw',
                              '2031-04-07 15:00 Europe/Warsaw', null, 'sess-b')->>'hold_id' as b_hold \gset

-- (a) SECURITY DEFINER functions pin search_path

select cmp_ok((select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname in ('api', 'booking') and p.prosecdef), '>=', 25,
              'The catalog check below covers the API''s SECURITY DEFINER functions (not an empty set)');
select is(
  array(select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('api', 'booking') and p.prosecdef
          and not ('search_path=""' = any(coalesce(p.proconfig, '{}')))
        order by 1),
  array[]::text[],
  'Every SECURITY DEFINER function in api and booking pins search_path to empty');
select is(
  array(select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'api' and not p.prosecdef order by 1),
  array[]::text[],
  'Every api function is SECURITY DEFINER');

create function booking.tests_unpinned() returns int language sql security definer as $$ select 1 $$;
select is(
  array(select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('api', 'booking') and p.prosecdef
          and not ('search_path=""' = any(coalesce(p.proconfig, '{}')))
        order by 1),
  array['booking.tests_unpinned()'],
  'The check names a SECURITY DEFINER function that leaves search_path open');
drop function booking.tests_unpinned();

-- (b) Callers have no privileges on booking.*

select is(
  array(select format('%s: %s %s', r.role, t.oid::regclass, p.priv)
        from pg_class t join pg_namespace n on n.oid = t.relnamespace,
             unnest(array['booking_customer', 'booking_staff', 'booking_admin', 'booking_gateway']) r(role),
             unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
        where n.nspname = 'booking' and t.relkind in ('r', 'p', 'v', 'm')
          and has_table_privilege(r.role, t.oid, p.priv)
        order by 1),
  array[]::text[],
  'No caller role has any privilege on any table of schema booking');
select is(
  array(select format('%s: %s %s', r.role, s.oid::regclass, p.priv)
        from pg_class s join pg_namespace n on n.oid = s.relnamespace,
             unnest(array['booking_customer', 'booking_staff', 'booking_admin', 'booking_gateway']) r(role),
             unnest(array['USAGE', 'SELECT', 'UPDATE']) p(priv)
        where n.nspname = 'booking' and s.relkind = 'S' and has_sequence_privilege(r.role, s.oid, p.priv)
        order by 1),
  array[]::text[],
  'No caller role can use a sequence of schema booking');
select ok(not has_schema_privilege(r, 'booking', 'USAGE') and not has_schema_privilege(r, 'booking', 'CREATE'),
          format('%s has no USAGE or CREATE on schema booking', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_admin', 'booking_gateway']) r;
select table_privs_are('booking', t, 'booking_customer', array[]::text[],
                       format('booking_customer has no privileges on booking.%s', t))
from unnest(array['customers', 'reservations', 'audit_log']) t;
select is(
  array(select format('%s: %s', r.role, p.oid::regprocedure)
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
             unnest(array['booking_customer', 'booking_staff', 'booking_admin', 'booking_gateway']) r(role)
        where n.nspname = 'booking' and has_function_privilege(r.role, p.oid, 'EXECUTE')
        order by 1),
  array[]::text[],
  'No caller role may execute an internal booking function');

-- (c) EXECUTE on api.* per role, as granted

select is(
  array(select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'api'
          and (p.proacl is null or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0))
        order by 1),
  array[]::text[],
  'No api function is executable by PUBLIC');
select function_privs_are('api', 'erase_customer', array['text'], 'booking_admin', array['EXECUTE'],
                          'booking_admin may erase a customer');
select function_privs_are('api', 'erase_customer', array['text'], r, array[]::text[],
                          format('%s may not erase a customer', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_gateway']) r;
select function_privs_are('api', 'export_customer', array['text'], r, array['EXECUTE'],
                          format('%s may export a customer', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_admin']) r;
select function_privs_are('api', 'export_customer', array['text'], 'booking_gateway', array[]::text[],
                          'The gateway''s own role may not export a customer');
select function_privs_are('api', 'audit_log', array['uuid', 'timestamp with time zone', 'integer'], r, array[]::text[],
                          format('%s may not read the audit log', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_gateway']) r;
select function_privs_are('api', 'get_reservation', array['uuid'], r, array['EXECUTE'],
                          format('%s may read a reservation', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_admin']) r;
select function_privs_are('api', 'get_reservation', array['uuid'], 'booking_gateway', array[]::text[],
                          'The gateway''s own role may not read reservations');
select function_privs_are('api', 'resolve_conflict', array['uuid', 'text', 'text'], r, array[]::text[],
                          format('%s may not resolve conflicts', r))
from unnest(array['booking_customer', 'booking_staff', 'booking_gateway']) r;

-- (d) Customer A, with its own database role, sees and changes nothing of B's

select tests.authenticate_as('customer', 'sec-a');
select is(api.get_reservation(:'a_booking')->>'id', :'a_booking', 'A reads its own booking');
select throws_ok(format($q$select api.get_reservation(%L)$q$, :'b_booking'), 'BK008', null,
                 'A reading B''s booking is told it does not exist');
select throws_ok(format($q$select api.cancel_booking(%L, 'mine now')$q$, :'b_booking'), 'BK008', null,
                 'A cancelling B''s booking is told it does not exist');
select throws_ok(format($q$select api.reschedule_booking(%L, '2031-04-07 13:00 Europe/Warsaw')$q$, :'b_booking'),
                 'BK008', null, 'A moving B''s booking is told it does not exist');
select throws_ok(format($q$select api.release_hold(%L, 'sess-b')$q$, :'b_hold'), 'BK008', null,
                 'A releasing B''s hold, even with B''s session, is told it does not exist');
select throws_ok(format($q$select api.convert_hold_to_booking(%L, 'sess-b', '{}')$q$, :'b_hold'), 'BK008', null,
                 'A converting B''s hold is told it does not exist');
select throws_ok($q$select api.list_customer_reservations('sec-b')$q$, 'BK015', null,
                 'A listing B''s reservations is refused');
select throws_ok($q$select api.export_customer('sec-b')$q$, 'BK015', null, 'A exporting B is refused');
select throws_ok($q$select api.create_booking_atomic('30000000-0000-0000-0000-000000000151',
                    '2031-04-08 10:00 Europe/Warsaw', 'sec-b', '{}')$q$, 'BK015', null,
                 'A booking in B''s name is refused');
select throws_ok($q$select * from booking.reservations$q$, '42501', null, 'A cannot read booking.reservations directly');
select tests.set_claims('admin', 'sec-a');
select throws_ok($q$select api.create_booking_atomic('30000000-0000-0000-0000-000000000151',
                    '2031-04-08 10:00 Europe/Warsaw', 'sec-b', '{}')$q$, 'BK015', null,
                 'Under the customer role, claiming admin in the JWT does not let A act for B');
select tests.authenticate_as('customer', null);
select throws_ok($q$select api.create_booking_atomic('30000000-0000-0000-0000-000000000151',
                    '2031-04-08 10:00 Europe/Warsaw', 'sec-b', '{}')$q$, 'BK015', null,
                 'The customer role without claims acts for nobody (it is not a trusted session)');
select tests.clear_authentication();
select results_eq(
  format($q$select status, version, cancel_reason, starts_at from booking.reservations where id in (%L, %L) order by starts_at$q$,
         :'b_booking', :'b_hold'),
  $q$values ('confirmed'::text, 1::bigint, null::text, '2031-04-07 12:00 Europe/Warsaw'::timestamptz),
            ('held', 1, null, '2031-04-07 14:00 Europe/Warsaw')$q$,
  'B''s booking and hold are unchanged after A''s attempts');

-- Row-level security, should a table ever be granted directly: the grant here is rolled back.

grant usage on schema booking to booking_customer, booking_staff;
grant select, update, delete on booking.reservations, booking.customers, booking.conflicts,
  booking.idempotency_keys, booking.audit_log to booking_customer, booking_staff;

select tests.authenticate_as('customer', 'sec-a');
select is(array(select id::text from booking.reservations where location_id = :'loc'), array[:'a_booking'],
          'With a direct grant, RLS shows A only its own reservations');
select is(array(select subject from booking.customers), array['sec-a'],
          'With a direct grant, RLS shows A only its own customer row');
select is((select count(*)::int from booking.idempotency_keys), 0, 'With a direct grant, A sees no idempotency record of B');
select is((select count(*)::int from booking.audit_log), 0, 'With a direct grant, a customer still sees no audit row');
with moved as (update booking.reservations set cancel_reason = 'hacked' where id = :'b_booking' returning 1)
select is((select count(*)::int from moved), 0, 'With a direct grant, A updates none of B''s reservations');
with gone as (delete from booking.reservations where id = :'b_hold' returning 1)
select is((select count(*)::int from gone), 0, 'With a direct grant, A deletes none of B''s reservations');
select tests.set_claims('admin', 'sec-b');
select is(array(select subject from booking.customers), array['sec-b'],
          'Claiming admin in the JWT does not widen what the customer role sees');
select tests.authenticate_as('customer', null);
select is((select count(*)::int from booking.reservations), 0, 'The customer role without claims sees nothing');
select tests.clear_authentication();

select tests.authenticate_as('staff', 'stefan');
select is((select count(*)::int from booking.reservations where location_id = :'loc'), 3,
          'With a direct grant, staff see every reservation');
select is((select count(*)::int from booking.audit_log), 0, 'With a direct grant, staff see no audit row');
select tests.clear_authentication();

select results_eq(
  format($q$select status, cancel_reason from booking.reservations where id in (%L, %L) order by starts_at$q$,
         :'b_booking', :'b_hold'),
  $q$values ('confirmed'::text, null::text), ('held', null)$q$,
  'RLS kept B''s rows as they were');

-- (e) Row-level security is on for every table holding personal data

select ok((select relrowsecurity from pg_class where oid = format('booking.%I', t)::regclass),
          format('booking.%s has row-level security enabled', t))
from unnest(array['customers', 'reservations', 'conflicts', 'idempotency_keys', 'audit_log']) t;
select is(
  array(select t from unnest(array['customers', 'reservations', 'conflicts', 'idempotency_keys', 'audit_log']) t
        where not exists (select 1 from pg_policy p where p.polrelid = format('booking.%I', t)::regclass)
        order by 1),
  array[]::text[],
  'Every personal-data table has at least one policy');

select * from finish();
rollback;
