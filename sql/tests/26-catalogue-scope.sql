-- Who may change the catalogue, and staff and admins limited to their locations (the JWT claim
-- "locations"): in every catalogue function, in every staff and admin function that touches a
-- location's data, and in row-level security. A token without the claim is unlimited, as before.
begin;
set local timezone = 'UTC';
select plan(86);
set constraints all immediate;     -- events are written statement by statement, for read_events

\set here   'c6000000-0000-4000-8000-000000000001'
\set there  'c6000000-0000-4000-8000-000000000002'
\set hana   'c6000000-0000-4000-8000-000000000011'
\set tom    'c6000000-0000-4000-8000-000000000012'
\set cut_h  'c6000000-0000-4000-8000-000000000021'
\set cut_t  'c6000000-0000-4000-8000-000000000022'

-- Two salons; each cut is settled by an admin when two customers want one time
select tests.create_location(:'here', 'Here');
select tests.create_location(:'there', 'There');
select tests.create_staff(:'here', 'Hana', :'hana');
select tests.create_staff(:'there', 'Tom', :'tom');
select tests.create_service(:'here', 'Cut', '60 minutes', array[:'hana']::uuid[], :'cut_h',
                            p_conflict_strategy => 'admin_intervention');
select tests.create_service(:'there', 'Cut', '60 minutes', array[:'tom']::uuid[], :'cut_t',
                            p_conflict_strategy => 'admin_intervention');

-- cara books here only, bea there only, both at both
select api.create_booking_atomic(:'cut_h', '2031-05-05 09:00Z', 'cara', '{}')->>'booking_id' as cara_here \gset
select api.create_booking_atomic(:'cut_h', '2031-05-05 10:00Z', 'both', '{}')->>'booking_id' as both_here \gset
select api.create_booking_atomic(:'cut_t', '2031-05-05 10:00Z', 'both', '{}')->>'booking_id' as both_there \gset
select api.create_booking_atomic(:'cut_t', '2031-05-05 09:00Z', 'bea', '{}')->>'booking_id' as bea_there \gset
select api.create_hold_atomic(null, 'bea', :'cut_t', '2031-05-05 12:00Z', null, null, 'sess-bea')->>'hold_id'
  as bea_hold \gset
-- conflicts escalated to an admin: one here, three there (enough for a recommendation)
select api.create_hold_atomic(null, 'dan', :'cut_h', '2031-05-05 09:00Z', null, null, 'sess-dan')->>'conflict_id'
  as conflict_here \gset
select api.create_hold_atomic(null, 'eve', :'cut_t', '2031-05-05 12:00Z', null, null, 'sess-eve')->>'conflict_id'
  as conflict_there \gset
select api.create_hold_atomic(null, s, :'cut_t', '2031-05-05 12:00Z', null, null, 'sess-' || s)
from unnest(array['fay', 'gus']) s;
select api.add_schedule_exception(:'there', 'time_off', '2031-05-06 09:00Z', '2031-05-06 10:00Z', :'tom')->>'id'
  as tom_off \gset
select api.add_schedule_exception(:'here', 'time_off', '2031-05-06 09:00Z', '2031-05-06 10:00Z', :'hana')->>'id'
  as hana_off \gset
select api.update_resource(:'tom', p_name => 'Tom T.');

-- The catalogue: an admin limited to "here"

select tests.authenticate_at('admin', 'ada', array[:'here']::uuid[]);
select lives_ok(format('select api.update_location(%L, p_name => %L)', :'here', 'Here and now'),
                'An admin of here changes here');
select throws_ok(format('select %s', q), 'BK017', null, d)
from (values
  (format('api.update_location(%L, p_name => %L)', :'there', 'Mine'), 'but not there (update_location)'),
  (format('api.create_resource(%L, %L)', :'there', 'Spy'), 'create_resource there is BK017'),
  (format('api.update_resource(%L, p_name => %L)', :'tom', 'Spy'), 'update_resource there is BK017'),
  (format('api.create_service(%L, %L, %L)', :'there', 'Spy', '1 hour'), 'create_service there is BK017'),
  (format('api.update_service(%L, p_price => 1)', :'cut_t'), 'update_service there is BK017'),
  (format('api.set_service_resources(%L, %L::uuid[])', :'cut_t', '{}'), 'set_service_resources there is BK017'),
  (format('api.set_working_hours(%L, %L)', :'tom', '[]'), 'set_working_hours there is BK017'),
  (format('api.add_schedule_exception(%L, %L, %L, %L)', :'there', 'closure', '2031-05-07 00:00Z', '2031-05-08 00:00Z'),
   'add_schedule_exception there is BK017'),
  (format('api.remove_schedule_exception(%L)', :'tom_off'), 'remove_schedule_exception there is BK017'),
  (format('api.create_location(%L, %L)', 'Third', 'UTC'), 'An admin limited to locations may not open a new one'),
  (format('api.catalogue_audit(%L)', :'there'), 'catalogue_audit of there is BK017')) t(q, d);
