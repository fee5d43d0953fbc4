-- api.create_hold_atomic on slots spread over many resources and days, so holds rarely collide.
-- Defined with -D: service, customers, family, resources, days, slots, base (epoch of day 0's first start), step (s).
\set u random(1, :customers)
\set r random(1, :resources)
\set d random(0, :days - 1)
\set t random(0, :slots - 1)
\set ts :base + :d * 86400 + :t * :step
select api.create_hold_atomic(
  null, 'bench-' || :u, :service::uuid,
  to_timestamp(:ts::bigint), to_timestamp(:ts::bigint) + make_interval(secs => :step::int),
  null, 'bench-session',
  (lpad(:family::text, 8, '0') || '-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid);
