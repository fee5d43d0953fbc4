-- CACHE_CONFLICT: a caller that acted on an availability version older than the event that took
-- the slot is told so; with the current version (or none) it is an ordinary HOLD_CONFLICT.
begin;
set local timezone = 'UTC';
set constraints all immediate;   -- outbox triggers fire per statement, so versions move here
select plan(6);

\set loc  'd0000000-0000-4000-8000-000000000001'
\set ola  'd1000000-0000-4000-8000-000000000001'
\set cut  'd2000000-0000-4000-8000-000000000001'
select tests.create_location(:'loc', 'Cache salon');
select tests.create_staff(:'loc', 'Ola', :'ola');
select tests.create_service(:'loc', 'Cut', '1 hour', array[:'ola']::uuid[], :'cut');

create function pg_temp.hold(p_user text, p_seen bigint) returns jsonb language sql as $$
  select api.create_hold_atomic(null, p_user, 'd2000000-0000-4000-8000-000000000001',
                                '2031-08-04 10:00+00', null, null, 'sess-' || p_user, null, p_seen) $$;

select api.availability_version(:'cut', '2031-08-04') as seen_before \gset
select is(pg_temp.hold('first', :seen_before)->>'success', 'true', 'The first caller holds 10:00');
select api.availability_version(:'cut', '2031-08-04') as seen_after \gset
select cmp_ok(:seen_after::bigint, '>', :seen_before::bigint, 'The hold moved the day''s version');
select is(pg_temp.hold('stale', :seen_before)->>'conflict_type', 'CACHE_CONFLICT',
          'A caller who saw the version before the hold gets CACHE_CONFLICT');
select is(pg_temp.hold('current', :seen_after)->>'conflict_type', 'HOLD_CONFLICT',
          'A caller who saw the current version gets HOLD_CONFLICT');
select is(pg_temp.hold('unversioned', null)->>'conflict_type', 'HOLD_CONFLICT',
          'Without a version it is HOLD_CONFLICT');
select is(pg_temp.hold('zero', 0)->>'conflict_type', 'HOLD_CONFLICT',
          'Version 0 (none: an event below the newest was still committing) compares with nothing');

select * from finish();
rollback;