select lives_ok(format('select api.create_resource(%L, %L)', :'here', 'Ida'), 'An admin of here adds staff here');
select is((select array_agg(distinct e->>'location_id') from jsonb_array_elements(api.catalogue_audit()) e),
          array[:'here'], 'catalogue_audit shows an admin of here the rows of here only');
select tests.clear_authentication();
select is((select count(*)::int from booking.locations where id = :'there' and name = 'There'), 1,
          'There is unchanged');

-- An admin of every location (no claim)

select tests.authenticate_as('admin', 'uma');
select lives_ok(format('select api.update_service(%L, p_price => 50)', :'cut_t'), 'An admin without a claim changes there');
select lives_ok(format('select api.create_location(%L, %L)', 'Third', 'UTC'), 'and opens a new location');
select is((select count(distinct e->>'location_id')::int from jsonb_array_elements(api.catalogue_audit()) e), 3,
          'and reads the audit of every location');

-- Staff: time off at their own location, nothing else

select tests.authenticate_at('staff', 'sam', array[:'here']::uuid[]);
select lives_ok(format('select api.add_schedule_exception(%L, %L, %L, %L, %L)', :'here', 'time_off',
                       '2031-05-07 09:00Z', '2031-05-07 10:00Z', :'hana'), 'Staff add time off here');
select lives_ok(format('select api.remove_schedule_exception(%L)', :'hana_off'), 'and remove time off here');
select throws_ok(format('select %s', q), c, null, d)
from (values
  (format('api.add_schedule_exception(%L, %L, %L, %L)', :'here', 'closure', '2031-05-07 00:00Z', '2031-05-08 00:00Z'),
   'BK017', 'Staff may not close the location'),
  (format('api.add_schedule_exception(%L, %L, %L, %L, %L)', :'here', 'extra_hours', '2031-05-07 05:00Z',
          '2031-05-07 07:00Z', :'hana'), 'BK017', 'Staff may not add extra hours'),
  (format('api.add_schedule_exception(%L, %L, %L, %L, %L)', :'there', 'time_off', '2031-05-07 09:00Z',
          '2031-05-07 10:00Z', :'tom'), 'BK017', 'Staff of here may not add time off there'),
  (format('api.remove_schedule_exception(%L)', :'tom_off'), 'BK017', 'nor remove it'),
  (format('api.update_service(%L, p_price => 1)', :'cut_h'), '42501', 'The staff role may not change a service'),
  (format('api.set_working_hours(%L, %L)', :'hana', '[]'), '42501', 'nor working hours'),
  ('api.catalogue_audit()', '42501', 'nor read the catalogue audit')) t(q, c, d);
select tests.clear_authentication();
select tests.set_claims('staff', 'sam');
select throws_ok(format('select api.update_service(%L, p_price => 1)', :'cut_h'), 'BK017', null,
                 'A session that may execute it with a staff claim is refused by the role check (BK017)');
select throws_ok(format('select api.add_schedule_exception(%L, %L, %L, %L)', :'here', 'closure',
                        '2031-05-07 00:00Z', '2031-05-08 00:00Z'), 'BK017', null,
                 'and staff may not close a location there either');

-- Customers change nothing of the catalogue

select tests.authenticate_as('customer', 'cara');
select throws_ok(format('select %s', q), '42501', null, d)
from (values (format('api.create_location(%L, %L)', 'Mine', 'UTC'), 'The customer role may not open a location'),
             (format('api.add_schedule_exception(%L, %L, %L, %L, %L)', :'here', 'time_off', '2031-05-08 09:00Z',
                     '2031-05-08 10:00Z', :'hana'), 'nor add time off')) t(q, d);
select tests.clear_authentication();
select tests.set_claims('customer', 'cara');
select throws_ok(format('select api.create_location(%L, %L)', 'Mine', 'UTC'), 'BK017', null,
                 'A session that may execute it with a customer claim is refused (BK017)');
