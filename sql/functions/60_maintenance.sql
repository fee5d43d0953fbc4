-- Maintenance and health: expiring holds, leases, idempotency records; the health report.

-- cleanup_expired_holds
-- marks every lapsed hold expired (each emits hold:expired); skips rows another transaction is using.
create or replace function api.cleanup_expired_holds() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  -- the waiting entries the lapsed holds' time may serve, in line order, first: the holds are then
  -- locked without waiting (skip locked), so cleanup never holds a hold's row while it waits for an
  -- entry that a transaction offering time (and perhaps waiting for that row) has locked
  -- (sql/functions/45_waitlist.sql)
  perform 1 from booking.waitlist_entries e
   where e.status = 'waiting'
     and exists (select 1 from booking.units u
                  where u.location_id = e.location_id and u.occupied && e.occupied
                    and u.status = 'held' and u.expires_at <= now())
   order by e.joined_at, e.id
   for update of e;
  with lapsed as (
    select r.location_id, r.id from booking.reservations r
    where r.status = 'held' and r.expires_at <= now()
    limit 100000                 -- one event each: keep one cleanup transaction bounded
    for update skip locked
  )
  update booking.reservations r
     set status = 'expired', version = r.version + 1, updated_at = now(), ended_at = now()
    from lapsed
   where r.location_id = lapsed.location_id and r.id = lapsed.id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
comment on function api.cleanup_expired_holds() is
  'Marks lapsed holds expired so screens hear hold:expired, at most 100,000 per call (call again while it returns that many). Correctness does not depend on it: a lapsed hold is free for every function already. Returns the number of holds expired.';

-- cleanup_expired_locks
-- removes leases that lapsed; fencing tokens come from one sequence, so removal never lets a token repeat.
create or replace function api.cleanup_expired_locks() returns integer
language sql
security definer
set search_path = ''
as $$
  with lapsed as (delete from booking.distributed_locks l where l.expires_at <= now() returning 1)
  select count(*)::integer from lapsed;
$$;
comment on function api.cleanup_expired_locks() is 'Deletes lapsed leases; returns how many.';

-- cleanup_expired_idempotency_keys
-- forgets idempotency records older than their 24-hour retention.
create or replace function api.cleanup_expired_idempotency_keys() returns integer
language sql
security definer
set search_path = ''
as $$
  with lapsed as (delete from booking.idempotency_keys k where k.expires_at <= now() returning 1)
  select count(*)::integer from lapsed;
$$;
comment on function api.cleanup_expired_idempotency_keys() is 'Deletes idempotency records past their retention (24 hours); returns how many.';

-- acquire_lock
-- takes a lease on a key for an owner; the returned fencing token grows strictly with every grant.
create or replace function api.acquire_lock(p_key text, p_owner text, p_ttl interval) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_token bigint;
begin
  if p_key is null or p_owner is null or p_ttl is null or p_ttl <= interval '0' or p_ttl > interval '1 day'
     or length(p_key) not between 1 and 200 or length(p_owner) not between 1 and 200 then
    raise exception 'a key and an owner of 1 to 200 characters and a ttl between 0 and 1 day are required'
      using errcode = 'BK014';
  end if;
  insert into booking.distributed_locks as l (key, owner, version, acquired_at, expires_at)
  values (p_key, p_owner, nextval('booking.fencing_tokens'), now(), now() + p_ttl)
  on conflict (key) do update
     set owner = excluded.owner, version = excluded.version, acquired_at = excluded.acquired_at,
         expires_at = excluded.expires_at
   where l.expires_at <= now() or l.owner = excluded.owner
  returning l.version into v_token;
  return v_token;
end;
$$;
comment on function api.acquire_lock(text, text, interval) is
  'Takes (or takes over a lapsed, or re-takes its own) lease on p_key for p_ttl; returns a fencing token larger than any before, or NULL while another owner holds it. Errors: BK014.';

-- renew_lock
-- extends a lease; only the owner with the current token may.
create or replace function api.renew_lock(p_key text, p_owner text, p_token bigint, p_ttl interval) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_ttl is null or p_ttl <= interval '0' or p_ttl > interval '1 day' then
    raise exception 'a ttl between 0 and 1 day is required' using errcode = 'BK014';
  end if;
  update booking.distributed_locks l set expires_at = now() + p_ttl
   where l.key = p_key and l.owner = p_owner and l.version = p_token and l.expires_at > now();
  return found;
end;
$$;
comment on function api.renew_lock(text, text, bigint, interval) is
  'Extends a live lease held by p_owner with token p_token; false for a stale token, another owner or a lapsed lease.';

-- release_lock
-- gives a lease up; only the owner with the current token may.
create or replace function api.release_lock(p_key text, p_owner text, p_token bigint) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from booking.distributed_locks l where l.key = p_key and l.owner = p_owner and l.version = p_token;
  return found;
end;
$$;
comment on function api.release_lock(text, text, bigint) is
  'Releases a lease held by p_owner with token p_token; false for a stale token or another owner.';

-- schema_version
-- the newest applied migration.
create or replace function booking.schema_version() returns text
language plpgsql stable
set search_path = ''
as $$
declare
  v_version text;
begin
  select max(m.migration_id) into v_version from public._yoyo_migration m;
  return v_version;
exception when undefined_table then
  return null;
end;
$$;
comment on function booking.schema_version() is 'The newest applied yoyo migration; NULL before any.';

-- health
-- what an operator looks at first.
create or replace function api.health() returns jsonb
language sql stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'status', 'ok',
    'database_time', now(),
    'server_version', current_setting('server_version'),
    'schema_version', booking.schema_version(),
    'notify_queue_usage', pg_notification_queue_usage(),
    'expired_uncleaned_holds', (select count(*) from booking.reservations r
                                where r.status = 'held' and r.expires_at <= now()),
    'open_conflicts', (select count(*) from booking.conflicts c where c.status <> 'resolved'),
    'last_event_id', (select coalesce(max(e.id), 0) from booking.events e));
$$;
comment on function api.health() is
  'Health report: database time, server and schema version, NOTIFY queue usage (0..1), lapsed holds not yet cleaned, open conflicts, newest event id.';
