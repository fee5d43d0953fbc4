-- Staff views: api.location_schedule (a location's local day per resource: working hours, exceptions,
-- bookings and live holds with the customer's contact details, free gaps) and api.search_bookings
-- (by customer, local day range and status, a page at a time), with local times across the DST changes
-- of Europe/Warsaw in 2031 (2031-03-30: 23 hours; 2031-10-26: 25 hours), and who may read them:
-- staff and admins, at the locations their token names.
begin;
set local timezone = 'UTC';
select plan(73);

-- Fixtures. Warsaw desk (Europe/Warsaw): Anna works 08:00-12:00 and Bartek 09:00-17:00 every day,
-- Zenon 08:00-12:00 but is inactive by the day. On 2031-03-30 Anna has time off 11:00-12:00, the
-- whole location closes 16:00-17:00 and Bartek has extra hours 00:00-01:30 and 20:00-21:00.
-- Utc desk (UTC): Uma.
\set w      'f8000000-0000-4000-8000-000000000001'
\set u      'f8000000-0000-4000-8000-000000000002'
\set anna   'f8100000-0000-4000-8000-000000000001'
\set bartek 'f8100000-0000-4000-8000-000000000002'
\set zenon  'f8100000-0000-4000-8000-000000000003'
\set uma    'f8100000-0000-4000-8000-000000000004'
\set cut    'f8200000-0000-4000-8000-000000000001'
\set quick  'f8200000-0000-4000-8000-000000000002'
\set ucut   'f8200000-0000-4000-8000-000000000003'

select tests.create_location(:'w', 'Warsaw desk', 'Europe/Warsaw');
select tests.create_location(:'u', 'Utc desk', 'UTC');
select tests.create_staff(:'w', 'Anna', :'anna', '{"[08:00,12:00)"}');
select tests.create_staff(:'w', 'Bartek', :'bartek', '{"[09:00,17:00)"}');
select tests.create_staff(:'w', 'Zenon', :'zenon', '{"[08:00,12:00)"}');
select tests.create_staff(:'u', 'Uma', :'uma');
select tests.create_service(:'w', 'Cut', '60 minutes', array[:'anna', :'bartek']::uuid[], :'cut',
                            p_buffer_after => '15 minutes');
select tests.create_service(:'w', 'Quick', '30 minutes', array[:'anna', :'bartek', :'zenon']::uuid[], :'quick');
select tests.create_service(:'u', 'Cut', '60 minutes', array[:'uma']::uuid[], :'ucut');
insert into booking.schedule_exceptions (location_id, resource_id, kind, period, note) values
  (:'w', :'anna', 'time_off', tstzrange('2031-03-30 11:00 Europe/Warsaw', '2031-03-30 12:00 Europe/Warsaw'), 'dentist'),
  (:'w', null, 'closure', tstzrange('2031-03-30 16:00 Europe/Warsaw', '2031-03-30 17:00 Europe/Warsaw'), 'staff meeting'),
  (:'w', :'bartek', 'extra_hours', tstzrange('2031-03-30 00:00 Europe/Warsaw', '2031-03-30 01:30 Europe/Warsaw'), null),
  (:'w', :'bartek', 'extra_hours', tstzrange('2031-03-30 20:00 Europe/Warsaw', '2031-03-30 21:00 Europe/Warsaw'), null);

-- The reservations of 2031-03-30 (and one of the day after)
select api.create_booking_atomic(:'cut', '2031-03-30 09:00 Europe/Warsaw', 'desk-alice',
  '{"note": "fringe", "contact": {"name": "Alice Nowak", "email": "alice@example.com", "phone": "+48 600 111 222"}}',
  p_resource_id => :'anna')->>'booking_id' as alice \gset
select api.create_booking_atomic(:'cut', '2031-03-31 09:00 Europe/Warsaw', 'desk-alice', '{}',
                                 p_resource_id => :'anna')->>'booking_id' as alice2 \gset
select api.create_hold_atomic(null, 'desk-bob', :'quick', '2031-03-30 10:30 Europe/Warsaw', null, null, 'sess-bob',
                              :'anna')->>'hold_id' as bob \gset
select api.create_hold_atomic(null, 'desk-carol', :'quick', '2031-03-30 08:00 Europe/Warsaw', null, null, 'sess-carol',
                              :'anna')->>'hold_id' as carol \gset
update booking.reservations set expires_at = now() - interval '1 minute' where id = :'carol';   -- lapsed
select api.create_booking_atomic(:'cut', '2031-03-30 09:00 Europe/Warsaw', 'desk-dave', '{}',
                                 p_resource_id => :'bartek')->>'booking_id' as dave \gset
select api.cancel_booking(:'dave', 'changed plans');
select api.create_booking_atomic(:'cut', '2031-03-30 00:30 Europe/Warsaw', 'desk-erin',
  '{"contact": {"name": "Erin Early"}}', p_resource_id => :'bartek')->>'booking_id' as erin \gset
select api.create_booking_atomic(:'quick', '2031-03-30 08:00 Europe/Warsaw', 'desk-zoe', '{}',
                                 p_resource_id => :'zenon')->>'booking_id' as zoe \gset
update booking.resources set active = false where id = :'zenon';

create function pg_temp.spans(p_spans jsonb) returns text[] language sql as $$
  select array_agg(to_char((s->>'start_local')::timestamp, 'HH24:MI') || '-' || to_char((s->>'end_local')::timestamp, 'HH24:MI')
                   order by (s->>'start_time')::timestamptz)
  from jsonb_array_elements(p_spans) s $$;
create function pg_temp.resource(p_day jsonb, p_name text) returns jsonb language sql as $$
  select r from jsonb_array_elements(p_day->'resources') r where r->>'name' = p_name $$;

-- api.location_schedule: the spring-forward day, 23 hours long

select api.location_schedule(:'w', '2031-03-30') as day \gset
select is(array(select jsonb_object_keys(:'day'::jsonb) order by 1),
          array['date', 'end_local', 'end_time', 'location_id', 'resources', 'start_local', 'start_time', 'time_zone'],
          'The day view says its location, date, zone, span and resources');
select is((:'day'::jsonb) - 'resources',
          jsonb_build_object('location_id', :'w', 'date', '2031-03-30', 'time_zone', 'Europe/Warsaw',
                             'start_time', '2031-03-29 23:00+00'::timestamptz, 'end_time', '2031-03-30 22:00+00'::timestamptz,
                             'start_local', '2031-03-30T00:00:00', 'end_local', '2031-03-31T00:00:00'),
          'The day runs from local midnight to local midnight: 23 hours on the spring-forward day');
select is(array(select r->>'name' || ':' || (r->>'active') from jsonb_array_elements((:'day'::jsonb)->'resources') r),
          array['Anna:true', 'Bartek:true', 'Zenon:false'],
          'Resources by name: the active ones, and an inactive one with a booking that day');
select is(array(select jsonb_object_keys(pg_temp.resource(:'day', 'Anna')) order by 1),
          array['active', 'exceptions', 'free', 'kind', 'name', 'reservations', 'resource_id', 'working_hours'],
          'Each resource has its working hours, exceptions, reservations and free gaps');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Anna')->'working_hours'), array['08:00-11:00'],
          'Anna works 08:00-11:00: her weekly hours minus her time off');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Bartek')->'working_hours'),
          array['00:00-01:30', '09:00-16:00', '20:00-21:00'],
          'Bartek''s working time: extra hours, weekly hours minus the closure, more extra hours');
