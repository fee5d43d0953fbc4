-- Webhooks: admins register endpoints per location (the secret shown once), the worker queues the
-- location's events after each endpoint's cursor, sends them per endpoint in event order, retries
-- with backoff, dead-letters after the retry window and switches an endpoint off after dead
-- deliveries in a row; rotation signs with both secrets for a while; admins redeliver.
begin;
set local timezone = 'UTC';
select plan(30);

\set here  '33000000-0000-4000-8000-000000000001'
\set there '33000000-0000-4000-8000-000000000002'
select tests.create_location(:'here', 'Hooked studio');
select tests.create_location(:'there', 'Other studio');

create function pg_temp.event(p_location uuid, p_type text) returns bigint language sql as $$
  insert into booking.events (id, location_id, type, payload)
  values (nextval('booking.events_id_seq'), p_location, p_type, '{"note": "x"}') returning id $$;
create function pg_temp.ep(p_id uuid) returns booking.webhook_endpoints language sql as $$
  select * from booking.webhook_endpoints where id = p_id $$;

-- an event before any endpoint exists is not sent
select pg_temp.event(:'here', 'booking:confirmed');

-- Registration
select tests.authenticate_at('staff', 'stella', array[:'here'::uuid]);
select throws_ok(format('select api.create_webhook_endpoint(%L, %L)', :'here', 'https://example.com/h'),
                 '42501', null, 'Staff may not register webhook endpoints');
select tests.authenticate_at('admin', 'ada', array[:'there'::uuid]);
select throws_ok(format('select api.create_webhook_endpoint(%L, %L)', :'here', 'https://example.com/h'),
                 'BK017', null, 'An admin of another location may not register one here');
select tests.authenticate_at('admin', 'ada', array[:'here'::uuid]);
select throws_ok(format('select api.create_webhook_endpoint(%L, %L)', :'here', 'ftp://example.com/h'),
                 'BK034', null, 'Only http(s) URLs are accepted');
select throws_ok(format('select api.create_webhook_endpoint(%L, %L, %L)', :'here', 'https://example.com/h', '{Booking}'),
                 'BK034', null, 'Event types are names like booking:confirmed');

create temp table made (name text primary key, answer jsonb);
grant all on made to public;
insert into made select 'all', api.create_webhook_endpoint(:'here', 'https://example.com/all');
insert into made select 'bookings', api.create_webhook_endpoint(:'here', 'https://example.com/b',
                                                                 array['booking:confirmed', 'booking:cancelled']);
select alike((select answer->>'secret' from made where name = 'all'), 'whsec_%',
            'The answer to a registration carries the secret, whsec_...');
select is(length(decode(substr((select answer->>'secret' from made where name = 'all'), 7), 'base64')), 32,
          'The secret is 32 random bytes');
select ok(not (api.get_webhook_endpoint((select (answer->>'id')::uuid from made where name = 'all')) ? 'secret'),
          'Reading the endpoint again never shows the secret');
select is(jsonb_array_length(api.list_webhook_endpoints(:'here')->'items'), 2, 'An admin lists the location''s endpoints');
select throws_ok('select api.get_webhook_endpoint(''33999999-0000-4000-8000-000000000000'')', 'BK033', null,
                 'An unknown endpoint is BK033');

select (answer->>'id') as all_id from made where name = 'all' \gset
select (answer->>'id') as b_id from made where name = 'bookings' \gset

-- Queueing
select tests.clear_authentication();
select pg_temp.event(:'here', 'booking:confirmed') as e1 \gset
select pg_temp.event(:'there', 'booking:confirmed');
select pg_temp.event(:'here', 'hold:created') as e2 \gset
select pg_temp.event(:'here', 'booking:cancelled') as e3 \gset

select is(api.webhook_enqueue(1000), 5, 'Enqueue queues the location''s new events per endpoint, by event type');
select results_eq(format('select event_id from booking.webhook_deliveries where endpoint_id = %L order by event_id', :'all_id'),
                  format('values (%s::bigint), (%s), (%s)', :e1, :e2, :e3),
                  'An endpoint of every type gets every event of its location since it was registered, nothing older or elsewhere');
