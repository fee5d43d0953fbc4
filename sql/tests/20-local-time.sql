-- api.resolve_local_time: a wall-clock time at the service's location, read in the location's zone,
-- refused with BK013 when the clocks skip it. Europe/Warsaw springs forward on 2027-03-28 (02:00 CET
-- jumps to 03:00 CEST) and falls back on 2027-10-31 (03:00 CEST goes back to 02:00 CET). Nothing here
-- depends on today's date: the function reads no clock.
begin;
set local timezone = 'UTC';
select plan(19);

\set warsaw_loc 'e0000000-0000-4000-8000-000000000001'
\set tokyo_loc  'e0000000-0000-4000-8000-000000000002'
\set zegar      'e1000000-0000-4000-8000-000000000001'
select tests.create_location(:'warsaw_loc', 'Warsaw clock salon', 'Europe/Warsaw');
select tests.create_location(:'tokyo_loc', 'Tokyo clock salon', 'Asia/Tokyo');
select tests.create_staff(:'warsaw_loc', 'Zegar', :'zegar', '{"[01:00,04:00)"}', '{7}');
select tests.create_service(:'warsaw_loc', 'Half hour', '30 minutes', array[:'zegar']::uuid[],
                            'e2000000-0000-4000-8000-000000000001', p_slot_step => '30 minutes');
select tests.create_service(:'tokyo_loc', 'Half hour', '30 minutes',
                            p_id => 'e2000000-0000-4000-8000-000000000002', p_slot_step => '30 minutes');
select tests.create_service(:'warsaw_loc', 'Retired', '30 minutes', p_id => 'e2000000-0000-4000-8000-000000000003',
                            p_slot_step => '30 minutes', p_active => false);

\set warsaw '''e2000000-0000-4000-8000-000000000001'''
\set tokyo '''e2000000-0000-4000-8000-000000000002'''

-- Spring forward: 02:00-02:59:59 does not exist

select throws_ok(format($q$select api.resolve_local_time(%L, '2027-03-28 02:30')$q$, :warsaw),
  'BK013', null, 'A wall time in the spring-forward gap (02:30) is refused with BK013');
select throws_ok(format($q$select api.resolve_local_time(%L, '2027-03-28 02:00')$q$, :warsaw),
  'BK013', null, 'The first skipped minute (02:00) is refused too');
select is(api.resolve_local_time(:warsaw, '2027-03-28 01:59:59'), '2027-03-28 00:59:59+00'::timestamptz,
  'The last second before the gap is CET (+01)');
select is(api.resolve_local_time(:warsaw, '2027-03-28 03:00'), '2027-03-28 01:00+00'::timestamptz,
  'The first time after the gap (03:00) is CEST (+02)');
select is('2027-03-28 02:30 Europe/Warsaw'::timestamptz, '2027-03-28 01:30+00'::timestamptz,
  'A timestamptz literal is converted before any function sees it: the non-existent 02:30 becomes 03:30 CEST');
select throws_ok(format($q$select api.create_hold_atomic(null, 'clock-customer', %1$L,
                                  api.resolve_local_time(%1$L, '2027-03-28 02:30'), null, null, 'clock-session')$q$,
                        :warsaw),
  'BK013', null, 'A hold whose start comes through resolve_local_time refuses the non-existent time');

-- Fall back: 02:00-02:59:59 happens twice; the second occurrence (CET) is the one meant

select is(api.resolve_local_time(:warsaw, '2027-10-31 02:30'), '2027-10-31 01:30+00'::timestamptz,
  'An ambiguous wall time (02:30) means its second occurrence, in standard time (+01)');
select is(api.resolve_local_time(:warsaw, '2027-10-31 02:00'), '2027-10-31 01:00+00'::timestamptz,
  'The ambiguous 02:00 is read as 02:00 CET too');
select is(api.resolve_local_time(:warsaw, '2027-10-31 02:00'),
  (select f.starts_at from booking.free_slots(:warsaw, '2027-10-31', 1, null, '2026-11-01 00:00+00') f
   where (f.starts_at at time zone 'Europe/Warsaw')::time = '02:00'),
  'It is the instant availability offers for 02:00 that night');
select is(api.resolve_local_time(:warsaw, '2027-10-31 03:00'), '2027-10-31 02:00+00'::timestamptz,
  '03:00 after the change is unambiguous CET');

-- Ordinary times and a zone without DST

select is(api.resolve_local_time(:warsaw, '2027-07-04 10:00'), '2027-07-04 08:00+00'::timestamptz,
  'A summer wall time is read in CEST (+02)');
select is(api.resolve_local_time(:warsaw, '2027-01-10 10:00'), '2027-01-10 09:00+00'::timestamptz,
  'A winter wall time is read in CET (+01)');
select is(api.resolve_local_time(:tokyo, '2027-03-28 02:30'), '2027-03-27 17:30+00'::timestamptz,
  'The zone is the service''s location''s: 02:30 exists in Tokyo (+09) on the same date');
select is(api.resolve_local_time(:warsaw, null), null, 'NULL in, NULL out');

-- The service decides the zone, so it must exist and be offered

select throws_ok($q$select api.resolve_local_time('e2000000-0000-4000-8000-0000000000ff', '2027-07-04 10:00')$q$,
  'BK001', null, 'An unknown service is BK001');
select throws_ok($q$select api.resolve_local_time('e2000000-0000-4000-8000-000000000003', '2027-07-04 10:00')$q$,
  'BK002', null, 'An inactive service is BK002');

-- Who may call it: every caller role that may hold or book, not the gateway's own login

select function_privs_are('api', 'resolve_local_time', array['uuid', 'timestamp without time zone'], r,
                          array['EXECUTE'], format('%s may resolve a local time', r))
from unnest(array['booking_customer', 'booking_admin']) r;
select function_privs_are('api', 'resolve_local_time', array['uuid', 'timestamp without time zone'],
                          'booking_gateway', array[]::text[], 'The gateway''s own login may not (it holds nothing itself)');

select * from finish();
rollback;
