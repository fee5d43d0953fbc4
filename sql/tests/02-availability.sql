-- Availability: free slots from weekly hours, exceptions, buffers, notice and advance limits, the slot
-- grid, live holds and bookings; the yes/no check of one time; the availability version.
--
-- One location in UTC (so local time = UTC and the expected times read plainly). Every scenario uses
-- its own Monday in 2031, so the weekly hours recur and the scenarios do not touch each other:
--   2031-06-02 plain hours, grid, preference, filter, several days   2031-06-30 buffers (S2 on Cid)
--   2031-06-09 time off of Ann                                       2031-07-07 live holds
--   2031-06-16 closure of the whole location                          2031-07-14 a booking
--   2031-06-23 extra hours of Ann                                     2031-07-21 an expired hold
--                                                                     2031-07-28 availability version
begin;
select plan(43);

set local timezone = 'UTC';

\set loc 'a0000000-0000-0000-0000-000000000001'
\set ann 'b0000000-0000-0000-0000-000000000001'
\set bob 'b0000000-0000-0000-0000-000000000002'
\set cid 'b0000000-0000-0000-0000-000000000003'
\set dee 'b0000000-0000-0000-0000-000000000004'

select tests.create_location(p_id => :'loc');

-- Ann: Monday 09:00-12:00 and Tuesday 14:00-15:00; Bob: Monday 10:00-12:00; Cid: every day 09:00-12:00;
-- Dee: Monday 09:00-12:00.
select tests.create_staff(:'loc', 'Ann', :'ann', '{"[09:00,12:00)"}', '{1}');
select tests.add_working_hours(:'loc', :'ann', '{"[14:00,15:00)"}', '{2}');
select tests.create_staff(:'loc', 'Bob', :'bob', '{"[10:00,12:00)"}', '{1}');
select tests.create_staff(:'loc', 'Cid', :'cid', '{"[09:00,12:00)"}');
select tests.create_staff(:'loc', 'Dee', :'dee', '{"[09:00,12:00)"}', '{1}');

-- Ann and Bob perform the manicure (Bob preferred, although his id sorts after Ann's); Cid does the
-- buffered, short-notice and near-limit services; Dee performs nothing.
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'bob', :'ann']::uuid[],
                            'c0000000-0000-0000-0000-000000000001', p_slot_step => '30 minutes');
select tests.create_service(:'loc', 'Massage with buffers', '30 minutes', array[:'cid']::uuid[],
                            'c0000000-0000-0000-0000-000000000002', p_buffer_before => '15 minutes',
                            p_buffer_after => '15 minutes', p_slot_step => '15 minutes');
select tests.create_service(:'loc', 'Short notice', '60 minutes', array[:'cid']::uuid[],
                            'c0000000-0000-0000-0000-000000000003', p_slot_step => '60 minutes',
                            p_min_notice => '2 hours');
select tests.create_service(:'loc', 'Near limit', '60 minutes', array[:'cid']::uuid[],
                            'c0000000-0000-0000-0000-000000000004', p_slot_step => '60 minutes',
                            p_max_advance => '30 days');

-- Exceptions: Ann off 09:00-10:00 on 06-09; the whole location closed 10:30-11:30 on 06-16;
-- Ann works extra 14:00-16:00 on 06-23; Cid works around the clock from yesterday to the day after tomorrow.
-- (Written directly: this is the one file that needs exceptions, so there is no tests.* helper for them.)
insert into booking.schedule_exceptions (location_id, resource_id, kind, period) values
  (:'loc', :'ann', 'time_off', '[2031-06-09 09:00+00, 2031-06-09 10:00+00)'),
  (:'loc', null, 'closure', '[2031-06-16 10:30+00, 2031-06-16 11:30+00)'),
  (:'loc', :'ann', 'extra_hours', '[2031-06-23 14:00+00, 2031-06-23 16:00+00)'),
  (:'loc', :'cid', 'extra_hours', tstzrange(now() - interval '1 day', now() + interval '2 days'));

-- Weekly working hours and the slot grid

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')),
  array['09:00', '09:30', '10:00', '10:30', '11:00']::time[],
  'A 60-minute service is offered every 30 minutes from the first hour worked until an hour before closing');

select is(
  array(select end_time - start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')),
  array_fill('60 minutes'::interval, array[5]),
  'Every offered slot lasts the service''s duration');

select is(
  (select slot_id from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')
   where start_time = '2031-06-02 10:00+00'),
  'c0000000-0000-0000-0000-000000000001@2031-06-02T10:00:00Z',
  'A slot id is the service id and the start in UTC');

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')
   where start_time = '2031-06-02 09:00+00'),
  array['b0000000-0000-0000-0000-000000000001']::uuid[],
  'Before Bob starts at 10:00 only Ann is offered');

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')
   where start_time = '2031-06-02 10:00+00'),
  array['b0000000-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-000000000001']::uuid[],
  'resource_ids lists the free resources in preference order, not id order');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-04')),
  0, 'A day without working hours has no slots');

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', 1,
                                  'b0000000-0000-0000-0000-000000000002')),
  array['2031-06-02 10:00+00', '2031-06-02 10:30+00', '2031-06-02 11:00+00']::timestamptz[],
  'p_resource_id restricts the slots to that resource''s hours');