select is(array(select e->>'kind' || '/' || (e->>'scope') || '/' || coalesce(e->>'note', '')
                from jsonb_array_elements(pg_temp.resource(:'day', 'Anna')->'exceptions') e),
          array['time_off/resource/dentist', 'closure/location/staff meeting'],
          'Anna''s exceptions: her time off and the location''s closure, by start');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Anna')->'exceptions'), array['11:00-12:00', '16:00-17:00'],
          'Exceptions carry their local times');
select is(array(select e->>'kind' from jsonb_array_elements(pg_temp.resource(:'day', 'Bartek')->'exceptions') e),
          array['extra_hours', 'closure', 'extra_hours'], 'Bartek''s exceptions, by start');
select is(array(select r->>'id' || ':' || (r->>'status') from jsonb_array_elements(pg_temp.resource(:'day', 'Anna')->'reservations') r),
          array[:'alice' || ':confirmed', :'bob' || ':held'],
          'Anna''s reservations: the booking and the live hold, by start; not the lapsed hold');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Anna')->'reservations'), array['09:00-10:00', '10:30-11:00'],
          'Reservations carry their local times');
select is(pg_temp.resource(:'day', 'Anna')->'reservations'->0->'customer',
          '{"subject": "desk-alice", "name": "Alice Nowak", "email": "alice@example.com", "phone": "+48600111222"}'::jsonb,
          'Staff see the customer''s subject, name, e-mail and phone');
