-- api.create_hold_atomic on one hot slot: the first caller wins, every later one gets a conflict
-- with alternatives. Defined with -D: service, resource, start (epoch), duration (s).
select api.create_hold_atomic(
  null, 'bench-hot-' || :client_id, :service::uuid,
  to_timestamp(:start::bigint), to_timestamp(:start::bigint) + make_interval(secs => :duration::int),
  null, 'bench-session', :resource::uuid);
