-- The public catalogue: api.list_locations, api.location_services (with next_available_day),
-- api.get_service and api.service_resources — what they list, in which order, what they leave out
-- (inactive entries, personal data, internal fields), who may call them (the gateway's own role for
-- anonymous callers too) — and the local times of api.get_availability's slots across both DST
-- changes of Europe/Warsaw in 2031 (2031-03-30 and 2031-10-26).
begin;
set local timezone = 'UTC';
select plan(54);

-- Fixtures. Salon Warszawa (Europe/Warsaw): Anna (staff) and a treatment room perform "Cut" (Anna
-- first), "Retired" is no longer offered, Zenon is inactive. Sundays 01:00-04:00 local, the hours
-- that straddle both DST changes. Salon Zulu (UTC): services whose only working time is one extra
-- hours period some days from today, so next_available_day is known whatever the time of day.
\set waw    'f7000000-0000-4000-8000-000000000001'
\set zulu   'f7000000-0000-4000-8000-000000000002'
\set anna   'f7100000-0000-4000-8000-000000000001'
\set room   'f7100000-0000-4000-8000-000000000002'
\set zenon  'f7100000-0000-4000-8000-000000000003'
\set day5   'f7100000-0000-4000-8000-000000000004'
\set day13  'f7100000-0000-4000-8000-000000000005'
\set day14  'f7100000-0000-4000-8000-000000000006'
\set cut     'f7200000-0000-4000-8000-000000000001'
\set retired 'f7200000-0000-4000-8000-000000000002'
\set in5     'f7200000-0000-4000-8000-000000000003'
\set in13    'f7200000-0000-4000-8000-000000000004'
\set in14    'f7200000-0000-4000-8000-000000000005'
\set nobody  'f7200000-0000-4000-8000-000000000006'

select tests.create_location(:'waw', 'Salon Warszawa', 'Europe/Warsaw');
select tests.create_location(:'zulu', 'Salon Zulu', 'UTC');
select tests.create_staff(:'waw', 'Anna', :'anna', '{"[01:00,04:00)"}', '{7}');
insert into booking.resources (id, location_id, kind, name) values (:'room', :'waw', 'room', 'Treatment room');
select tests.add_working_hours(:'waw', :'room', '{"[01:00,04:00)"}', '{7}');
select tests.create_staff(:'waw', 'Zenon', :'zenon', '{"[01:00,04:00)"}', '{7}');
update booking.resources set active = false where id = :'zenon';
select tests.create_service(:'waw', 'Cut', '30 minutes', array[:'anna', :'room', :'zenon']::uuid[], :'cut',
                            p_buffer_before => '5 minutes', p_buffer_after => '10 minutes',
                            p_slot_step => '30 minutes');
update booking.services set price = 95.50, currency = 'EUR' where id = :'cut';
select tests.create_service(:'waw', 'Retired', '30 minutes', array[:'anna']::uuid[], :'retired', p_active => false);

select tests.create_staff(:'zulu', 'Five', :'day5', '{}');
select tests.create_staff(:'zulu', 'Thirteen', :'day13', '{}');
select tests.create_staff(:'zulu', 'Fourteen', :'day14', '{}');
insert into booking.schedule_exceptions (location_id, resource_id, kind, period)
select :'zulu', r, 'extra_hours',
       tstzrange((current_date + d + time '10:00') at time zone 'UTC', (current_date + d + time '12:00') at time zone 'UTC')
from (values (:'day5'::uuid, 5), (:'day13'::uuid, 13), (:'day14'::uuid, 14)) v(r, d);
select tests.create_service(:'zulu', 'In five days', '60 minutes', array[:'day5']::uuid[], :'in5');
select tests.create_service(:'zulu', 'In thirteen days', '60 minutes', array[:'day13']::uuid[], :'in13');
select tests.create_service(:'zulu', 'In fourteen days', '60 minutes', array[:'day14']::uuid[], :'in14');
select tests.create_service(:'zulu', 'Nobody does it', '60 minutes', p_id => :'nobody');