select is((pg_temp.resource(:'day', 'Anna')->'reservations'->0) - 'customer' - 'created_at' - 'updated_at',
          jsonb_build_object('id', :'alice', 'status', 'confirmed', 'service_id', :'cut', 'service_name', 'Cut',
                             'resource_id', :'anna', 'resource_name', 'Anna', 'expires_at', null, 'version', 1, 'seats', 1,
                             'details', '{"note": "fringe"}'::jsonb, 'cancel_reason', null, 'time_zone', 'Europe/Warsaw',
                             'start_time', '2031-03-30 07:00+00'::timestamptz, 'end_time', '2031-03-30 08:00+00'::timestamptz,
                             'start_local', '2031-03-30T09:00:00', 'end_local', '2031-03-30T10:00:00'),
          'A reservation in the day view: service, resource, times, version, seats, details (no contact in them)');
select ok((pg_temp.resource(:'day', 'Anna')->'reservations'->1->>'expires_at')::timestamptz > now(),
          'A live hold shows when it lapses');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Anna')->'free'), array['08:00-09:00', '10:15-10:30'],
          'Anna''s free gaps: working time no reservation occupies (the lapsed hold frees 08:00; the buffer keeps 10:00-10:15)');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Bartek')->'free'), array['00:00-00:30', '09:00-16:00', '20:00-21:00'],
          'Bartek''s free gaps: the cancelled booking frees its time');
select is(pg_temp.spans(pg_temp.resource(:'day', 'Bartek')->'reservations'), array['00:30-01:30'],
          'A booking at 00:30 local (23:30 UTC the day before) is on this local day');
select is(
  (select count(*)::int from jsonb_path_query(:'day'::jsonb, 'strict $.** ? (exists (@.start_local))') s
   where (s->>'start_local')::timestamp <> (s->>'start_time')::timestamptz at time zone 'Europe/Warsaw'
      or (s->>'end_local')::timestamp <> (s->>'end_time')::timestamptz at time zone 'Europe/Warsaw'
      or s->>'time_zone' <> 'Europe/Warsaw'),
  0, 'Every span in the day view carries its instants read on the location''s clock');
select is((select count(*)::int from jsonb_path_query(:'day'::jsonb, 'strict $.** ? (exists (@.start_local))')), 22,
          'and that is all 22 of them: the day; Anna 7, Bartek 10, Zenon 4 (hours, exceptions, reservations, gaps)');
select is(array(select r->>'name' from jsonb_array_elements(api.location_schedule(:'w', '2031-03-30', :'bartek')->'resources') r),
          array['Bartek'], 'p_resource_id narrows the day to one resource');
select is(array(select r->>'name' from jsonb_array_elements(api.location_schedule(:'w', '2031-04-01')->'resources') r),
          array['Anna', 'Bartek'], 'An inactive resource with nothing that day is left out');
