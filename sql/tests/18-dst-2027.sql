-- The DST days the issue names, Europe/Warsaw 2027-03-28 and 2027-10-31, and a zone without DST.
-- These dates will be in the past one day, so the engine behind api.get_availability
-- (booking.free_slots) is called with a fixed "now" of 2026-11-01: the test never expires.
begin;
set local timezone = 'UTC';
select plan(11);

\set warsaw 'd0000000-0000-4000-8000-000000000001'
\set tokyo  'd0000000-0000-4000-8000-000000000002'
\set owl    'd1000000-0000-4000-8000-000000000001'
\set yoru   'd1000000-0000-4000-8000-000000000002'
select tests.create_location(:'warsaw', 'Warsaw night salon', 'Europe/Warsaw');
select tests.create_location(:'tokyo', 'Tokyo night salon', 'Asia/Tokyo');
-- Sundays (ISO 7), 01:00-04:00 local: straddles both DST switches in Warsaw.
select tests.create_staff(:'warsaw', 'Night owl', :'owl', '{"[01:00,04:00)"}', '{7}');
select tests.create_staff(:'tokyo', 'Yoru', :'yoru', '{"[01:00,04:00)"}', '{7}');
select tests.create_service(:'warsaw', 'Half hour', '30 minutes', array[:'owl']::uuid[],
                            'd2000000-0000-4000-8000-000000000001', p_slot_step => '30 minutes');
select tests.create_service(:'tokyo', 'Half hour', '30 minutes', array[:'yoru']::uuid[],
                            'd2000000-0000-4000-8000-000000000002', p_slot_step => '30 minutes');
select tests.create_service(:'warsaw', 'Hour', '60 minutes', array[:'owl']::uuid[],
                            'd2000000-0000-4000-8000-000000000003', p_slot_step => '30 minutes');

create function pg_temp.local_starts(p_service uuid, p_day date, p_zone text) returns text[] language sql as $$
  select array_agg(to_char(s.starts_at at time zone p_zone, 'HH24:MI') || ' ' || to_char(s.starts_at, 'HH24:MI"Z"')
                   order by s.starts_at)
  from (select distinct f.starts_at from booking.free_slots(p_service, p_day, 1, null, '2026-11-01 00:00+00') f) s $$;

-- Spring forward, 2027-03-28: 02:00 CET jumps to 03:00 CEST, so 02:00 and 02:30 do not exist.
select is(pg_temp.local_starts('d2000000-0000-4000-8000-000000000001', '2027-03-28', 'Europe/Warsaw'),
  array['01:00 00:00Z', '01:30 00:30Z', '03:00 01:00Z', '03:30 01:30Z'],
  'On 2027-03-28 in Warsaw the non-existent 02:00 and 02:30 are never offered');
select is((select count(*)::int from booking.free_slots('d2000000-0000-4000-8000-000000000001', '2027-03-28', 1, null,
                                                        '2026-11-01 00:00+00') f
           where f.starts_at = '2027-03-28 02:30'::timestamp at time zone 'Europe/Warsaw'), 1,
  'The instant PostgreSQL maps a non-existent 02:30 to (03:30 CEST) is offered only as 03:30');
select is((select array_agg(f.ends_at - f.starts_at) from booking.free_slots('d2000000-0000-4000-8000-000000000003', '2027-03-28', 1, null,
                                                        '2026-11-01 00:00+00') f where f.starts_at = '2027-03-28 00:30+00'),
  array[interval '60 minutes'], 'A 60-minute service starting 01:30 across the gap lasts 60 real minutes');
select is(pg_temp.local_starts('d2000000-0000-4000-8000-000000000003', '2027-03-28', 'Europe/Warsaw'),
  array['01:00 00:00Z', '01:30 00:30Z', '03:00 01:00Z'],
  'The working window of two real hours holds three one-hour starts on the spring-forward day');

-- Fall back, 2027-10-31: 03:00 CEST becomes 02:00 CET, so 02:00-03:00 happens twice.
select is(pg_temp.local_starts('d2000000-0000-4000-8000-000000000001', '2027-10-31', 'Europe/Warsaw'),
  array['01:00 23:00Z', '01:30 23:30Z', '02:00 01:00Z', '02:30 01:30Z', '03:00 02:00Z', '03:30 02:30Z'],
  'On 2027-10-31 each wall-clock start is offered once; an ambiguous one is its second (standard-time) occurrence');
select is((select count(*)::int from booking.free_slots('d2000000-0000-4000-8000-000000000001', '2027-10-31', 1, null,
                                                        '2026-11-01 00:00+00') f
           where f.starts_at in ('2027-10-31 00:00+00', '2027-10-31 00:30+00')), 0,
  'The first occurrence of 02:00 and 02:30 (summer time) is never offered');
select is('2027-10-31 02:30'::timestamp at time zone 'Europe/Warsaw', '2027-10-31 01:30+00'::timestamptz,
  'PostgreSQL reads the ambiguous 02:30 as 02:30 CET, which the grid relies on');

-- Asia/Tokyo has no DST: wall clock and instants map one to one all year.
select is(pg_temp.local_starts('d2000000-0000-4000-8000-000000000002', '2027-03-28', 'Asia/Tokyo'),
  array['01:00 16:00Z', '01:30 16:30Z', '02:00 17:00Z', '02:30 17:30Z', '03:00 18:00Z', '03:30 18:30Z'],
  'In Tokyo on 2027-03-28 every half hour from 01:00 to 03:30 is offered');
select is(pg_temp.local_starts('d2000000-0000-4000-8000-000000000002', '2027-10-31', 'Asia/Tokyo'),
  pg_temp.local_starts('d2000000-0000-4000-8000-000000000002', '2027-03-28', 'Asia/Tokyo'),
  'In Tokyo 2027-10-31 has the same grid as 2027-03-28');

-- The write path checks the same grid with the same zone rules.
select lives_ok($$select booking.assert_bookable_time(booking.active_service('d2000000-0000-4000-8000-000000000001'),
                    'Europe/Warsaw', '2027-03-28 01:00+00', '2027-03-28 01:30+00', '2026-11-01 00:00+00')$$,
  'Holding 03:00 CEST on the spring-forward day passes the grid check');
select throws_ok($$select booking.assert_bookable_time(booking.active_service('d2000000-0000-4000-8000-000000000001'),
                    'Europe/Warsaw', '2027-03-28 00:45+00', '2027-03-28 01:15+00', '2026-11-01 00:00+00')$$,
  'BK013', null, 'Holding 01:45 CET, off the 30-minute grid, is refused with BK013');

select * from finish();
rollback;
