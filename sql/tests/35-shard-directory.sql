-- Sharding by location: api.locate answers the location of any id a request may name (service,
-- resource, hold or booking, waiting-list entry, schedule exception, conflict, webhook endpoint),
-- NULL for an id this database does not hold; only the gateway's login role may call it.
begin;
set local timezone = 'UTC';
select plan(14);

\set loc     '35000000-0000-4000-8000-000000000001'
\set other   '35000000-0000-4000-8000-000000000002'
\set anna    '35100000-0000-4000-8000-000000000001'
\set olga    '35100000-0000-4000-8000-000000000002'
\set cut     '35200000-0000-4000-8000-000000000001'
\set trim    '35200000-0000-4000-8000-000000000002'
select tests.create_location(:'loc', 'Shard studio', 'UTC');
select tests.create_location(:'other', 'Other shard studio', 'UTC');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'other', 'Olga', :'olga');
select tests.create_service(:'loc', 'Cut', '60 minutes', array[:'anna']::uuid[], :'cut');
select tests.create_service(:'other', 'Trim', '60 minutes', array[:'olga']::uuid[], :'trim');

select is(api.locate(:'cut'), :'loc'::uuid, 'A service is located at its location');
select is(api.locate(:'trim'), :'other'::uuid, 'So is another location''s service');
select is(api.locate(:'anna'), :'loc'::uuid, 'A resource is located at its location');
select is(api.locate(:'loc'), null::uuid, 'A location id is not an entity: the directory places locations');
select is(api.locate(gen_random_uuid()), null::uuid, 'An id this database does not hold: NULL');

select (api.create_hold_atomic(null, 'shard-alice', :'cut', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                               null, 's1')->>'hold_id')::uuid as hold \gset
select is(api.locate(:'hold'), :'loc'::uuid, 'A hold is located at its service''s location');
select (api.create_hold_atomic(null, 'shard-dan', :'cut', '2031-03-10 10:00+00', '2031-03-10 11:00+00',
                               null, 's2')->>'conflict_id')::uuid as conflict \gset
select is(api.locate(:'conflict'), :'loc'::uuid, 'A conflict (a hold refused: taken) is located at its location');
select (api.create_booking_atomic(:'trim', '2031-03-10 10:00+00', 'shard-bob', '{}')->>'booking_id')::uuid
  as booking \gset
select is(api.locate(:'booking'), :'other'::uuid, 'A booking is located at its service''s location');

insert into booking.schedule_exceptions (location_id, kind, period, note)
values (:'other', 'closure', tstzrange('2031-04-01', '2031-04-02'), 'Inventory') returning id as closure \gset
select is(api.locate(:'closure'), :'other'::uuid, 'A schedule exception is located at its location');

select (api.join_waitlist(p_user_id => 'shard-carol', p_service_id => :'cut',
                          p_start_time => '2031-03-10 10:00+00')->>'entry_id')::uuid as entry \gset
select is(api.locate(:'entry'), :'loc'::uuid, 'A waiting-list entry is located at its location');

insert into booking.webhook_endpoints (location_id, url, secret, cursor_event_id)
values (:'other', 'https://example.com/hook', 'whsec_test', 0) returning id as hook \gset
select is(api.locate(:'hook'), :'other'::uuid, 'A webhook endpoint is located at its location');

select ok(has_function_privilege('booking_gateway', 'api.locate(uuid)', 'execute'),
          'The gateway''s login role may locate ids');
select ok(not has_function_privilege('booking_customer', 'api.locate(uuid)', 'execute'),
          'A customer may not (it would tell which salon any id belongs to)');
select ok(not has_function_privilege('booking_admin', 'api.locate(uuid)', 'execute'),
          'Nor an admin: it is the router''s, not an API call');

select * from finish();
rollback;
