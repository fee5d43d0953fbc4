-- Webhooks: endpoints admins register per location, and the delivery worker's queue (docs/WEBHOOKS.md).
--
-- The worker (gateway/jobs/webhooks.py, one process at a time under a lease) calls, in a loop:
--   api.webhook_enqueue   copies events after each active endpoint's cursor (up to the read bound,
--                         so no event is skipped) into webhook_deliveries and moves the cursor;
--   api.webhook_due       per active endpoint whose oldest pending delivery is due: that one and the
--                         pending ones after it, in event order (a failing event blocks its endpoint
--                         only);
--   api.webhook_record    records a try: delivered, or the next try after exponential backoff with
--                         jitter, or dead when the retry window is over (and the endpoint disabled
--                         after that many dead deliveries in a row).
-- Admin functions never return a secret except at creation and rotation.

-- webhook_secret
-- a new signing secret: whsec_ and the base64 of 32 random bytes.
create or replace function booking.webhook_secret() returns text
language sql volatile
set search_path = ''
as $$
  select 'whsec_' || pg_catalog.encode(
    pg_catalog.decode(pg_catalog.replace(gen_random_uuid()::text, '-', '')
                      || pg_catalog.replace(gen_random_uuid()::text, '-', ''), 'hex'), 'base64');
$$;
comment on function booking.webhook_secret() is
  'A new Standard Webhooks signing secret: whsec_ followed by the base64 of 32 bytes from two random UUIDs.';

-- webhook_endpoint_json
-- an endpoint as callers see it: everything but the secrets.
create or replace function booking.webhook_endpoint_json(p_row booking.webhook_endpoints) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_row.id, 'location_id', p_row.location_id, 'url', p_row.url,
    'event_types', to_jsonb(p_row.event_types), 'description', p_row.description,
    'active', p_row.active, 'disabled_reason', p_row.disabled_reason,
    'previous_secret_valid_until', p_row.previous_valid_until,
    'cursor_event_id', p_row.cursor_event_id, 'consecutive_dead', p_row.consecutive_dead,
    'pending', (select count(*) from booking.webhook_deliveries d
                 where d.endpoint_id = p_row.id and d.status = 'pending'),
    'version', p_row.version, 'created_at', p_row.created_at, 'updated_at', p_row.updated_at);
$$;
comment on function booking.webhook_endpoint_json(booking.webhook_endpoints) is
  'An endpoint as admins read it (no secret): id, location_id, url, event_types, description, active, disabled_reason, previous_secret_valid_until, cursor_event_id, consecutive_dead, pending, version, created_at, updated_at.';

-- check_webhook_values
-- BK034 unless the url is http(s) and at most 2000 characters and the event types are 1-100 names.
create or replace function booking.check_webhook_values(p_url text, p_event_types text[], p_description text)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_url is null or p_url !~ '^https?://[^/?#\s]+' or length(p_url) > 2000 or p_url ~ '\s' then
    raise exception 'the url must be an http:// or https:// URL of at most 2000 characters'
      using errcode = 'BK034', hint = 'Pass an absolute URL such as https://example.com/hooks/booking.';
  end if;
  if p_event_types is not null and (cardinality(p_event_types) not between 1 and 100
      or exists (select 1 from unnest(p_event_types) t where t is null or t !~ '^[a-z_]+:[a-z_]+$')) then
    raise exception 'event_types must be NULL (every type) or 1 to 100 types such as booking:confirmed'
      using errcode = 'BK034', hint = 'Leave event_types out to receive every type.';
  end if;
  if p_description is not null and length(p_description) > 500 then
    raise exception 'the description may have at most 500 characters' using errcode = 'BK034';
  end if;
end;
$$;
comment on function booking.check_webhook_values(text, text[], text) is
  'Raises BK034 for a URL that is not http(s) or longer than 2000 characters, event types that are not 1-100 names like booking:confirmed, or a description over 500 characters.';

-- locked_webhook_endpoint
-- the endpoint row, locked, after the admin and location checks; BK033 when it does not exist.
create or replace function booking.locked_webhook_endpoint(p_id uuid) returns booking.webhook_endpoints
language plpgsql
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints;
begin
  perform booking.assert_role(array['admin']);
  select * into v_row from booking.webhook_endpoints e where e.id = p_id for update;
  if v_row.id is null then
    raise exception 'webhook endpoint % not found', p_id
      using errcode = 'BK033', hint = 'List the endpoints of a location with api.list_webhook_endpoints.';
  end if;
  perform booking.assert_location_access(v_row.location_id);
  return v_row;