select throws_ok(format('select api.location_schedule(%L, %L, %L)', :'w', '2031-03-30', :'uma'), 'BK019', null,
                 'A resource of another location is BK019');
select throws_ok(format('select api.location_schedule(%L, %L, %L)', :'w', '2031-03-30', gen_random_uuid()), 'BK019', null,
                 'An unknown resource is BK019');
select throws_ok(format('select api.location_schedule(%L, null)', :'w'), 'BK014', null, 'The day is required (BK014)');
select throws_ok(format('select api.location_schedule(%L, %L)', gen_random_uuid(), '2031-03-30'), 'BK019', null,
                 'An unknown location is BK019');

-- the fall-back day, 25 hours long
select api.location_schedule(:'w', '2031-10-26', :'anna') as fall \gset
select is(((:'fall'::jsonb)->>'end_time')::timestamptz - ((:'fall'::jsonb)->>'start_time')::timestamptz, interval '25 hours',
          'The fall-back day (2031-10-26) lasts 25 hours');
select is(pg_temp.resource(:'fall', 'Anna')->'working_hours'->0,
          jsonb_build_object('start_time', '2031-10-26 07:00+00'::timestamptz, 'end_time', '2031-10-26 11:00+00'::timestamptz,
                             'time_zone', 'Europe/Warsaw', 'start_local', '2031-10-26T08:00:00', 'end_local', '2031-10-26T12:00:00'),
          'After the change, 08:00-12:00 local is 07:00-11:00 UTC');

-- api.search_bookings

create function pg_temp.ids(p_page jsonb) returns uuid[] language sql as $$
  select coalesce(array_agg((b->>'id')::uuid order by n), '{}') from jsonb_array_elements(p_page->'bookings') with ordinality x(b, n) $$;
select array_agg(r.id order by r.starts_at, r.id) as everything from booking.reservations r where r.location_id = :'w' \gset

select is(array(select jsonb_object_keys(api.search_bookings(:'w')) order by 1),
          array['bookings', 'location_id', 'next', 'time_zone'], 'A search gives its location, zone, bookings and next page');
select is(pg_temp.ids(api.search_bookings(:'w')), :'everything'::uuid[],
          'Without filters: every hold and booking of the location, in start order then id');
select is(pg_temp.ids(api.search_bookings(:'u')), '{}'::uuid[], 'Nothing of another location');
select is(pg_temp.ids(api.search_bookings(:'w', 'desk-alice')), array[:'alice', :'alice2']::uuid[],
          'A customer by subject');
select is(pg_temp.ids(api.search_bookings(:'w', 'desk-ali')), '{}'::uuid[], 'A subject matches only whole');
select is(pg_temp.ids(api.search_bookings(:'w', 'NOWAK')), array[:'alice', :'alice2']::uuid[],
          'A customer by part of the name, in any case');
select is(pg_temp.ids(api.search_bookings(:'w', 'example.COM')), array[:'alice', :'alice2']::uuid[],
          'A customer by part of the e-mail');
select is(pg_temp.ids(api.search_bookings(:'w', '600 111')), array[:'alice', :'alice2']::uuid[],
          'A customer by part of the phone, written with separators');
select is(pg_temp.ids(api.search_bookings(:'w', '%')), '{}'::uuid[], 'LIKE wildcards in the text are taken literally');
select is(pg_temp.ids(api.search_bookings(:'w', p_statuses => array['cancelled'])), array[:'dave']::uuid[],
          'By status: cancelled');
select is(pg_temp.ids(api.search_bookings(:'w', p_statuses => array['expired'])), array[:'carol']::uuid[],
          'By effective status: a lapsed hold is expired');
select is(pg_temp.ids(api.search_bookings(:'w', p_statuses => array['held'])), array[:'bob']::uuid[],
          'held means the live holds only');
