-- The engine's writes cannot be miscalled: booking.take_slot, booking.settle_conflict and
-- booking.record_conflict take the attempt (booking.attempt) and the conflict report
-- (booking.conflict_report) as composite values set field by field, no two of their parameters
-- share a type, and the requested time is one tstzrange, so a start and an end swapped cannot be
-- passed; at the API a swapped pair is refused.
begin;
set local timezone = 'UTC';
select plan(12);

select tests.create_location('b0000000-0000-4000-8000-000000000001', 'Attempt salon', 'Europe/Warsaw');
select tests.create_staff('b0000000-0000-4000-8000-000000000001', 'Ola', 'b1000000-0000-4000-8000-000000000001');
select tests.create_service('b0000000-0000-4000-8000-000000000001', 'Cut', '1 hour',
                            '{b1000000-0000-4000-8000-000000000001}', 'b2000000-0000-4000-8000-000000000001',
                            p_buffer_before => '5 minutes', p_buffer_after => '10 minutes');
select tests.create_customer('attempt-alice', 'b3000000-0000-4000-8000-000000000001');

-- an attempt built as the api functions build it: field by field, the time as one range
create function pg_temp.attempt_at(p_start timestamptz, p_end timestamptz) returns booking.attempt
language plpgsql as $$
declare
  v_attempt booking.attempt;
begin
  v_attempt.operation := 'create_hold';
  v_attempt.customer_id := 'b3000000-0000-4000-8000-000000000001';
  v_attempt.slot := tstzrange(p_start, p_end);
  v_attempt.status := 'held';
  v_attempt.expires_at := now() + interval '5 minutes';
  v_attempt.session_id := 'attempt-session';
  v_attempt.slot_id := booking.slot_id('b2000000-0000-4000-8000-000000000001', p_start);
  return v_attempt;
end;
$$;
-- a report as the api functions build one: field by field, the rest NULL
create function pg_temp.report_held_by(p_holder uuid) returns booking.conflict_report
language plpgsql as $$
declare
  v_report booking.conflict_report;
begin
  v_report.conflict_type := 'HOLD_CONFLICT';
  v_report.resource_id := 'b1000000-0000-4000-8000-000000000001';
  v_report.holder_reservation_id := p_holder;
  return v_report;
end;
$$;
create function pg_temp.svc() returns booking.services language sql as $$
  select * from booking.services where id = 'b2000000-0000-4000-8000-000000000001' $$;

-- (a) the signatures: one form each, no two parameters of one type, no timestamptz among them

create temp view writes as
  select p.oid, p.oid::regprocedure::text as signature
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'booking' and p.proname in ('take_slot', 'settle_conflict', 'record_conflict');
select is(array(select signature from writes order by 1),
          array['booking.record_conflict(booking.services,text,booking.attempt,booking.conflict_report)',
                'booking.settle_conflict(booking.services,text,uuid[],booking.attempt)',
                'booking.take_slot(booking.services,uuid[],booking.attempt)'],
          'take_slot, settle_conflict and record_conflict exist in one form each: no positional form lingers');
select is(array(select w.signature from writes w join pg_proc p on p.oid = w.oid
                where (select count(distinct t) from unnest(p.proargtypes) t) < p.pronargs order by 1),
          array[]::text[],
          'No two parameters of take_slot, settle_conflict or record_conflict share a type: swapping two arguments does not resolve');
select is(array(select w.signature from writes w join pg_proc p on p.oid = w.oid
                where 'timestamptz'::regtype = any(p.proargtypes::oid[]) order by 1),
          array[]::text[],
          'None of them takes a timestamptz: the requested time is the attempt''s one tstzrange');
select throws_ok(
  $$select booking.record_conflict(pg_temp.svc(), 'Europe/Warsaw', null::booking.conflict_report,
                                   pg_temp.attempt_at('2031-06-02 08:00+00', '2031-06-02 09:00+00'))$$,
  '42883', null, 'record_conflict with the attempt and the report swapped does not resolve');
select throws_ok(
  $$select booking.take_slot(pg_temp.svc(), array['b1000000-0000-4000-8000-000000000001'::uuid],
                             'b3000000-0000-4000-8000-000000000001'::uuid, 'held',
                             '2031-06-02 09:00+00'::timestamptz, '2031-06-02 08:00+00'::timestamptz,
                             now() + interval '5 minutes', 'attempt-session', null::text, null::text, null::jsonb)$$,
  '42883', null, 'The former positional take_slot call, start and end swapped, does not resolve');

-- (b) a start and an end swapped cannot be built into an attempt

select throws_ok(
  $$select pg_temp.attempt_at('2031-06-02 09:00+00', '2031-06-02 08:00+00')$$,
  '22000', 'range lower bound must be less than or equal to range upper bound',
  'An attempt whose end comes before its start cannot be built');

-- (c) what the fields say is what is written

create temp table taken as
  select * from booking.take_slot(pg_temp.svc(), array['b1000000-0000-4000-8000-000000000001'::uuid],
                                  pg_temp.attempt_at('2031-06-02 08:00+00', '2031-06-02 09:00+00'));
select is((select (starts_at, ends_at, occupied)::text from taken),
          ('2031-06-02 08:00+00'::timestamptz, '2031-06-02 09:00+00'::timestamptz,
           tstzrange('2031-06-02 07:55+00', '2031-06-02 09:10+00'))::text,
          'take_slot writes the attempt''s slot as starts_at and ends_at, widened by the buffers as occupied');
select is((select (customer_id, status, session_id, slot_id, details)::text from taken),
          ('b3000000-0000-4000-8000-000000000001'::uuid, 'held', 'attempt-session',
           'b2000000-0000-4000-8000-000000000001@2031-06-02T08:00:00Z', '{}'::jsonb)::text,
          'take_slot writes each field of the attempt to its column (NULL details: {})');

create temp table reported as
  select booking.record_conflict(pg_temp.svc(), 'Europe/Warsaw',
                                 pg_temp.attempt_at('2031-06-02 08:00+00', '2031-06-02 09:00+00'),
                                 pg_temp.report_held_by((select id from taken))) as v;
select is((select (c.requested_start, c.requested_end, c.operation, c.requester_customer_id)::text
           from booking.conflicts c where c.id = (select (v->>'conflict_id')::uuid from reported)),
          ('2031-06-02 08:00+00'::timestamptz, '2031-06-02 09:00+00'::timestamptz, 'create_hold',
           'b3000000-0000-4000-8000-000000000001'::uuid)::text,
          'record_conflict records the attempt''s slot as requested_start and requested_end, its operation and requester');
select is((select (c.strategy, c.outcome, c.status, c.detail, c.holder_reservation_id = t.id)::text
           from booking.conflicts c, taken t where c.id = (select (v->>'conflict_id')::uuid from reported)),
          ('first_come_first_serve', 'refused', 'resolved', '{}'::jsonb, true)::text,
          'A report''s NULL strategy, outcome, status and detail are recorded as first_come_first_serve, refused, resolved, {}');

-- (d) at the API, a swapped pair of times is refused

select throws_ok(
  $$select api.create_hold_atomic(null, 'attempt-alice', 'b2000000-0000-4000-8000-000000000001',
                                  '2031-06-02 12:00+00', '2031-06-02 11:00+00', null, 'attempt-session')$$,
  'BK006', null, 'create_hold_atomic with start and end swapped is refused (BK006)');
select is((select count(*)::int from booking.reservations r
           where r.customer_id = 'b3000000-0000-4000-8000-000000000001'), 1,
          'The refused hold wrote nothing');

select * from finish();
rollback;
