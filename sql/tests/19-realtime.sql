-- Realtime: reading the event log as topic-addressed events, the retention horizon and pruning.
begin;
set local timezone = 'UTC';
select plan(22);

\set loc      '19000000-0000-0000-0000-000000000001'
\set anna     '29000000-0000-0000-0000-000000000001'
\set manicure '39000000-0000-0000-0000-000000000001'
\set pedicure '39000000-0000-0000-0000-000000000002'

select tests.create_location(:'loc', 'Realtime studio', 'Europe/Warsaw');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'anna']::uuid[], :'manicure');
select tests.create_service(:'loc', 'Pedicure', '60 minutes', array[:'anna']::uuid[], :'pedicure');

-- Deferred event triggers fire at the end of each statement from here on, as they would at commit.
set constraints all immediate;

-- The catalogue load
select coalesce(max(id), 0) as e0 from booking.events where type <> 'catalogue:changed' \gset
select ok((select topics @> array['location:' || :'loc', 'service:' || :'manicure', 'service:' || :'pedicure']
           from api.read_events(0, 10000) where type = 'catalogue:changed' and :'loc' = any (
             array(select split_part(t, ':', 2) from unnest(topics) t)) limit 1),
          'A catalogue change is delivered on its location''s topic and on every service of the location');

select api.last_event_id() as e1 \gset
select is(api.last_event_id(), (select max(id) from booking.events), 'last_event_id is the newest event id');

-- A hold by Alice
select api.create_hold_atomic(null, 'rt-alice', :'manicure', '2031-05-06 10:00+02', '2031-05-06 11:00+02',
                              null, 'sess-rt-alice')->>'hold_id' as h1 \gset
select is((select count(*)::int from api.read_events(:e1, 100)), 1, 'A hold adds exactly one event after the last seen id');
select is((select type from api.read_events(:e1, 100)), 'hold:created', 'The event keeps its type');
select is((select topics from api.read_events(:e1, 100)),
          array['availability:' || :'manicure' || ':2031-05-06', 'availability:' || :'pedicure' || ':2031-05-06',
                'user:rt-alice'],
          'Its topics are the day of every service the resource performs, then the customer''s own topic');
select is((select payload->>'reservation_id' from api.read_events(:e1, 100)), :'h1',
          'The payload names the reservation');
select ok((select not (payload ? 'name') and not (payload ? 'email') from api.read_events(:e1, 100)),
          'The payload carries no personal data');

-- A conflict for Bob
select api.create_hold_atomic(null, 'rt-bob', :'manicure', '2031-05-06 10:00+02', '2031-05-06 11:00+02',
                              null, 'sess-rt-bob')->>'conflict_id' as c1 \gset
select results_eq(format('select type, topics from api.read_events(%s, 100) where type = %L', :e1, 'conflict:detected'),
                  $q$values ('conflict:detected'::text, array['user:rt-bob'])$q$,
                  'A conflict goes to the requester''s topic only: availability did not change');

-- Ordering, paging and topic filters
select api.release_hold(:'h1', 'sess-rt-alice') as r1 \gset
select is((select array_agg(id order by id) from api.read_events(:e1, 100)),
          (select array_agg(id order by id) from booking.events where id > :e1),
          'Events come in id order, all of them');
select is((select count(*)::int from api.read_events(:e1, 2)), 2, 'p_limit bounds the page');
select is((select array_agg(type order by id) from api.read_events(:e1, 100, array['user:rt-bob'])),
          array['conflict:detected'], 'A topic filter returns only events on those topics');
select is((select array_agg(type order by id)
           from api.read_events(:e1, 100, array['availability:' || :'pedicure' || ':2031-05-06'])),
          array['hold:created', 'hold:released'],
          'Every reservation change is on the availability topics of the resource''s services');
select is((select count(*)::int from api.read_events(:e1, 100, array['availability:' || :'manicure' || ':2031-05-07'])),
          0, 'Another day''s topic hears nothing');

select throws_ok('select * from api.read_events(-1, 10)', 'BK014', null, 'A negative p_after is refused');
select throws_ok('select * from api.read_events(0, 0)', 'BK014', null, 'A zero limit is refused');
select throws_ok('select * from api.read_events(0, 10001)', 'BK014', null, 'A limit above 10000 is refused');

-- Retention
select is(api.event_retention(), interval '7 days', 'The default retention window is 7 days');
set local booking.event_retention = '2 days';
select is(api.event_retention(), interval '2 days', 'booking.event_retention configures the window');

-- Make the oldest events old, with one long transaction's event (old created_at, late id) in the middle.
update booking.events set created_at = now() - interval '30 days' where id <= :e1;
select max(id) as young from booking.events where id > :e1 \gset
update booking.events set created_at = now() - interval '30 days' where id = :young;
select is(api.prune_events(interval '1 day'), (select count(*)::int from booking.events where id <= :e1),
          'Pruning deletes the events older than the window');
select is((select count(*)::int from booking.events where id = :young), 1,
          'An old event after a young one stays: only a prefix of ids is ever deleted');
select is(api.event_retention_horizon(), (select min(id) - 1 from booking.events),
          'The horizon is the newest pruned id: every event after it is still there');
select throws_ok('select api.prune_events(interval ''-1 day'')', 'BK014', null, 'A negative window is refused');

select * from finish();
rollback;