select is(pg_temp.ids(api.search_bookings(:'w', p_statuses => array['confirmed', 'held'], p_to => '2031-03-30')),
          array(select x::uuid from unnest(:'everything'::uuid[]) x
                where x in (:'erin', :'zoe', :'alice', :'bob')
                order by array_position(:'everything'::uuid[], x)),
          'Several statuses at once, and an end day');
select is(pg_temp.ids(api.search_bookings(:'w', p_from => '2031-03-30', p_to => '2031-03-30', p_customer => 'desk-erin')),
          array[:'erin']::uuid[], 'Local days: a booking at 00:30 local on the 30th (23:30 UTC on the 29th) is on the 30th');
select is(pg_temp.ids(api.search_bookings(:'w', p_from => '2031-03-29', p_to => '2031-03-29')), '{}'::uuid[],
          'and not on the 29th');
select is(pg_temp.ids(api.search_bookings(:'w', p_from => '2031-03-31')), array[:'alice2']::uuid[],
          'A start day alone');
select is((select b - 'customer' - 'created_at' - 'updated_at' - 'version' - 'id' - 'details'
           from jsonb_array_elements(api.search_bookings(:'w', 'desk-erin')->'bookings') b),
          jsonb_build_object('status', 'confirmed', 'service_id', :'cut', 'service_name', 'Cut',
                             'resource_id', :'bartek', 'resource_name', 'Bartek', 'expires_at', null, 'seats', 1,
                             'cancel_reason', null, 'time_zone', 'Europe/Warsaw',
                             'start_time', '2031-03-29 23:30+00'::timestamptz, 'end_time', '2031-03-30 00:30+00'::timestamptz,
                             'start_local', '2031-03-30T00:30:00', 'end_local', '2031-03-30T01:30:00'),
          'A found booking, as the day view shows it, with its local times');
select is(api.search_bookings(:'w', 'desk-erin')->'bookings'->0->'customer',
          '{"subject": "desk-erin", "name": "Erin Early", "email": null, "phone": null}'::jsonb,
          'with the customer''s contact details');

-- keyset paging: 7 reservations, 2 a page
select api.search_bookings(:'w', p_limit => 2) as p1 \gset
select api.search_bookings(:'w', p_limit => 2, p_after_start => ((:'p1'::jsonb)->'next'->>'after_start')::timestamptz,
                           p_after_id => ((:'p1'::jsonb)->'next'->>'after_id')::uuid) as p2 \gset
select api.search_bookings(:'w', p_limit => 2, p_after_start => ((:'p2'::jsonb)->'next'->>'after_start')::timestamptz,
                           p_after_id => ((:'p2'::jsonb)->'next'->>'after_id')::uuid) as p3 \gset
select api.search_bookings(:'w', p_limit => 2, p_after_start => ((:'p3'::jsonb)->'next'->>'after_start')::timestamptz,
                           p_after_id => ((:'p3'::jsonb)->'next'->>'after_id')::uuid) as p4 \gset
select is(pg_temp.ids(:'p1') || pg_temp.ids(:'p2') || pg_temp.ids(:'p3') || pg_temp.ids(:'p4'), :'everything'::uuid[],
          'Page after page gives every booking once, in order');
select is(array[jsonb_array_length((:'p1'::jsonb)->'bookings'), jsonb_array_length((:'p4'::jsonb)->'bookings')], array[2, 1],
          'A page holds p_limit bookings, the last one the rest');
select is((:'p1'::jsonb)->'next',
          jsonb_build_object('after_start', (:'p1'::jsonb)->'bookings'->1->'start_time', 'after_id', (:'p1'::jsonb)->'bookings'->1->'id'),
          'next names the last booking of the page');
select is((:'p4'::jsonb)->'next', 'null'::jsonb, 'The last page has no next');