end;
$$;
comment on function booking.locked_webhook_endpoint(uuid) is
  'The endpoint, locked FOR UPDATE, for an admin who may act at its location. Errors: BK017, BK033.';

-- create_webhook_endpoint
-- registers an endpoint at a location; the answer carries the secret, the only time it is shown.
create or replace function api.create_webhook_endpoint(
  p_location_id uuid, p_url text, p_event_types text[] default null, p_description text default '',
  p_active boolean default true)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints;
  v_bound bigint;
begin
  perform booking.assert_role(array['admin']);
  perform booking.assert_location_access(p_location_id);
  if not exists (select 1 from booking.locations l where l.id = p_location_id) then
    raise exception 'location % not found', p_location_id using errcode = 'BK018';
  end if;
  perform booking.check_webhook_values(p_url, p_event_types, p_description);
  -- events from now on: those up to the read bound are in the past
  v_bound := booking.event_read_bound();
  insert into booking.webhook_endpoints as e (location_id, url, event_types, description, active, secret,
                                             cursor_event_id)
  values (p_location_id, p_url, p_event_types, coalesce(p_description, ''), coalesce(p_active, true),
          booking.webhook_secret(), v_bound)
  returning e.* into v_row;
  return booking.webhook_endpoint_json(v_row) || jsonb_build_object('secret', v_row.secret);
end;
$$;
comment on function api.create_webhook_endpoint(uuid, text, text[], text, boolean) is
  'Admin: registers a webhook endpoint at a location for events from now on (all types when p_event_types is NULL). Returns the endpoint with its secret (whsec_...), shown only here. The gateway refuses private addresses before calling it. Needs READ COMMITTED. Errors: BK017, BK018 (no such location), BK034.';

-- update_webhook_endpoint
-- changes url, event types, description or active flag; NULL keeps a value. Re-enabling clears the
-- worker's disable reason and its count of dead deliveries.
create or replace function api.update_webhook_endpoint(
  p_id uuid, p_url text default null, p_event_types text[] default null, p_description text default null,
  p_active boolean default null, p_all_event_types boolean default false)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints := booking.locked_webhook_endpoint(p_id);
begin
  v_row.url := coalesce(p_url, v_row.url);
  v_row.event_types := case when p_all_event_types then null else coalesce(p_event_types, v_row.event_types) end;
  v_row.description := coalesce(p_description, v_row.description);
  perform booking.check_webhook_values(v_row.url, v_row.event_types, v_row.description);
  if p_active and not v_row.active then
    v_row.disabled_reason := null;
    v_row.consecutive_dead := 0;
  end if;
  v_row.active := coalesce(p_active, v_row.active);
  update booking.webhook_endpoints e
     set url = v_row.url, event_types = v_row.event_types, description = v_row.description,
         active = v_row.active, disabled_reason = v_row.disabled_reason,
         consecutive_dead = v_row.consecutive_dead, version = e.version + 1, updated_at = now()
   where e.id = p_id
  returning e.* into v_row;
  return booking.webhook_endpoint_json(v_row);
end;
$$;
comment on function api.update_webhook_endpoint(uuid, text, text[], text, boolean, boolean) is
  'Admin: changes an endpoint''s url, event types (p_all_event_types: every type), description or active flag; NULL keeps a value. Switching it back on clears disabled_reason and consecutive_dead; events queued meanwhile are then sent in order. Errors: BK017, BK033, BK034.';