select is(
  array(select distinct unnest(resource_ids)
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', 1,
                                  'b0000000-0000-0000-0000-000000000002')),
  array['b0000000-0000-0000-0000-000000000002']::uuid[],
  'With p_resource_id no other resource appears in resource_ids');

select is(
  (select count(*)::int
   from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', 1,
                             'b0000000-0000-0000-0000-000000000004')),
  0, 'A resource that does not perform the service gets no slots');

select is(
  array(select start_time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', 3)),
  array['2031-06-02 09:00+00', '2031-06-02 09:30+00', '2031-06-02 10:00+00', '2031-06-02 10:30+00',
        '2031-06-02 11:00+00', '2031-06-03 14:00+00']::timestamptz[],
  'p_days = 3 returns the slots of Monday, Tuesday and (none on) Wednesday in order');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-03')),
  1, 'A one-hour Tuesday shift fits exactly one 60-minute slot');

-- Exceptions

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-09')),
  array['10:00', '10:30', '11:00']::time[],
  'Time off of Ann removes her slots that overlap it, and nobody else covers 09:00-10:00');

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-09')
   where start_time = '2031-06-09 10:00+00'),
  array['b0000000-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-000000000001']::uuid[],
  'After her time off Ann is offered again');

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-16')),
  array['09:00', '09:30']::time[],
  'A closure of the whole location (resource_id NULL) removes every resource''s slots overlapping it');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-06-16')
   where tstzrange(start_time, end_time) && '[2031-06-16 10:30+00, 2031-06-16 11:30+00)'),
  0, 'The location closure applies to every service there');

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-23')),
  array['09:00', '09:30', '10:00', '10:30', '11:00', '14:00', '14:30', '15:00']::time[],
  'Extra hours add slots outside the weekly hours');

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-23')
   where start_time = '2031-06-23 14:00+00'),
  array['b0000000-0000-0000-0000-000000000001']::uuid[],
  'Extra hours belong to the one resource they were given to');

-- Buffers: a 30-minute service with 15 minutes before and after, on a 15-minute grid

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-06-30')),
  11, 'Without bookings a 30-minute service fits 11 starts on a 15-minute grid in 09:00-12:00');

select ok(
  (api.create_booking_atomic('c0000000-0000-0000-0000-000000000002', '2031-06-30 10:00+00', 'carol',
                             '{}'::jsonb)->>'success')::boolean,
  'A buffered booking at 10:00 succeeds');

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000002', '2031-06-30')),
  array['09:00', '11:00', '11:15', '11:30']::time[],
  'Buffers keep a gap next to a booking: nothing from 09:15 to 10:45 is offered');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000002', '2031-06-30', '10:45')->>'reason',
  'taken', 'A start right after a buffered booking, inside its after-buffer, is reported taken');

-- Minimum notice and maximum advance

select is(
  (select min(start_time) from api.get_availability('c0000000-0000-0000-0000-000000000003', current_date, 2)),
  date_trunc('hour', now() + interval '2 hours')
    + case when date_trunc('hour', now() + interval '2 hours') < now() + interval '2 hours'
           then interval '1 hour' else interval '0' end,
  'The first slot offered is the first grid start at least the minimum notice from now');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000003', current_date, 2)
   where start_time < now() + interval '2 hours'),
  0, 'No slot closer than the minimum notice is offered');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000004', current_date + 29)),
  3, 'A day inside the maximum advance is offered in full');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000004', current_date + 30)),
  (select count(*)::int from unnest(array[9, 10, 11]) h
   where (current_date + 30) + make_interval(hours => h) <= now() + interval '30 days'),
  'On the last bookable day only the starts within the maximum advance are offered');

select is(
  (select count(*)::int from api.get_availability('c0000000-0000-0000-0000-000000000004', current_date + 31, 5)),
  0, 'Nothing beyond the maximum advance is offered');

-- validate_service_availability

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', '10:00'),
  jsonb_build_object('available', true, 'reason', null,
                     'start_time', '2031-06-02 10:00+00'::timestamptz, 'end_time', '2031-06-02 11:00+00'::timestamptz,
                     'time_zone', 'UTC', 'start_local', '2031-06-02T10:00:00', 'end_local', '2031-06-02T11:00:00',
                     'resource_ids', jsonb_build_array('b0000000-0000-0000-0000-000000000002',
                                                       'b0000000-0000-0000-0000-000000000001'),
                     'seats_left', 2),
  'A free time is available on every free resource in preference order, with its local times and the seats left (one per free resource)');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', '09:15')->>'reason',
  'off_grid', 'A time between grid points is off the grid');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', '11:30')->>'reason',
  'outside_working_hours', 'A slot that would run past closing is outside working hours');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02', '10:00',
                                    '45 minutes')->>'reason',
  'wrong_duration', 'Asking for a duration other than the service''s is refused');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000001', '2020-01-06', '10:00')->>'reason',
  'too_soon_or_past', 'A time in the past is not available');