select throws_ok(format('select api.search_bookings(%L, p_limit => 0)', :'w'), 'BK014', null, 'p_limit 0 is BK014');
select throws_ok(format('select api.search_bookings(%L, p_limit => 1001)', :'w'), 'BK014', null, 'p_limit over 1000 is BK014');
select throws_ok(format('select api.search_bookings(%L, p_from => %L, p_to => %L)', :'w', '2031-03-31', '2031-03-30'),
                 'BK014', null, 'A day range that ends before it starts is BK014');
select throws_ok(format('select api.search_bookings(%L, p_after_start => now())', :'w'), 'BK014', null,
                 'p_after_start without p_after_id is BK014');
select throws_ok(format('select api.search_bookings(%L, p_statuses => array[''booked''])', :'w'), 'BK014', null,
                 'An unknown status is BK014');
select throws_ok(format('select api.search_bookings(%L, p_statuses => array[]::text[])', :'w'), 'BK014', null,
                 'An empty status list is BK014');
select throws_ok(format('select api.search_bookings(%L, p_customer => %L)', :'w', '   '), 'BK014', null,
                 'A blank customer text is BK014');
select throws_ok(format('select api.search_bookings(%L)', gen_random_uuid()), 'BK019', null, 'An unknown location is BK019');

-- Who may read: staff and admins, at the locations their token names

select function_privs_are('api', f, args, r, array['EXECUTE'], format('%s may call api.%s', r, f))
from (values ('location_schedule', array['uuid', 'date', 'uuid']),
             ('search_bookings', array['uuid', 'text', 'date', 'date', 'text[]', 'integer', 'timestamp with time zone', 'uuid'])) fn(f, args),
     unnest(array['booking_staff', 'booking_admin']) r;
select function_privs_are('api', f, args, r, array[]::text[], format('%s may not call api.%s', r, f))
from (values ('location_schedule', array['uuid', 'date', 'uuid']),
             ('search_bookings', array['uuid', 'text', 'date', 'date', 'text[]', 'integer', 'timestamp with time zone', 'uuid'])) fn(f, args),
     unnest(array['booking_customer', 'booking_gateway']) r;

select tests.authenticate_as('staff', 'desk-stella');
select set_config('request.jwt.claims', json_build_object('sub', 'desk-stella', 'role', 'staff', 'locations', json_build_array(:'w'))::text, true);
select is(jsonb_array_length(api.location_schedule(:'w', '2031-03-30')->'resources'), 3, 'Staff of a location read its day');
select throws_ok(format('select api.location_schedule(%L, %L)', :'u', '2031-03-30'), 'BK017', null,
                 'Staff of one location may not read another''s day');
select throws_ok(format('select api.search_bookings(%L)', :'u'), 'BK017', null,
                 'nor search its bookings');
select throws_ok(format('select api.location_schedule(%L, %L)', gen_random_uuid(), '2031-03-30'), 'BK017', null,
                 'A location outside the token is BK017 whether or not it exists');
select tests.authenticate_as('staff', 'desk-sam');
select is(jsonb_array_length(api.location_schedule(:'u', '2031-03-30')->'resources'), 1,
          'A staff token without a locations claim reads any location');
select tests.authenticate_as('admin', 'desk-ada');
select set_config('request.jwt.claims', json_build_object('sub', 'desk-ada', 'role', 'admin', 'locations', json_build_array(:'u'))::text, true);
select throws_ok(format('select api.search_bookings(%L)', :'w'), 'BK017', null, 'An admin limited to one location is limited too');
select tests.authenticate_as('customer', 'desk-alice');
select throws_ok(format('select api.location_schedule(%L, %L)', :'w', '2031-03-30'), '42501', null,
                 'A customer may not call the day view at all');
select tests.clear_authentication();
select tests.set_claims('customer', 'desk-alice');
select throws_ok(format('select api.search_bookings(%L)', :'w'), 'BK017', null,
                 'and a session that may call it with a customer''s claims is refused (BK017)');
select tests.clear_authentication();

select * from finish();
rollback;
