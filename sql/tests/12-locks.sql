-- Leases with fencing tokens: api.acquire_lock, api.renew_lock, api.release_lock, cleanup.
begin;
select plan(14);

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

select * from finish();
rollback;