-- A customer with personal data and a booking, which no public read may show.
select tests.create_customer('public-reads-carla', p_display_name => 'Carla Secret',
                             p_email => 'carla@secret.example', p_phone => '+48111222333');
select api.create_booking_atomic(:'cut', '2031-03-30 01:00 Europe/Warsaw', 'public-reads-carla', '{}');

-- api.list_locations

select results_eq(
  'select id, name, time_zone from api.list_locations() where id in (''f7000000-0000-4000-8000-000000000001'', ''f7000000-0000-4000-8000-000000000002'')',
  format($q$values (%L::uuid, 'Salon Warszawa'::text, 'Europe/Warsaw'::text), (%L::uuid, 'Salon Zulu', 'UTC')$q$,
         :'waw', :'zulu'),
  'list_locations lists id, name and time zone, by name');
select is(pg_get_function_result('api.list_locations()'::regprocedure),
          'TABLE(id uuid, name text, time_zone text)', 'A location is its id, name and time zone, nothing else');

-- api.location_services

select results_eq(
  format('select id, name, duration, buffer_before, buffer_after, price, currency, time_zone, slot_step from api.location_services(%L)', :'waw'),
  format($q$values (%L::uuid, 'Cut'::text, interval '30 minutes', interval '5 minutes', interval '10 minutes',
                    95.50::numeric, 'EUR'::text, 'Europe/Warsaw'::text, interval '30 minutes')$q$, :'cut'),
  'location_services lists the active services with duration, buffers, price, currency, time zone and slot step');
select is(array(select name from api.location_services(:'zulu')),
          array['In five days', 'In fourteen days', 'In thirteen days', 'Nobody does it'],
          'Services come by name');
select throws_ok(format('select * from api.location_services(%L)', gen_random_uuid()), 'BK019', null,
                 'An unknown location is BK019');
select throws_ok('select * from api.location_services(null)', 'BK019', null, 'A NULL location is BK019 too');

-- next_available_day: the first local day, today first, within 14 days that has a free slot
select is((select next_available_day from api.location_services(:'zulu') where id = :'in5'), current_date + 5,
          'next_available_day is the first day with a free slot');
select is((select next_available_day from api.location_services(:'zulu') where id = :'in13'), current_date + 13,
          'The thirteenth day from today is within the 14-day horizon');
select is((select next_available_day from api.location_services(:'zulu') where id = :'in14'), null::date,
          'The fourteenth day from today is beyond it: NULL');
select is((select next_available_day from api.location_services(:'zulu') where id = :'nobody'), null::date,
          'A service nobody performs has no next available day');
select is((select next_available_day from api.location_services(:'waw') where id = :'cut'),
          (select min(a.start_local)::date from api.get_availability(:'cut', (now() at time zone 'Europe/Warsaw')::date, 14) a),
          'next_available_day is the local day of the first slot get_availability offers over the 14 days');
-- one more hour of Five's, two hours from now (today, or tomorrow when that is past midnight)
insert into booking.schedule_exceptions (location_id, resource_id, kind, period)
values (:'zulu', :'day5', 'extra_hours',
        tstzrange(date_trunc('hour', now()) + interval '2 hours', date_trunc('hour', now()) + interval '3 hours'));
select is((select next_available_day from api.location_services(:'zulu') where id = :'in5'),
          (date_trunc('hour', now()) + interval '2 hours')::date,
          'Extra hours soon make the next available day the day they fall on');
select is((select next_available_day from api.get_service(:'in5')), (date_trunc('hour', now()) + interval '2 hours')::date,
          'get_service gives the same next available day');
select is(api.create_booking_atomic(:'in5', date_trunc('hour', now()) + interval '2 hours', 'public-reads-dan', '{}')->>'success',
          'true', 'Someone books the one slot of that hour');