select throws_ok(format('select api.add_schedule_exception(%L, %L, %L, %L, %L)', :'here', 'time_off',
                        '2031-05-08 09:00Z', '2031-05-08 10:00Z', :'hana'), 'BK017', null, 'also for time off');
select tests.clear_authentication();

-- Reservations, conflicts and customers: staff of here

select array_agg(id) filter (where location_id = :'here') as here_events,
       array_agg(id) filter (where location_id = :'there') as there_events
from booking.events \gset
select ok(cardinality(:'there_events'::bigint[]) > 0, 'There has events too');
select tests.authenticate_at('staff', 'sam', array[:'here']::uuid[]);
select is(api.get_reservation(:'cara_here')->>'id', :'cara_here', 'Staff of here read a booking here');
select throws_ok(format('select %s', q), 'BK017', null, d)
from (values
  (format('api.get_reservation(%L)', :'bea_there'), 'but not one there (get_reservation)'),
  (format('api.cancel_booking(%L)', :'bea_there'), 'cancel_booking there is BK017'),
  (format('api.reschedule_booking(%L, %L)', :'bea_there', '2031-05-05 14:00Z'), 'reschedule_booking there is BK017'),
  (format('api.release_hold(%L, %L)', :'bea_hold', 'sess-bea'), 'release_hold there is BK017'),
  (format('api.convert_hold_to_booking(%L, %L, %L)', :'bea_hold', 'sess-bea', '{}'),
   'convert_hold_to_booking there is BK017'),
  (format('api.create_booking_atomic(%L, %L, %L, %L)', :'cut_t', '2031-05-05 15:00Z', 'cara', '{}'),
   'create_booking_atomic there is BK017'),
  (format('api.create_hold_atomic(null, %L, %L, %L, null, null, %L)', 'cara', :'cut_t', '2031-05-05 15:00Z', 's'),
   'create_hold_atomic there is BK017'),
  (format('api.confirm_conflict(%L, true)', :'conflict_there'), 'confirm_conflict there is BK017')) t(q, d);
select is((select array_agg(e->>'location_id') from jsonb_array_elements(api.list_customer_reservations('both')) e),
          array[:'here'], 'Listing a customer''s reservations shows those here only');
select is(array(select conflict_id::text from api.active_conflicts()), array[:'conflict_here'],
          'The conflict desk shows conflicts here only');
select is((api.conflict_metrics('1 day')->>'total')::int, 1, 'Conflict metrics count conflicts here only');
select is((select count(*)::int from api.conflict_recommendations()), 0,
          'Recommendations come from conflicts here only (three there would make one)');
select is((select array_agg(distinct r->>'location_id') from jsonb_array_elements(api.export_customer('both')->'reservations') r),
          array[:'here'], 'Exporting a customer gives the reservations here only');
select throws_ok($q$select api.export_customer('bea')$q$, 'BK008', null,
                 'Exporting a customer who has nothing here is BK008');
select is((select count(*)::int from api.read_events(0, 10000) where id = any(:'there_events'::bigint[])), 0,
          'The event stream carries no event of there');
select ok(exists (select 1 from api.read_events(0, 10000) where id = any(:'here_events'::bigint[])),
          'but those of here');
select is(api.cancel_booking(:'cara_here')->>'status', 'cancelled', 'Staff of here cancel a booking here');
select tests.clear_authentication();

select tests.authenticate_as('staff', 'stu');
select is(api.get_reservation(:'bea_there')->>'id', :'bea_there', 'Staff without a claim read a booking anywhere');
select is((select count(*)::int from jsonb_array_elements(api.list_customer_reservations('both'))), 2,
          'and list a customer''s reservations everywhere');
select is((select count(*)::int from api.active_conflicts()), 4, 'and see every open conflict');
select is((select count(*)::int from api.conflict_recommendations()), 1, 'and the recommendation from there');
select tests.clear_authentication();

-- Admins limited to here: conflicts, the audit log, erasure

select tests.authenticate_at('admin', 'ada', array[:'here']::uuid[]);
select throws_ok(format($q$select api.resolve_conflict(%L, 'keep_existing')$q$, :'conflict_there'), 'BK017', null,
                 'An admin of here may not settle a conflict there');
select is(api.resolve_conflict(:'conflict_here', 'keep_existing')->>'outcome', 'kept_existing',
          'but settles one here');
