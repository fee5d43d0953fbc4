-- Conflict metrics and recommendations on seeded conflicts.
begin;
set local timezone = 'UTC';
select plan(12);

\set loc 'b0000000-0000-4000-8000-000000000001'
select tests.create_location(:'loc', 'Busy salon', 'Europe/Warsaw');
select tests.create_service(:'loc', 'Nails', '1 hour', p_id => 'b2000000-0000-4000-8000-000000000001',
                            p_hold_ttl => '15 minutes', p_conflict_strategy => 'first_come_first_serve');
select tests.create_service(:'loc', 'Brows', '30 minutes', p_id => 'b2000000-0000-4000-8000-000000000002',
                            p_hold_ttl => '3 minutes', p_conflict_strategy => 'arbitration');

-- The conflicts are written directly (kept on purpose): the metrics read recorded rows with chosen
-- times, outcomes and durations that no sequence of API calls in one transaction could produce.
-- Nails at 18:00 local: 12 hold conflicts (hot, long TTL, default strategy), resolved in 2 ms each.
insert into booking.conflicts (location_id, service_id, conflict_type, strategy, outcome, status, operation,
                               requested_start, detected_at, resolved_at)
select 'b0000000-0000-4000-8000-000000000001', 'b2000000-0000-4000-8000-000000000001', 'HOLD_CONFLICT',
       'first_come_first_serve', 'refused', 'resolved', 'create_hold', '2031-06-02 18:00 Europe/Warsaw',
       now() - interval '10 minutes', now() - interval '10 minutes' + interval '2 milliseconds'
from generate_series(1, 12);
-- Brows at 10:00 local: 4 booking conflicts, all placed elsewhere by arbitration.
insert into booking.conflicts (location_id, service_id, conflict_type, strategy, outcome, status, operation,
                               requested_start, detected_at, resolved_at)
select 'b0000000-0000-4000-8000-000000000001', 'b2000000-0000-4000-8000-000000000002', 'BOOKING_CONFLICT',
       'arbitration', 'other_resource', 'resolved', 'create_booking', '2031-06-02 10:00 Europe/Warsaw',
       now() - interval '5 minutes', now() - interval '5 minutes' + interval '4 milliseconds'
from generate_series(1, 4);
-- One escalated conflict still open, and an old one outside the window.
insert into booking.conflicts (location_id, service_id, conflict_type, strategy, outcome, status, operation,
                               requested_start, detected_at)
values ('b0000000-0000-4000-8000-000000000001', 'b2000000-0000-4000-8000-000000000002', 'HOLD_CONFLICT',
        'admin_intervention', 'escalated', 'open', 'create_hold', '2031-06-03 10:00 Europe/Warsaw', now()),
       ('b0000000-0000-4000-8000-000000000001', 'b2000000-0000-4000-8000-000000000002', 'HOLD_CONFLICT',
        'first_come_first_serve', 'refused', 'resolved', 'create_hold', '2031-06-03 11:00 Europe/Warsaw',
        now() - interval '3 hours');

create temp table m as select api.conflict_metrics('1 hour') as v;
select is((select (v->>'in_window')::int from m), 17, 'Conflicts in the window are counted, older ones are not');
select ok((select (v->>'total')::int from m) >= 18, 'The total counts every conflict ever recorded');
select is((select (v->'by_type'->>'HOLD_CONFLICT')::int from m), 13, 'Conflicts are counted by type');
select is((select (v->'by_strategy'->>'arbitration')::int from m), 4, 'Conflicts are counted by strategy');
select is((select (v->>'open')::int from m), 1, 'Open conflicts are counted');
select is((select (v->>'resolution_success_rate')::numeric from m), round(4.0 / 16, 4),
          'The success rate is the share of resolved conflicts where the requester still got a slot');
select is((select (v->>'mean_time_to_resolve_ms')::numeric from m), round((12 * 2 + 4 * 4) / 16.0, 3),
          'The mean time to resolve is in milliseconds');

select is((select count(*)::int from api.active_conflicts() where location_id = 'b0000000-0000-4000-8000-000000000001'), 1,
          'Only the open conflict is active');

create temp table rec as select * from api.conflict_recommendations() where service_name in ('Nails', 'Brows');
select is((select array_agg(recommendation order by recommendation) from rec where service_name = 'Nails' and local_hour = 18),
          array['shorten_hold_ttl', 'use_arbitration'],
          'A hot hour of hold conflicts under a long TTL and the default strategy gets a shorter TTL and arbitration');
select is((select array_agg(recommendation) from rec where service_name = 'Brows' and local_hour = 10),
          array['add_staff_at_hour'], 'An hour of booking conflicts gets more staff, and no TTL advice under a short TTL');
select is((select count(*)::int from rec where local_hour = 11), 0, 'An hour with few conflicts gets no advice');
select ok((select bool_and(detail is not null and length(detail) > 20) from rec), 'Every recommendation says why');

select * from finish();
rollback;