select is((select next_available_day from api.location_services(:'zulu') where id = :'in5'), current_date + 5,
          'Once it is booked, the next available day is the next day with a free slot');

-- api.get_service

select results_eq(
  format('select id, location_id, name, duration, buffer_before, buffer_after, price, currency, time_zone, slot_step from api.get_service(%L)', :'cut'),
  format($q$values (%L::uuid, %L::uuid, 'Cut'::text, interval '30 minutes', interval '5 minutes', interval '10 minutes',
                    95.50::numeric, 'EUR'::text, 'Europe/Warsaw'::text, interval '30 minutes')$q$, :'cut', :'waw'),
  'get_service gives one service with its location, as location_services lists it');
select throws_ok(format('select * from api.get_service(%L)', :'retired'), 'BK002', null,
                 'A service no longer offered is BK002');
select throws_ok(format('select * from api.get_service(%L)', gen_random_uuid()), 'BK001', null,
                 'An unknown service is BK001');

-- api.service_resources

select results_eq(
  format('select id, name, kind from api.service_resources(%L)', :'cut'),
  format($q$values (%L::uuid, 'Anna'::text, 'staff'::text), (%L::uuid, 'Treatment room', 'room')$q$, :'anna', :'room'),
  'service_resources lists the active resources in preference order: id, public name and kind');
update booking.service_resources set preference = 0 where service_id = :'cut' and resource_id = :'room';
select is(array(select name from api.service_resources(:'cut')), array['Treatment room', 'Anna'],
          'The order follows the preference');
select is(pg_get_function_result('api.service_resources(uuid)'::regprocedure),
          'TABLE(id uuid, name text, kind text, pool smallint)',
          'A resource is its id, public name, kind and pool, nothing internal');
select throws_ok(format('select * from api.service_resources(%L)', :'retired'), 'BK002', null,
                 'Resources of a service no longer offered: BK002');
select throws_ok(format('select * from api.service_resources(%L)', gen_random_uuid()), 'BK001', null,
                 'Resources of an unknown service: BK001');

-- Who may read: everyone who may read availability, the gateway's own role (anonymous) included

select function_privs_are('api', f, args, r, array['EXECUTE'], format('%s may call api.%s', r, f))
from (values ('list_locations', array[]::text[]), ('location_services', array['uuid']),
             ('get_service', array['uuid']), ('service_resources', array['uuid'])) fn(f, args),
     unnest(array['booking_customer', 'booking_staff', 'booking_admin', 'booking_gateway']) r;
set local role booking_gateway;
select is((select count(*)::int from api.location_services('f7000000-0000-4000-8000-000000000001')), 1,
          'The gateway''s own role (an anonymous caller) reads a location''s services');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'public-reads-eve');
select is((select name from api.get_service('f7200000-0000-4000-8000-000000000001')), 'Cut',
          'A customer reads a service');
select tests.authenticate_as('staff', 'public-reads-stan');
select set_config('request.jwt.claims', '{"sub": "public-reads-stan", "role": "staff", "locations": ["f7000000-0000-4000-8000-000000000002"]}', true);
select is((select count(*)::int from api.service_resources('f7200000-0000-4000-8000-000000000001')), 2,
          'Staff of another location read the public catalogue too (it is public)');
select is((select count(*)::int from api.location_services(:'waw')), 1,
          'Staff of another location read its services too');
select is((select name from api.get_service(:'cut')), 'Cut', 'Staff of another location read one of its services');
select tests.clear_authentication();

-- No personal data: nothing a public read returns names the customer

select is(
  (select count(*)::int
   from (select to_jsonb(l)::text as t from api.list_locations() l
         union all select to_jsonb(s)::text from api.location_services(:'waw') s
         union all select to_jsonb(s)::text from api.get_service(:'cut') s
         union all select to_jsonb(r)::text from api.service_resources(:'cut') r) x
   where x.t ~* 'carla|secret|48111222333'),
  0, 'No public read shows a customer''s subject, name, e-mail or phone');