select is((select array_agg(distinct a->>'location_id') from jsonb_array_elements(api.audit_log(p_limit => 1000)) a),
          array[:'here'], 'The audit log shows an admin of here the rows of here only');
select throws_ok($q$select api.erase_customer('both')$q$, 'BK017', null,
                 'An admin of here may not erase a customer who also booked there');
select is(api.erase_customer('cara')->>'success', 'true', 'but erases one known here only');
select tests.clear_authentication();

-- Row-level security, should the tables ever be granted directly: the grant here is rolled back.

grant usage on schema booking to booking_customer, booking_staff, booking_admin;
grant select, insert, update on booking.reservations, booking.customers, booking.conflicts, booking.audit_log,
  booking.catalogue_audit, booking.locations, booking.services, booking.resources, booking.schedule_exceptions
  to booking_customer, booking_staff, booking_admin;
grant execute on function booking.is_valid_time_zone(text) to booking_admin;   -- the check on locations.time_zone

select tests.authenticate_at('staff', 'sam', array[:'here']::uuid[]);
select is((select array_agg(distinct location_id::text) from booking.reservations), array[:'here'],
          'RLS shows staff of here the reservations here only');
select is((select array_agg(distinct location_id::text) from booking.conflicts), array[:'here'],
          'and the conflicts here only');
select is(array(select subject from booking.customers where subject in ('bea', 'both', 'dan') order by 1),
          array['both'], 'and the customers who have a reservation here only (not bea, nor dan who only met a conflict)');
select is((select count(*)::int from booking.audit_log), 0, 'and, being staff, no audit row');
select is((select count(*)::int from booking.services), 2, 'The catalogue is public: staff read every service');
with changed as (update booking.services set name = 'Mine' returning 1)
select is((select count(*)::int from changed), 0, 'but staff change none');
select lives_ok(format($q$insert into booking.schedule_exceptions (location_id, resource_id, kind, period)
                          values (%L, %L, 'time_off', '[2031-05-09 09:00Z, 2031-05-09 10:00Z)')$q$, :'here', :'hana'),
                'RLS lets staff add time off here');
select throws_ok(format($q$insert into booking.schedule_exceptions (location_id, resource_id, kind, period)
                           values (%L, %L, 'time_off', '[2031-05-09 09:00Z, 2031-05-09 10:00Z)')$q$, :'there', :'tom'),
                 '42501', null, 'but not there');
select throws_ok(format($q$insert into booking.schedule_exceptions (location_id, kind, period)
                           values (%L, 'closure', '[2031-05-09 00:00Z, 2031-05-10 00:00Z)')$q$, :'here'),
                 '42501', null, 'nor a closure here');
select tests.clear_authentication();

select tests.authenticate_at('admin', 'ada', array[:'here']::uuid[]);
select is((select array_agg(distinct location_id::text) from booking.audit_log), array[:'here'],
          'RLS shows an admin of here the audit rows here only');
select is((select array_agg(distinct location_id::text) from booking.catalogue_audit), array[:'here'],
          'and the catalogue audit rows here only');
with changed as (update booking.services set price = 10 returning location_id)
select is((select array_agg(location_id::text) from changed), array[:'here'],
          'An admin of here changes services here only');
with changed as (update booking.locations set name = 'Mine' returning id)
select is((select array_agg(id::text) from changed), array[:'here'], 'and the location here only');
select tests.clear_authentication();

select tests.authenticate_as('staff', 'stu');
select is((select count(distinct location_id)::int from booking.reservations), 2,
          'RLS shows staff without a claim the reservations everywhere');
select tests.clear_authentication();
select tests.authenticate_as('admin', 'uma');
select is((select count(distinct location_id)::int from booking.catalogue_audit), 3,
          'and admins without a claim the catalogue audit everywhere');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'bea');
select is((select count(*)::int from booking.services), 2, 'Customers read the whole catalogue');
with changed as (update booking.services set price = 0 returning 1)
select is((select count(*)::int from changed), 0, 'and change none of it');
select is((select count(*)::int from booking.catalogue_audit), 0, 'and see no catalogue audit row');
select tests.clear_authentication();

select ok((select relrowsecurity from pg_class where oid = format('booking.%I', t)::regclass),
          format('booking.%s has row-level security enabled', t))
from unnest(array['catalogue_audit', 'locations', 'resources', 'services', 'service_resources', 'working_hours',
                  'schedule_exceptions']) t;

select * from finish();
rollback;
