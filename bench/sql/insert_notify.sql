-- The cost of NOTIFY: the ceiling's insert plus a pg_notify in the same transaction (one round trip).
with i as (insert into bench.ceiling_notify (payload) values ('x') returning id)
select pg_notify('bench_notify', i.id::text) from i;