-- Inactive entries are not listed

update booking.locations set active = false where id = :'waw';
select throws_ok(format('select * from api.location_services(%L)', :'waw'), 'BK019', null,
                 'The services of a closed location: BK019, as if it did not exist');
select throws_ok(format('select * from api.get_service(%L)', :'cut'), 'BK019', null,
                 'A service of a closed location: BK019');
update booking.locations set active = true where id = :'waw';

update booking.services set active = false where id = :'cut';
select is((select count(*)::int from api.location_services(:'waw')), 0, 'A deactivated service leaves the list');
update booking.services set active = true where id = :'cut';
update booking.resources set active = false where id = :'anna';
select is(array(select name from api.service_resources(:'cut')), array['Treatment room'],
          'A deactivated resource is not listed as performing the service');
update booking.resources set active = true where id = :'anna';

-- api.get_availability: local times across the DST changes of 2031 in Warsaw

create function pg_temp.local_slots(p_service uuid, p_day date) returns text[] language sql as $$
  select array_agg(to_char(a.start_time, 'HH24:MI"Z"') || ' ' || a.time_zone || ' '
                   || to_char(a.start_local, 'YYYY-MM-DD"T"HH24:MI') || '-' || to_char(a.end_local, 'HH24:MI')
                   order by a.start_time)
  from api.get_availability(p_service, p_day) a $$;
select is(pg_temp.local_slots(:'cut', '2031-03-30'),
  array['00:00Z Europe/Warsaw 2031-03-30T01:00-01:30', '00:30Z Europe/Warsaw 2031-03-30T01:30-03:00',
        '01:00Z Europe/Warsaw 2031-03-30T03:00-03:30', '01:30Z Europe/Warsaw 2031-03-30T03:30-04:00'],
  'Spring forward (2031-03-30): the slot from 01:30 ends at 03:00 local, half an hour later in real time');
select is(pg_temp.local_slots(:'cut', '2031-10-26'),
  array['23:00Z Europe/Warsaw 2031-10-26T01:00-01:30', '23:30Z Europe/Warsaw 2031-10-26T01:30-02:00',
        '01:00Z Europe/Warsaw 2031-10-26T02:00-02:30', '01:30Z Europe/Warsaw 2031-10-26T02:30-03:00',
        '02:00Z Europe/Warsaw 2031-10-26T03:00-03:30', '02:30Z Europe/Warsaw 2031-10-26T03:30-04:00'],
  'Fall back (2031-10-26): the slot from 01:30 ends at 02:00 summer time; the next starts at 02:00 standard time');
select is(
  (select jsonb_build_object('start_local', a.start_local, 'end_local', a.end_local)
   from api.get_availability(:'cut', '2031-10-26') a where a.start_time = '2031-10-26 01:00+00'),
  '{"start_local": "2031-10-26T02:00:00", "end_local": "2031-10-26T02:30:00"}'::jsonb,
  'As JSON, a local time is an ISO 8601 date-time without an offset');
select is((select count(*)::int from api.get_availability(:'cut', '2031-03-30') a
           where a.start_local <> (a.start_time at time zone 'Europe/Warsaw')
              or a.end_local <> (a.end_time at time zone 'Europe/Warsaw')
              or a.time_zone <> 'Europe/Warsaw'), 0,
          'Every slot''s local times are its instants on the location''s clock');
select is(pg_get_function_result('api.get_availability(uuid, date, integer, uuid)'::regprocedure),
          'TABLE(slot_id text, start_time timestamp with time zone, end_time timestamp with time zone, resource_ids uuid[], time_zone text, start_local timestamp without time zone, end_local timestamp without time zone, seats_left integer)',
          'get_availability keeps its columns and adds time_zone, start_local, end_local and seats_left');

select * from finish();
rollback;
