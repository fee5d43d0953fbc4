-- Conflict strategies: what happens to the second party for each of the seven, what is recorded,
-- and which events are written.
begin;
set local timezone = 'UTC';
set constraints all immediate;   -- outbox triggers fire per statement, so events are visible here
select plan(41);

\set loc  'a0000000-0000-4000-8000-000000000001'
\set ola  'a1000000-0000-4000-8000-000000000001'
\set piotr 'a1000000-0000-4000-8000-000000000002'
select tests.create_location(:'loc', 'Strategy salon', 'Europe/Warsaw', p_max_live_holds_per_customer => 100);
select tests.create_staff(:'loc', 'Ola', :'ola');
select tests.create_staff(:'loc', 'Piotr', :'piotr');
select tests.create_service(:'loc', 'Cut', '1 hour', array[:'ola', :'piotr']::uuid[],
                            'a2000000-0000-4000-8000-000000000001', p_conflict_strategy => 'first_come_first_serve');
select tests.create_customer('vip', p_priority => 10);
select tests.create_customer('regular', p_priority => 0);
select tests.create_customer('third', p_priority => 0);

-- hold(subject, session, local time on 2031-06-02, resource) for the one-hour Cut
create function pg_temp.hold(p_user text, p_local text, p_resource uuid) returns jsonb language sql as $$
  select api.create_hold_atomic(null, p_user, 'a2000000-0000-4000-8000-000000000001',
    ('2031-06-02 ' || p_local)::timestamp at time zone 'Europe/Warsaw',
    ('2031-06-02 ' || p_local)::timestamp at time zone 'Europe/Warsaw' + interval '1 hour',
    null, 'session-' || p_user, p_resource) $$;
create function pg_temp.strategy(p text) returns void language sql as $$
  update booking.services set conflict_strategy = p where id = 'a2000000-0000-4000-8000-000000000001' $$;
create function pg_temp.status_of(p_id text) returns text language sql as $$
  select status from booking.reservations where id = p_id::uuid $$;
create temp table r (name text primary key, v jsonb);

-- first_come_first_serve
insert into r values ('fcfs1', pg_temp.hold('regular', '10:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('fcfs2', pg_temp.hold('vip', '10:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'fcfs2'), 'false', 'first_come_first_serve: the second party is refused');
select is(pg_temp.status_of((select v->>'hold_id' from r where name = 'fcfs1')), 'held', 'first_come_first_serve: the first hold stays');
select is((select strategy || '/' || outcome from booking.conflicts where id = (select (v->>'conflict_id')::uuid from r where name = 'fcfs2')),
          'first_come_first_serve/refused', 'first_come_first_serve: the conflict is recorded with strategy and outcome');
select is((select count(*)::int from booking.events where type = 'conflict:detected'
           and payload->>'conflict_id' = (select v->>'conflict_id' from r where name = 'fcfs2')), 1,
          'first_come_first_serve: the requester gets a conflict:detected event');

-- last_wins: a newer hold preempts an older hold, never a booking
select pg_temp.strategy('last_wins');
insert into r values ('lw1', pg_temp.hold('regular', '11:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('lw2', pg_temp.hold('third', '11:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'lw2'), 'true', 'last_wins: the newer hold succeeds');
select is((select v->>'outcome' from r where name = 'lw2'), 'preempted', 'last_wins: the result says it preempted');
select is(pg_temp.status_of((select v->>'hold_id' from r where name = 'lw1')), 'preempted', 'last_wins: the older hold is preempted');
select is((select count(*)::int from booking.events where type = 'hold:preempted'
           and reservation_id = (select (v->>'hold_id')::uuid from r where name = 'lw1')), 1,
          'last_wins: the preempted holder gets a hold:preempted event');
select is((select outcome from booking.conflicts where id = (select (v->>'conflict_id')::uuid from r where name = 'lw2')),
          'preempted', 'last_wins: the conflict is recorded as preempted');
