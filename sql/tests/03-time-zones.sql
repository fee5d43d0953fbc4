-- Time zones: slots are on the grid of the location's local wall-clock time, across the DST changes
-- of Europe/Warsaw and in zones without DST.
--
-- Warsaw's DST Sundays in 2031: 2031-03-30 (02:00 CET jumps to 03:00 CEST: 02:00-03:00 local does not
-- exist) and 2031-10-26 (03:00 CEST falls back to 02:00 CET: 02:00-03:00 local happens twice). 2031 is
-- used rather than 2027 so that the test keeps working for years. Every resource works Sundays
-- 00:00-06:00 local time.
begin;
select plan(28);

set local timezone = 'UTC';

\set warsaw 'a0000000-0000-0000-0000-000000000001'
\set tokyo  'a0000000-0000-0000-0000-000000000002'
\set utc    'a0000000-0000-0000-0000-000000000003'

select tests.create_location(:'warsaw', 'Warsaw studio', 'Europe/Warsaw');
select tests.create_location(:'tokyo', 'Tokyo studio', 'Asia/Tokyo');
select tests.create_location(:'utc', 'UTC studio', 'UTC');

select tests.create_staff(:'warsaw', 'Warsaw Ann', 'b0000000-0000-0000-0000-000000000001', '{"[00:00,06:00)"}', '{7}');
select tests.create_staff(:'tokyo', 'Tokyo Bob', 'b0000000-0000-0000-0000-000000000002', '{"[00:00,06:00)"}', '{7}');
select tests.create_staff(:'utc', 'UTC Cid', 'b0000000-0000-0000-0000-000000000003', '{"[00:00,06:00)"}', '{7}');

select tests.create_service(:'warsaw', 'Warsaw 30', '30 minutes', '{b0000000-0000-0000-0000-000000000001}',
                            'c0000000-0000-0000-0000-000000000001', p_slot_step => '30 minutes');
select tests.create_service(:'warsaw', 'Warsaw 60', '60 minutes', '{b0000000-0000-0000-0000-000000000001}',
                            'c0000000-0000-0000-0000-000000000002', p_slot_step => '30 minutes');
select tests.create_service(:'tokyo', 'Tokyo 30', '30 minutes', '{b0000000-0000-0000-0000-000000000002}',
                            'c0000000-0000-0000-0000-000000000003', p_slot_step => '30 minutes');
select tests.create_service(:'utc', 'UTC 30', '30 minutes', '{b0000000-0000-0000-0000-000000000003}',
                            'c0000000-0000-0000-0000-000000000004', p_slot_step => '30 minutes');

-- Warsaw, an ordinary Sunday

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-03-23')
        where start_time in ('2031-03-22 23:00+00', '2031-03-23 04:30+00')),
  array['2031-03-22 23:00+00', '2031-03-23 04:30+00']::timestamptz[],
  'On an ordinary winter Sunday 00:00-06:00 Warsaw time is 23:00-05:00 UTC');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-03-23')),
  12, 'An ordinary six-hour shift has twelve 30-minute slots');

-- Warsaw, spring forward (2031-03-30)

select is(
  array(select (start_time at time zone 'Europe/Warsaw')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-03-30')),
  array['00:00', '00:30', '01:00', '01:30', '03:00', '03:30', '04:00', '04:30', '05:00', '05:30']::time[],
  'On the spring-forward night the local times 02:00 and 02:30 are never offered');

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-03-30')),
  array['2031-03-29 23:00+00', '2031-03-29 23:30+00', '2031-03-30 00:00+00', '2031-03-30 00:30+00',
        '2031-03-30 01:00+00', '2031-03-30 01:30+00', '2031-03-30 02:00+00', '2031-03-30 02:30+00',
        '2031-03-30 03:00+00', '2031-03-30 03:30+00']::timestamptz[],
  'The spring-forward shift is five real hours, offered as ten consecutive half hours');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-03-30')
   where (start_time at time zone 'Europe/Warsaw')::time >= '02:00'
     and (start_time at time zone 'Europe/Warsaw')::time < '03:00'),
  0, 'No slot starts in the local hour that does not exist');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-03-30', '02:30')->>'reason',
  'nonexistent_local_time', 'Asking for 02:30 on the spring-forward night says the time does not exist');