-- delete_webhook_endpoint
-- removes an endpoint with its deliveries and attempts.
create or replace function api.delete_webhook_endpoint(p_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints := booking.locked_webhook_endpoint(p_id);
begin
  delete from booking.webhook_endpoints e where e.id = p_id;
  return booking.webhook_endpoint_json(v_row) || jsonb_build_object('deleted', true);
end;
$$;
comment on function api.delete_webhook_endpoint(uuid) is
  'Admin: removes an endpoint, its deliveries and their attempts. Errors: BK017, BK033.';

-- get_webhook_endpoint
-- one endpoint for an admin of its location, without its secret.
create or replace function api.get_webhook_endpoint(p_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  return booking.webhook_endpoint_json(booking.locked_webhook_endpoint(p_id));
end;
$$;
comment on function api.get_webhook_endpoint(uuid) is
  'Admin: one endpoint (without its secret). Errors: BK017, BK033.';

-- list_webhook_endpoints
-- a location's endpoints for its admins, without secrets.
create or replace function api.list_webhook_endpoints(p_location_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
begin
  perform booking.assert_role(array['admin']);
  perform booking.assert_location_access(p_location_id);
  return jsonb_build_object('location_id', p_location_id, 'items',
    coalesce((select jsonb_agg(booking.webhook_endpoint_json(e) order by e.created_at, e.id)
                from booking.webhook_endpoints e where e.location_id = p_location_id), '[]'::jsonb));
end;
$$;
comment on function api.list_webhook_endpoints(uuid) is
  'Admin: the endpoints of a location (without secrets), oldest first: {location_id, items}. Errors: BK017.';

-- rotate_webhook_secret
-- a new secret; the old one keeps signing (alongside) for p_grace.
create or replace function api.rotate_webhook_secret(p_id uuid, p_grace interval default interval '24 hours')
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints := booking.locked_webhook_endpoint(p_id);
begin
  if p_grace is null or p_grace < interval '0' or p_grace > interval '30 days' then
    raise exception 'the grace period must be between 0 and 30 days' using errcode = 'BK034';
  end if;
  update booking.webhook_endpoints e
     set previous_secret = case when p_grace > interval '0' then e.secret end,
         previous_valid_until = case when p_grace > interval '0' then now() + p_grace end,
         secret = booking.webhook_secret(), version = e.version + 1, updated_at = now()
   where e.id = p_id
  returning e.* into v_row;
  return booking.webhook_endpoint_json(v_row) || jsonb_build_object('secret', v_row.secret);
end;
$$;
comment on function api.rotate_webhook_secret(uuid, interval) is
  'Admin: gives the endpoint a new secret, returned only here; deliveries carry a signature with the old one too until p_grace (default 24 hours, 0-30 days) has passed. Errors: BK017, BK033, BK034.';

-- webhook_delivery_json
-- a delivery as admins read it (its body is not shown).
create or replace function booking.webhook_delivery_json(p_row booking.webhook_deliveries) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', p_row.id, 'endpoint_id', p_row.endpoint_id, 'event_id', p_row.event_id,
    'message_id', p_row.message_id, 'event_type', p_row.event_type, 'status', p_row.status,
    'attempts', p_row.attempts, 'next_attempt_at', case when p_row.status = 'pending' then p_row.next_attempt_at end,
    'last_error', p_row.last_error, 'created_at', p_row.created_at, 'finished_at', p_row.finished_at);
$$;
comment on function booking.webhook_delivery_json(booking.webhook_deliveries) is
  'A delivery as admins read it: id, endpoint_id, event_id, message_id, event_type, status, attempts, next_attempt_at (pending only), last_error, created_at, finished_at.';

-- list_webhook_deliveries
-- an endpoint's deliveries, newest event first, optionally of one status, each with its attempts.
create or replace function api.list_webhook_deliveries(
  p_endpoint_id uuid, p_status text default null, p_before_event_id bigint default null,
  p_limit integer default 50)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints := booking.locked_webhook_endpoint(p_endpoint_id);
begin
  if p_status is not null and p_status not in ('pending', 'delivered', 'dead') then
    raise exception 'status must be pending, delivered or dead' using errcode = 'BK034';
  end if;
  if p_limit is null or p_limit not between 1 and 500 then
    raise exception 'limit must be between 1 and 500' using errcode = 'BK034';
  end if;
  return jsonb_build_object('endpoint_id', v_row.id, 'items', coalesce((
    select jsonb_agg(booking.webhook_delivery_json(d) || jsonb_build_object('attempt_log', (
             select coalesce(jsonb_agg(jsonb_build_object(
                      'attempted_at', a.attempted_at, 'ok', a.ok, 'status_code', a.status_code,
                      'error', a.error, 'response_excerpt', a.response_excerpt,
                      'duration_ms', a.duration_ms) order by a.id), '[]'::jsonb)
               from booking.webhook_attempts a where a.delivery_id = d.id))
           order by d.event_id desc)
      from (select * from booking.webhook_deliveries d
             where d.endpoint_id = v_row.id
               and (p_status is null or d.status = p_status)
               and (p_before_event_id is null or d.event_id < p_before_event_id)
             order by d.event_id desc limit p_limit) d), '[]'::jsonb));
end;
$$;
comment on function api.list_webhook_deliveries(uuid, text, bigint, integer) is
  'Admin: an endpoint''s deliveries, newest event first (page with p_before_event_id), optionally only pending, delivered or dead, each with its attempt_log (status code, error, response excerpt, duration). Errors: BK017, BK033, BK034.';

-- redeliver_webhooks
-- sends the endpoint's deliveries of events p_from..p_to again (same webhook-id), in event order.
create or replace function api.redeliver_webhooks(p_endpoint_id uuid, p_from_event_id bigint, p_to_event_id bigint default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.webhook_endpoints := booking.locked_webhook_endpoint(p_endpoint_id);
  v_to bigint := coalesce(p_to_event_id, p_from_event_id);
  v_count integer;
begin
  if p_from_event_id is null or v_to < p_from_event_id or v_to - p_from_event_id > 100000 then
    raise exception 'redeliver needs from_event_id <= to_event_id, at most 100000 apart' using errcode = 'BK034';
  end if;
  update booking.webhook_deliveries d
     set status = 'pending', next_attempt_at = now(), window_start = now(), finished_at = null
   where d.endpoint_id = v_row.id and d.event_id between p_from_event_id and v_to and d.status <> 'pending';
  get diagnostics v_count = row_count;
  if v_count = 0 and not exists (select 1 from booking.webhook_deliveries d
                                  where d.endpoint_id = v_row.id and d.event_id between p_from_event_id and v_to) then
    raise exception 'endpoint % has no delivery of events % to %', v_row.id, p_from_event_id, v_to
      using errcode = 'BK035', hint = 'List its deliveries with api.list_webhook_deliveries.';
  end if;
  return jsonb_build_object('endpoint_id', v_row.id, 'from_event_id', p_from_event_id, 'to_event_id', v_to,
                            'requeued', v_count, 'endpoint_active', v_row.active);
end;
$$;
comment on function api.redeliver_webhooks(uuid, bigint, bigint) is
  'Admin: queues the endpoint''s delivered or dead deliveries of events p_from_event_id..p_to_event_id (one event when p_to_event_id is NULL) again, with their webhook-id and payload, and a fresh retry window; per endpoint deliveries go in event order, so they go before later pending ones. Returns {requeued}. A disabled endpoint must be switched on to send them. Errors: BK017, BK033, BK034, BK035 (no delivery in the range).';

-- webhook_enqueue
-- the worker: queues events after each active endpoint's cursor, up to the read bound, and moves it.
create or replace function api.webhook_enqueue(p_limit integer default 1000) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_bound bigint;
  v_ep booking.webhook_endpoints;
  v_last bigint;
  v_scanned integer;
  v_total integer := 0;
  v_count integer;
begin
  if p_limit is null or p_limit not between 1 and 10000 then
    raise exception 'p_limit must be between 1 and 10000' using errcode = 'BK014';
  end if;
  v_bound := booking.event_read_bound();
  -- later statements see every transaction that finished before the bound was read
  for v_ep in select * from booking.webhook_endpoints e
               where e.active and e.cursor_event_id < v_bound order by e.id for update skip locked loop
    select count(*), max(x.id) into v_scanned, v_last
      from (select e.id from booking.events e
             where e.location_id = v_ep.location_id and e.id > v_ep.cursor_event_id and e.id <= v_bound
             order by e.id limit p_limit) x;
    insert into booking.webhook_deliveries (location_id, endpoint_id, event_id, message_id, event_type, payload)
    select v_ep.location_id, v_ep.id, e.id, 'msg_' || e.id, e.type,
           jsonb_build_object('type', e.type, 'timestamp', e.created_at, 'data',
             jsonb_strip_nulls(jsonb_build_object(
               'event_id', e.id, 'location_id', e.location_id, 'reservation_id', e.reservation_id,
               'resource_id', e.resource_id, 'service_id', e.service_id, 'day', e.day))
             || jsonb_build_object('payload', e.payload))
      from booking.events e
     where e.location_id = v_ep.location_id and e.id > v_ep.cursor_event_id and e.id <= coalesce(v_last, -1)
       and (v_ep.event_types is null or e.type = any(v_ep.event_types))
     order by e.id
    on conflict (location_id, endpoint_id, event_id) do nothing;
    get diagnostics v_count = row_count;
    v_total := v_total + v_count;
    -- fewer than p_limit scanned: every event of the location up to the bound has been seen
    update booking.webhook_endpoints e
       set cursor_event_id = case when v_scanned < p_limit then v_bound else v_last end
     where e.id = v_ep.id;
  end loop;
  return v_total;
end;
$$;
comment on function api.webhook_enqueue(integer) is
  'Delivery worker: for each active endpoint, queues (as pending deliveries with webhook-id msg_<event id>) the events of its location after its cursor, up to p_limit and the read bound, that match its event types, and moves the cursor past them in the same transaction, so no event is skipped or queued twice. Payload: {type, timestamp, data: {event_id, location_id, reservation_id, resource_id, service_id, day, payload}}, the event''s own fields (no customer). Returns how many were queued. Needs READ COMMITTED. Errors: BK014.';

-- webhook_due
-- the worker: per active endpoint whose oldest pending delivery is due, up to p_per_endpoint pending
-- deliveries from it on, in event order, with what signing needs.
create or replace function api.webhook_due(p_per_endpoint integer default 50, p_endpoints integer default 100)
returns table (delivery_id bigint, endpoint_id uuid, url text, secrets text[], message_id text,
               body text, attempts integer)
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
begin
  return query
    select d.id, ep.id, ep.url,
           array_remove(array[ep.secret, case when ep.previous_valid_until > now() then ep.previous_secret end], null),
           d.message_id, d.payload::text, d.attempts
      from (select e.* from booking.webhook_endpoints e
             where e.active
               and (select h.next_attempt_at from booking.webhook_deliveries h
                     where h.endpoint_id = e.id and h.status = 'pending'
                     order by h.event_id limit 1) <= now()
             order by e.id limit p_endpoints) ep
     cross join lateral (select * from booking.webhook_deliveries q
                          where q.endpoint_id = ep.id and q.status = 'pending'
                          order by q.event_id limit p_per_endpoint) d
     order by ep.id, d.event_id;
end;
$$;
comment on function api.webhook_due(integer, integer) is
  'Delivery worker: for up to p_endpoints active endpoints whose oldest pending delivery is due, that delivery and the next pending ones (p_per_endpoint in all) in event order, with the url, the secrets to sign with (current, and the previous one during a rotation''s grace), webhook-id and body. The worker sends each endpoint''s list in order and stops at its first failure.';

-- webhook_record
-- the worker: records one try and moves the delivery on (delivered, retried later, or dead).
create or replace function api.webhook_record(
  p_delivery_id bigint, p_ok boolean, p_status_code integer, p_error text, p_response_excerpt text,
  p_duration_ms integer, p_backoff_base interval default interval '5 seconds',
  p_backoff_max interval default interval '6 hours', p_window interval default interval '3 days',
  p_disable_after integer default 5)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_d booking.webhook_deliveries;
  v_delay interval;
  v_status text;
begin
  select * into v_d from booking.webhook_deliveries d where d.id = p_delivery_id for update;
  if v_d.id is null then
    return 'gone';  -- its endpoint was deleted meanwhile
  end if;
  insert into booking.webhook_attempts (location_id, delivery_id, ok, status_code, error, response_excerpt, duration_ms)
  values (v_d.location_id, v_d.id, p_ok, p_status_code, left(p_error, 500), left(p_response_excerpt, 256), greatest(p_duration_ms, 0));
  if v_d.status <> 'pending' then
    return v_d.status;  -- a late answer to a try that another worker already settled
  end if;
  if p_ok then
    update booking.webhook_deliveries d
       set status = 'delivered', attempts = d.attempts + 1, finished_at = now(), last_error = null
     where d.id = v_d.id;
    update booking.webhook_endpoints e set consecutive_dead = 0 where e.location_id = v_d.location_id and e.id = v_d.endpoint_id and e.consecutive_dead > 0;
    return 'delivered';
  end if;
  if now() >= v_d.window_start + p_window then
    v_status := 'dead';
    update booking.webhook_deliveries d
       set status = 'dead', attempts = d.attempts + 1, finished_at = now(), last_error = left(p_error, 500)
     where d.id = v_d.id;
    update booking.webhook_endpoints e
       set consecutive_dead = e.consecutive_dead + 1,
           active = case when p_disable_after > 0 and e.consecutive_dead + 1 >= p_disable_after then false else e.active end,
           disabled_reason = case when p_disable_after > 0 and e.consecutive_dead + 1 >= p_disable_after
                                  then format('%s deliveries in a row dead-lettered', e.consecutive_dead + 1)
                                  else e.disabled_reason end,
           updated_at = now()
     where e.location_id = v_d.location_id and e.id = v_d.endpoint_id;
    return v_status;
  end if;
  -- exponential backoff with equal jitter, the last try at the end of the window
  v_delay := least(p_backoff_max, p_backoff_base * power(2, least(v_d.attempts, 40)));
  v_delay := v_delay / 2 + v_delay / 2 * random();
  update booking.webhook_deliveries d
     set attempts = d.attempts + 1, last_error = left(p_error, 500),
         next_attempt_at = least(now() + v_delay, v_d.window_start + p_window)
   where d.id = v_d.id;
  return 'pending';
end;
$$;
comment on function api.webhook_record(bigint, boolean, integer, text, text, integer, interval, interval, interval, integer) is
  'Delivery worker: records a try (status code, error, the first 256 characters of the body). ok: delivered. Otherwise the next try after min(p_backoff_max, p_backoff_base * 2^attempts), half of it random, but no later than the end of the retry window (p_window from when it was queued or redelivered); a failure at or after that end dead-letters it, and p_disable_after dead deliveries in a row (0: never) switch the endpoint off. Returns the new status: pending, delivered, dead (or gone when the endpoint was deleted).';

-- webhook_delivered
-- the worker: records a run of successful tries at once (one statement for a batch of 2xx answers).
create or replace function api.webhook_delivered(
  p_delivery_ids bigint[], p_status_codes integer[], p_response_excerpts text[], p_durations_ms integer[])
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  if cardinality(p_delivery_ids) is distinct from cardinality(p_status_codes)
     or cardinality(p_delivery_ids) is distinct from cardinality(p_response_excerpts)
     or cardinality(p_delivery_ids) is distinct from cardinality(p_durations_ms) then
    raise exception 'the four arrays must have the same length' using errcode = 'BK014';
  end if;
  with tried as (
    select t.id, t.code, t.excerpt, t.ms
      from unnest(p_delivery_ids, p_status_codes, p_response_excerpts, p_durations_ms) t(id, code, excerpt, ms)
  ), rows as (
    select d.location_id, d.id, d.endpoint_id, d.status, t.code, t.excerpt, t.ms
      from tried t join booking.webhook_deliveries d on d.id = t.id
  ), logged as (
    insert into booking.webhook_attempts (location_id, delivery_id, ok, status_code, response_excerpt, duration_ms)
    select r.location_id, r.id, true, r.code, left(r.excerpt, 256), greatest(r.ms, 0) from rows r
  ), done as (
    update booking.webhook_deliveries d
       set status = 'delivered', attempts = d.attempts + 1, finished_at = now(), last_error = null
      from rows r
     where d.location_id = r.location_id and d.id = r.id and d.status = 'pending'
    returning d.location_id, d.endpoint_id
  ), cleared as (
    update booking.webhook_endpoints e set consecutive_dead = 0
     where e.consecutive_dead > 0
       and (e.location_id, e.id) in (select x.location_id, x.endpoint_id from done x)
  )
  select count(*)::integer into v_count from done;
  return v_count;
end;
$$;
comment on function api.webhook_delivered(bigint[], integer[], text[], integer[]) is
  'Delivery worker: records a run of tries that were answered 2xx (status code, the first 256 characters of the body, duration per delivery) in one statement: each becomes delivered (a delivery no longer pending, settled by another worker meanwhile, keeps its status but the attempt is logged). Returns how many became delivered. Errors: BK014 (arrays of different lengths).';