select results_eq(format('select event_id from booking.webhook_deliveries where endpoint_id = %L order by event_id', :'b_id'),
                  format('values (%s::bigint), (%s)', :e1, :e3), 'A filtered endpoint gets its types only');
select is((select message_id from booking.webhook_deliveries where endpoint_id = :'all_id' and event_id = :e1),
          'msg_' || :e1, 'The webhook-id is msg_<event id>');
select is((select payload->'data'->>'location_id' from booking.webhook_deliveries where endpoint_id = :'all_id' and event_id = :e1),
          :'here', 'The payload carries the event''s own fields');
select is(api.webhook_enqueue(1000), 0, 'The cursor moved: nothing is queued twice');

-- Sending in order: the head of each endpoint first, a failing head blocks its endpoint only
select is((select count(*)::int from api.webhook_due(50, 100) where endpoint_id = :'all_id'), 3,
          'Due: the endpoint''s pending deliveries in event order');
select is(api.webhook_record((select id from booking.webhook_deliveries where endpoint_id = :'all_id' and event_id = :e1),
                             false, 500, 'HTTP 500', 'oops', 12), 'pending', 'A failed try keeps the delivery pending');
select ok((select next_attempt_at > now() and attempts = 1 from booking.webhook_deliveries
            where endpoint_id = :'all_id' and event_id = :e1), 'and schedules the next try later');
select is((select count(*)::int from api.webhook_due(50, 100) where endpoint_id = :'all_id'), 0,
          'While its head waits for a retry, later events of that endpoint wait too');
select is((select count(*)::int from api.webhook_due(50, 100) where endpoint_id = :'b_id'), 2,
          'Another endpoint is not held up');
select is(api.webhook_record((select id from booking.webhook_deliveries where endpoint_id = :'b_id' and event_id = :e1),
                             true, 204, null, '', 3), 'delivered', 'A 2xx answer delivers it');

-- Dead letters and switching off
update booking.webhook_deliveries set window_start = now() - interval '4 days', next_attempt_at = now()
 where endpoint_id = :'all_id';
select is(api.webhook_record((select id from booking.webhook_deliveries where endpoint_id = :'all_id' and event_id = :e1),
                             false, null, 'connection refused', null, 1, p_disable_after => 2), 'dead',
          'A failure after the retry window dead-letters the delivery');
select is(api.webhook_record((select id from booking.webhook_deliveries where endpoint_id = :'all_id' and event_id = :e2),
                             false, null, 'timed out', null, 1, p_disable_after => 2), 'dead', 'and the next');
select ok(not (pg_temp.ep(:'all_id')).active and (pg_temp.ep(:'all_id')).disabled_reason is not null,
          'After that many dead deliveries in a row the endpoint is switched off');

-- Rotation
select tests.authenticate_at('admin', 'ada', array[:'here'::uuid]);
select isnt(api.rotate_webhook_secret(:'b_id')->>'secret', (select answer->>'secret' from made where name = 'bookings'),
            'Rotation returns a new secret');
select tests.clear_authentication();
select is((select cardinality(secrets) from api.webhook_due(50, 100) where endpoint_id = :'b_id' limit 1), 2,
          'During the grace period deliveries are signed with the new and the old secret');

-- Admin reads and redelivery
select tests.authenticate_at('admin', 'ada', array[:'here'::uuid]);
select is(jsonb_array_length(api.list_webhook_deliveries(:'all_id', 'dead')->'items'->-1->'attempt_log'), 2,
          'Deliveries are listed with their attempts');
select is((api.redeliver_webhooks(:'all_id', :e1, :e2)->>'requeued')::int, 2, 'An admin redelivers a range');
select throws_ok(format('select api.redeliver_webhooks(%L, 1, 1)', :'all_id'), 'BK035', null,
                 'Redelivering events the endpoint never had is BK035');
select is((api.update_webhook_endpoint(:'all_id', p_active => true))->>'disabled_reason', null,
          'Switching the endpoint back on clears the reason');

select * from finish();
rollback;