select is(
  (api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-03-30', '03:00')->>'start_time')::timestamptz,
  '2031-03-30 01:00+00'::timestamptz,
  '03:00 local on the spring-forward night is 01:00 UTC (CEST, +02)');

select is(
  array(select distinct end_time - start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-03-30')),
  array['60 minutes'::interval],
  'A 60-minute service keeps 60 real minutes on the spring-forward night');

select is(
  (select (end_time at time zone 'Europe/Warsaw')::time
   from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-03-30')
   where (start_time at time zone 'Europe/Warsaw')::time = '01:30'),
  '03:30'::time,
  'A 60-minute slot from 01:30 across the gap ends at 03:30 local time');

select is(
  array(select (start_time at time zone 'Europe/Warsaw')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-03-30')),
  array['00:00', '00:30', '01:00', '01:30', '03:00', '03:30', '04:00', '04:30', '05:00']::time[],
  'The 60-minute service is offered on every existing grid time whose hour fits in the shift');

select is(
  (select (r->>'end_time')::timestamptz - (r->>'start_time')::timestamptz
   from api.create_hold_atomic(null, 'anna', 'c0000000-0000-0000-0000-000000000002', '2031-03-30 00:30+00',
                               '2031-03-30 01:30+00', null, 'anna-session') r),
  '60 minutes'::interval,
  'A hold from 01:30 local across the gap covers 60 real minutes');

select is(
  (select upper(occupied) - lower(occupied) from booking.reservations
   where service_id = 'c0000000-0000-0000-0000-000000000002' and status = 'held'),
  '60 minutes'::interval,
  'The held row occupies 60 real minutes');

select throws_ok(
  $$select api.create_hold_atomic(null, 'anna', 'c0000000-0000-0000-0000-000000000002',
                                  '2031-03-30 00:15+00', '2031-03-30 01:15+00', null, 'anna-session')$$,
  'BK013', null, 'A start that is 02:15 local in the nonexistent hour is off the grid');

-- Warsaw, fall back (2031-10-26)

select is(
  array(select (start_time at time zone 'Europe/Warsaw')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-10-26')),
  array['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '03:00', '03:30', '04:00', '04:30',
        '05:00', '05:30']::time[],
  'On the fall-back night each grid wall-clock time is offered exactly once');

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-10-26')),
  array['2031-10-25 22:00+00', '2031-10-25 22:30+00', '2031-10-25 23:00+00', '2031-10-25 23:30+00',
        '2031-10-26 01:00+00', '2031-10-26 01:30+00', '2031-10-26 02:00+00', '2031-10-26 02:30+00',
        '2031-10-26 03:00+00', '2031-10-26 03:30+00', '2031-10-26 04:00+00', '2031-10-26 04:30+00']::timestamptz[],
  'The ambiguous 02:00 and 02:30 are offered at their second occurrence (CET, +01), the first is skipped');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-10-26')
   where start_time in ('2031-10-26 00:00+00', '2031-10-26 00:30+00')),
  0, 'The first occurrence of 02:00 and 02:30 (CEST, +02) is not offered');

select is(
  (api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-10-26', '02:00')->>'start_time')::timestamptz,
  '2031-10-26 01:00+00'::timestamptz,
  'validate_service_availability reads the ambiguous 02:00 as its second occurrence, as get_availability does');

select throws_ok(
  $$select api.create_hold_atomic(null, 'anna', 'c0000000-0000-0000-0000-000000000001',
                                  '2031-10-26 00:00+00', '2031-10-26 00:30+00', null, 'anna-session')$$,
  'BK013', null, 'A hold on the first occurrence of 02:00 is refused as off the grid, matching what is offered');

select ok(
  (api.create_hold_atomic(null, 'anna', 'c0000000-0000-0000-0000-000000000001', '2031-10-26 01:00+00',
                          '2031-10-26 01:30+00', null, 'anna-session')->>'success')::boolean,
  'A hold on the offered 02:00 (CET) succeeds');

select is(
  array(select distinct end_time - start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-10-26')),
  array['60 minutes'::interval],
  'A 60-minute service keeps 60 real minutes on the fall-back night');

-- The availability version is kept per local day: a hold at 00:30 Warsaw time on 2031-03-23 is on
-- 2031-03-22 in UTC, and must bump the version of the 23rd. Events are written by deferred triggers at
-- commit; fire them now.
set constraints all immediate;

select api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-03-23') as local_day_before,
       api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-03-22') as utc_day_before
\gset

select ok(
  (api.create_hold_atomic(null, 'boris', 'c0000000-0000-0000-0000-000000000001', '2031-03-22 23:30+00',
                          '2031-03-23 00:00+00', null, 'boris-session')->>'success')::boolean,
  'A hold at 00:30 Warsaw time on 2031-03-23 succeeds');

select cmp_ok(
  api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-03-23'), '>', :local_day_before::bigint,
  'The hold bumps the availability version of its local day');

select is(
  api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-03-22'), :utc_day_before::bigint,
  'The hold leaves the version of its UTC day (the local day before) alone');

-- Zones without DST: hours map 1:1

select is(
  array(select (start_time at time zone 'Asia/Tokyo')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000003', '2031-03-30')),
  array['00:00', '00:30', '01:00', '01:30', '02:00', '02:30', '03:00', '03:30', '04:00', '04:30',
        '05:00', '05:30']::time[],
  'In Tokyo the European spring-forward Sunday is an ordinary day of twelve slots');

select is(
  array(select distinct (start_time at time zone 'Asia/Tokyo') - (start_time at time zone 'UTC')
        from api.get_availability('c0000000-0000-0000-0000-000000000003', '2031-10-26')),
  array['09:00:00'::interval],
  'Every Tokyo slot is exactly nine hours ahead of UTC');

select is(
  (select min(start_time) from api.get_availability('c0000000-0000-0000-0000-000000000003', '2031-10-26')),
  '2031-10-25 15:00+00'::timestamptz,
  'Midnight in Tokyo is 15:00 UTC the day before');

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000004', '2031-03-30')
        where start_time in ('2031-03-30 00:00+00', '2031-03-30 02:00+00', '2031-03-30 05:30+00')),
  array['2031-03-30 00:00+00', '2031-03-30 02:00+00', '2031-03-30 05:30+00']::timestamptz[],
  'In a UTC location 00:00, 02:00 and 05:30 local are the same UTC times');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000004', '2031-10-26')),
  12, 'In a UTC location the fall-back Sunday has twelve slots, like any other');

select * from finish();
rollback;