select api.convert_hold_to_booking((select (v->>'hold_id')::uuid from r where name = 'lw2'), 'session-third', '{}');
insert into r values ('lw3', pg_temp.hold('regular', '11:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'lw3'), 'false', 'last_wins: a confirmed booking is never preempted');
select is((select v->>'conflict_type' from r where name = 'lw3'), 'BOOKING_CONFLICT', 'last_wins: refusing a booked time is a BOOKING_CONFLICT');

-- priority_based: only a higher-priority customer preempts
select pg_temp.strategy('priority_based');
insert into r values ('pb1', pg_temp.hold('regular', '12:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('pb2', pg_temp.hold('third', '12:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'pb2'), 'false', 'priority_based: an equal priority does not preempt');
insert into r values ('pb3', pg_temp.hold('vip', '12:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'pb3'), 'true', 'priority_based: a higher priority preempts the hold');
select is(pg_temp.status_of((select v->>'hold_id' from r where name = 'pb1')), 'preempted', 'priority_based: the lower-priority hold is preempted');
select is((select strategy from booking.conflicts where id = (select (v->>'conflict_id')::uuid from r where name = 'pb3')),
          'priority_based', 'priority_based: the conflict names the strategy');

-- rollback_all: both the contested hold and the attempt are dropped
select pg_temp.strategy('rollback_all');
insert into r values ('rb1', pg_temp.hold('regular', '13:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('rb2', pg_temp.hold('third', '13:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'success' from r where name = 'rb2'), 'false', 'rollback_all: the attempt is refused');
select is(pg_temp.status_of((select v->>'hold_id' from r where name = 'rb1')), 'preempted', 'rollback_all: the contested hold is dropped too');
select is((select v->>'outcome' from r where name = 'rb2'), 'rolled_back', 'rollback_all: the outcome is rolled_back');
select is((select count(*)::int from booking.reservations where location_id = 'a0000000-0000-4000-8000-000000000001'
           and status in ('held', 'confirmed') and lower(occupied) = '2031-06-02 13:00 Europe/Warsaw'), 0,
          'rollback_all: nobody holds the contested time afterwards');

-- consensus: the attempt waits for the requester to accept an offered alternative
select pg_temp.strategy('consensus');
insert into r values ('cs1', pg_temp.hold('regular', '14:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('cs2', pg_temp.hold('third', '14:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'status' from r where name = 'cs2'), 'awaiting_confirmation', 'consensus: the attempt awaits confirmation');
select isnt((select v->'offered' from r where name = 'cs2'), null, 'consensus: an alternative is offered');
select is((select count(*)::int from api.active_conflicts() where conflict_id = (select (v->>'conflict_id')::uuid from r where name = 'cs2')),
          1, 'consensus: the waiting conflict is active');
select throws_ok(format('select api.confirm_conflict(%L, true)', gen_random_uuid()), 'BK008', null,
                 'consensus: confirming an unknown conflict is BK008');
insert into r values ('cs3', api.confirm_conflict((select (v->>'conflict_id')::uuid from r where name = 'cs2'), true));
select is((select v->>'success' from r where name = 'cs3'), 'true', 'consensus: accepting holds the offered alternative');
select is((select v->>'start_time' from r where name = 'cs3'), (select v->'offered'->>'start_time' from r where name = 'cs2'),
          'consensus: the hold is at the offered time');
select is((select status || '/' || outcome from booking.conflicts where id = (select (v->>'conflict_id')::uuid from r where name = 'cs2')),
          'resolved/accepted_alternative', 'consensus: the conflict is resolved as accepted');
select throws_ok(format('select api.confirm_conflict(%L, true)', (select v->>'conflict_id' from r where name = 'cs2')), 'BK010', null,
                 'consensus: a settled conflict cannot be confirmed again');

-- arbitration: another resource at the same time, else the nearest time
select pg_temp.strategy('arbitration');
insert into r values ('ar1', pg_temp.hold('regular', '15:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('ar2', pg_temp.hold('third', '15:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'outcome' from r where name = 'ar2'), 'other_resource', 'arbitration: placed with another resource when one is free');
select is((select v->>'resource_id' from r where name = 'ar2'), 'a1000000-0000-4000-8000-000000000002', 'arbitration: the other eligible resource is used');
select is((select v->>'start_time' from r where name = 'ar2')::timestamptz, '2031-06-02 15:00 Europe/Warsaw'::timestamptz,
          'arbitration: at the requested time');
insert into r values ('ar3', pg_temp.hold('vip', '15:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'outcome' from r where name = 'ar3'), 'nearest_time', 'arbitration: else placed at the nearest free time');
select isnt((select v->>'start_time' from r where name = 'ar3')::timestamptz, '2031-06-02 15:00 Europe/Warsaw'::timestamptz,
            'arbitration: the nearest time is another time');
select is((select count(*)::int from booking.conflicts where strategy = 'arbitration'), 2, 'arbitration: both conflicts are recorded');

-- admin_intervention: escalated, open until an admin resolves it
select pg_temp.strategy('admin_intervention');
insert into r values ('ad1', pg_temp.hold('regular', '09:00', 'a1000000-0000-4000-8000-000000000001'));
insert into r values ('ad2', pg_temp.hold('vip', '09:00', 'a1000000-0000-4000-8000-000000000001'));
select is((select v->>'status' from r where name = 'ad2'), 'open', 'admin_intervention: the conflict stays open');
select is((select v->>'suggested_action' from r where name = 'ad2'), 'wait_for_staff', 'admin_intervention: the requester is told to wait');
select tests.set_claims('customer', 'regular');
select throws_ok(format('select api.resolve_conflict(%L, %L)', (select v->>'conflict_id' from r where name = 'ad2'), 'grant_requester'),
                 'BK017', null, 'admin_intervention: a customer cannot resolve a conflict');
select tests.set_claims('admin', 'boss');
select throws_ok(format('select api.resolve_conflict(%L, %L)', (select v->>'conflict_id' from r where name = 'ad2'), 'flip_a_coin'),
                 'BK014', null, 'admin_intervention: an unknown decision is BK014');
insert into r values ('ad3', api.resolve_conflict((select (v->>'conflict_id')::uuid from r where name = 'ad2'), 'grant_requester', 'VIP'));
select tests.clear_authentication();
select is((select v->>'outcome' from r where name = 'ad3'), 'granted_requester', 'admin_intervention: an admin grants the requester the time');
select is(pg_temp.status_of((select v->>'hold_id' from r where name = 'ad1')), 'preempted', 'admin_intervention: the hold in the way is preempted');
select is((select status from booking.conflicts where id = (select (v->>'conflict_id')::uuid from r where name = 'ad2')),
          'resolved', 'admin_intervention: the conflict is resolved');
select throws_ok(format('select api.resolve_conflict(%L, %L)', (select v->>'conflict_id' from r where name = 'ad2'), 'keep_existing'),
                 'BK010', null, 'admin_intervention: a resolved conflict cannot be resolved again');

select * from finish();
rollback;