select is(
  api.validate_service_availability('c0000000-0000-0000-0000-000000000004', current_date + 40, '10:00')->>'reason',
  'too_far_ahead', 'A time beyond the maximum advance is not available');

-- Live holds and bookings

select is(
  api.create_hold_atomic(null, 'erin', 'c0000000-0000-0000-0000-000000000001', '2031-07-07 10:00+00',
                         '2031-07-07 11:00+00', null, 'erin-session',
                         'b0000000-0000-0000-0000-000000000002')->>'resource_id',
  'b0000000-0000-0000-0000-000000000002', 'A hold on Bob at 10:00 is taken');

select is(
  array(select array[start_time::text, resource_ids::text]
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-07-07')
        where start_time >= '2031-07-07 10:00+00'),
  array[array['2031-07-07 10:00:00+00', '{b0000000-0000-0000-0000-000000000001}'],
        array['2031-07-07 10:30:00+00', '{b0000000-0000-0000-0000-000000000001}'],
        array['2031-07-07 11:00:00+00', '{b0000000-0000-0000-0000-000000000002,b0000000-0000-0000-0000-000000000001}']],
  'A live hold removes Bob from every slot it overlaps, and only those');

select ok(
  (api.create_hold_atomic(null, 'fred', 'c0000000-0000-0000-0000-000000000001', '2031-07-07 10:00+00',
                          '2031-07-07 11:00+00', null, 'fred-session')->>'success')::boolean,
  'A second customer holds the same time with Ann, the only one still free');

select is(
  array(select (start_time at time zone 'UTC')::time
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-07-07')),
  array['09:00', '11:00']::time[],
  'When every resource is held the overlapping slots disappear and the others stay');

select ok(
  (api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', '2031-07-14 10:00+00', 'gina', '{}'::jsonb,
                             'b0000000-0000-0000-0000-000000000001')->>'success')::boolean,
  'A booking with Ann at 10:00 succeeds');

select is(
  array(select array[(start_time at time zone 'UTC')::time::text, resource_ids::text]
        from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-07-14')),
  array[array['09:00:00', '{b0000000-0000-0000-0000-000000000001}'],
        array['10:00:00', '{b0000000-0000-0000-0000-000000000002}'],
        array['10:30:00', '{b0000000-0000-0000-0000-000000000002}'],
        array['11:00:00', '{b0000000-0000-0000-0000-000000000002,b0000000-0000-0000-0000-000000000001}']],
  'A booking removes its resource from the slots it overlaps, and 09:30 (only Ann works) disappears');

-- A hold whose expires_at has passed (written directly: the API never makes one) frees its time at once.
insert into booking.reservations (location_id, resource_id, service_id, customer_id, starts_at, ends_at,
                                  occupied, status, expires_at, session_id)
values ('a0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001',
        'c0000000-0000-0000-0000-000000000001', booking.customer_id_for('hank'),
        '2031-07-21 09:00+00', '2031-07-21 10:00+00', '[2031-07-21 09:00+00, 2031-07-21 10:00+00)',
        'held', now() - interval '1 minute', 'hank-session');

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-07-21')
   where start_time = '2031-07-21 09:00+00'),
  array['b0000000-0000-0000-0000-000000000001']::uuid[],
  'An expired hold, not yet cleaned up, does not remove its slot');

-- availability_version: events are written at commit by deferred triggers; fire them now.
set constraints all immediate;

select api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-07-28') as version_before,
       api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-08-04') as other_day_before
\gset

select ok(
  (api.create_hold_atomic(null, 'ivan', 'c0000000-0000-0000-0000-000000000001', '2031-07-28 10:00+00',
                          '2031-07-28 11:00+00', null, 'ivan-session')->>'success')::boolean,
  'A hold on 2031-07-28 is taken');

select cmp_ok(
  api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-07-28'), '>', :version_before::bigint,
  'The availability version of the held day grows after the hold');

select is(
  api.availability_version('c0000000-0000-0000-0000-000000000001', '2031-08-04'), :other_day_before::bigint,
  'The availability version of another day stays as it was');

-- An inactive resource is offered nowhere.
update booking.resources set active = false where id = 'b0000000-0000-0000-0000-000000000002';

select is(
  (select resource_ids from api.get_availability('c0000000-0000-0000-0000-000000000001', '2031-06-02')
   where start_time = '2031-06-02 10:00+00'),
  array['b0000000-0000-0000-0000-000000000001']::uuid[],
  'A resource marked inactive disappears from resource_ids');

select * from finish();
rollback;
