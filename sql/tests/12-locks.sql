-- Leases with fencing tokens: api.acquire_lock, api.renew_lock, api.release_lock, cleanup.
begin;
select plan(17);

select isnt(api.acquire_lock('job', 'gw-1', '1 minute'), null, 'A free key is granted to its first owner');
select is(api.acquire_lock('job', 'gw-2', '1 minute'), null, 'A live lease held by another owner is not granted');

select is(api.renew_lock('job', 'gw-1', (select version from booking.distributed_locks where key = 'job'), '2 minutes'),
          true, 'The owner with the current token renews its lease');
select is(api.renew_lock('job', 'gw-2', (select version from booking.distributed_locks where key = 'job'), '2 minutes'),
          false, 'Another owner cannot renew, even with the current token');
select is(api.renew_lock('job', 'gw-1', (select version from booking.distributed_locks where key = 'job') - 1, '2 minutes'),
          false, 'A stale token cannot renew');

create temp table tokens (n int, token bigint) on commit drop;
insert into tokens values (1, (select version from booking.distributed_locks where key = 'job'));

-- the lease lapses: another owner takes it over with a larger token
update booking.distributed_locks set expires_at = now() - interval '1 second' where key = 'job';
insert into tokens values (2, api.acquire_lock('job', 'gw-2', '1 minute'));
select ok((select token from tokens where n = 2) > (select token from tokens where n = 1),
          'A lapsed lease is taken over with a strictly larger fencing token');
select is(api.renew_lock('job', 'gw-1', (select token from tokens where n = 1), '1 minute'), false,
          'The old owner''s token is refused after the takeover');
select is(api.release_lock('job', 'gw-1', (select token from tokens where n = 1)), false,
          'The old owner cannot release the new owner''s lease');
select is(api.release_lock('job', 'gw-2', (select token from tokens where n = 2)), true,
          'The current owner releases with its token');
select is((select count(*)::int from booking.distributed_locks where key = 'job'), 0, 'A released lease is gone');

insert into tokens values (3, api.acquire_lock('job', 'gw-3', '1 minute'));
select ok((select token from tokens where n = 3) > (select token from tokens where n = 2),
          'Tokens keep growing after a release: they never repeat for a key');

update booking.distributed_locks set expires_at = now() - interval '1 second' where key = 'job';
select is(api.cleanup_expired_locks(), 1, 'cleanup_expired_locks removes lapsed leases');

select throws_ok($$select api.acquire_lock('job', 'gw-1', '0 seconds')$$, 'BK014', null,
                 'A lease needs a positive time to live');
select throws_ok($$select api.acquire_lock(null, 'gw-1', '1 minute')$$, 'BK014', null,
                 'A lease needs a key');
select throws_ok(format('select api.acquire_lock(%L, %L, %L)', repeat('k', 201), 'gw-1', '1 minute'), 'BK014', null,
                 'A lease key longer than 200 characters is BK014, not a constraint error');

-- popular_services: what a cache warm-up should prepare first
select tests.create_location('e0000000-0000-4000-8000-000000000001', 'Warm-up salon');
select tests.create_staff('e0000000-0000-4000-8000-000000000001', 'Kasia', 'e1000000-0000-4000-8000-000000000001',
                          p_hours => '{}');
select tests.create_service('e0000000-0000-4000-8000-000000000001', 'Popular', '30 minutes',
                            p_id => 'e2000000-0000-4000-8000-000000000001');
select tests.create_service('e0000000-0000-4000-8000-000000000001', 'Quiet', '30 minutes',
                            p_id => 'e2000000-0000-4000-8000-000000000002');
select tests.create_customer('warm-up-customer', 'e3000000-0000-4000-8000-000000000001');
-- Reservations written directly (kept on purpose): the count per service is the fixture, not how it was booked.
insert into booking.reservations (location_id, resource_id, service_id, customer_id, starts_at, ends_at, occupied, status)
select 'e0000000-0000-4000-8000-000000000001', 'e1000000-0000-4000-8000-000000000001', s, 'e3000000-0000-4000-8000-000000000001',
       t, t + interval '30 minutes', tstzrange(t, t + interval '30 minutes'), 'confirmed'
from (values ('e2000000-0000-4000-8000-000000000001'::uuid, '2031-01-06 10:00+00'::timestamptz),
             ('e2000000-0000-4000-8000-000000000001', '2031-01-06 11:00+00'),
             ('e2000000-0000-4000-8000-000000000002', '2031-01-06 12:00+00')) v(s, t);
select results_eq(
  $$select service_id, reservations from api.popular_services('1 day', 1000)
    where service_id in ('e2000000-0000-4000-8000-000000000001', 'e2000000-0000-4000-8000-000000000002')$$,
  $$values ('e2000000-0000-4000-8000-000000000001'::uuid, 2::bigint), ('e2000000-0000-4000-8000-000000000002', 1)$$,
  'popular_services lists services by how many reservations were made recently, most first');
select throws_ok($$select * from api.popular_services('1 day', 0)$$, 'BK014', null, 'popular_services needs a positive limit');

select * from finish();
rollback;
