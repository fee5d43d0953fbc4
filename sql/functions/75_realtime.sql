-- Realtime: reading the outbox as a stream of topic-addressed events, its retention horizon, pruning.
--
-- Readers hand out events only up to booking.event_read_bound() (sql/functions/20_events.sql), in id
-- order, so a reader that asks for `id > last_seen` never misses an event that commits later.
-- Topics (docs/REALTIME.md):
--   availability:<service_id>:<YYYY-MM-DD>  every service the event's resource performs, on its local day
--   user:<subject>                          the customer the event is about (their own screens)
--   location:<location_id>, service:<id>    catalogue changes (every day of every service there)
-- Pruning deletes a prefix of ids only, so the horizon (`min(id) - 1`) is exact: a reader resuming
-- from any id at or above it misses nothing.

-- event_topics
-- the topics an event is delivered on.
create or replace function booking.event_topics(p_event booking.events) returns text[]
language sql stable
set search_path = ''
as $$
  select coalesce(array_agg(t.topic order by t.ord, t.topic), '{}'::text[])
  from (
    select 1 as ord, format('availability:%s:%s', sr.service_id, to_char(p_event.day, 'YYYY-MM-DD')) as topic
      from booking.service_resources sr
     where p_event.day is not null and p_event.resource_id is not null
       and p_event.type <> 'conflict:detected'
       and sr.location_id = p_event.location_id and sr.resource_id = p_event.resource_id
    union all
    select 2, 'user:' || c.subject
      from booking.customers c
     where p_event.customer_id is not null and c.id = p_event.customer_id
       and p_event.type <> 'availability:updated'
    union all
    select 3, 'location:' || p_event.location_id where p_event.day is null
    union all
    select 4, 'service:' || s.id
      from booking.services s
     where p_event.day is null and s.location_id = p_event.location_id
  ) t;
$$;
comment on function booking.event_topics(booking.events) is
  'The topics an event is delivered on: availability:<service>:<day> for each service of its resource (not for conflicts), user:<subject> for its customer, location:<id> and service:<id> for catalogue changes.';

-- last_event_id
-- the newest event id a reader may hand out (0 when there is none): where a new reader starts.
create or replace function api.last_event_id() returns bigint
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_bound bigint;
begin
  v_bound := booking.event_read_bound();
  return coalesce((select max(e.id) from booking.events e where e.id <= v_bound), 0);
end;
$$;
comment on function api.last_event_id() is
  'The newest event id a reader may hand out, or 0: a new reader (the gateway''s listener at start-up) reads events after it. Needs READ COMMITTED (BK014).';

-- newest_event_id
-- the newest committed event id, readable yet or not: a reader whose cursor is below it has events coming.
create or replace function api.newest_event_id() returns bigint
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(max(e.id), 0) from booking.events e;
$$;
comment on function api.newest_event_id() is
  'The newest committed event id, or 0. While it is above a reader''s cursor, events are on their way: read again soon (a transaction with a smaller id is still committing).';

-- read_events
-- events after an id, up to the read bound, in id order, with their topics; optionally only some topics.
create or replace function api.read_events(p_after bigint, p_limit integer, p_topics text[] default null)
returns table (id bigint, type text, topics text[], payload jsonb, created_at timestamptz)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_bound bigint;
  v_allowed uuid[] := booking.caller_locations();
begin
  if p_after is null or p_after < 0 then
    raise exception 'p_after must be an event id (0 or more)' using errcode = 'BK014';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 10000 then
    raise exception 'p_limit must be between 1 and 10000' using errcode = 'BK014';
  end if;
  v_bound := booking.event_read_bound();
  -- a later statement: it sees every transaction that finished before the bound was read
  return query
    select x.id, x.type, x.topics, x.payload, x.created_at
    from (select e.id, e.type, booking.event_topics(e) as topics, e.payload, e.created_at
            from booking.events e
           where e.id > p_after and e.id <= v_bound
             and (v_allowed is null or e.location_id = any(v_allowed))
           order by e.id) x
    where p_topics is null or x.topics && p_topics
    order by x.id
    limit p_limit;
end;
$$;
comment on function api.read_events(bigint, integer, text[]) is
  'Up to p_limit events with id > p_after in id order (ids are drawn at commit), each with its topics (availability:<service>:<day>, user:<subject>, location:<id>, service:<id>); with p_topics only events on at least one of them. Only ids up to the read bound are returned: no event can later appear below the last id returned, so a reader resuming from it misses nothing. It reads at its own moment, after the bound: use its rows, do not join them with booking tables in the same statement (those are read at the statement''s start). A transaction reads its own events too. Staff and admins whose token lists locations read the events of those locations only. Needs READ COMMITTED. Errors: BK014.';

-- event_retention
-- how long events are kept: the setting booking.event_retention (an interval), else 7 days.
create or replace function api.event_retention() returns interval
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(nullif(current_setting('booking.event_retention', true), '')::interval, interval '7 days');
$$;
comment on function api.event_retention() is
  'The retention window of the event log: the setting booking.event_retention (ALTER DATABASE ... SET booking.event_retention = ''2 days''), else 7 days. A client can resume with any since inside it.';

-- event_retention_horizon
-- the oldest `since` a reader may still resume from without missing events.
create or replace function api.event_retention_horizon() returns bigint
language sql stable
security definer
set search_path = ''
as $$
  select greatest(coalesce((select min(e.id) - 1 from booking.events e), 0),
                  (select s.last_value from booking.events_pruned_through s));
$$;
comment on function api.event_retention_horizon() is
  'The smallest since a reader may resume from: every event after it is still stored (the newest pruned id, or the oldest stored id - 1). A since below it must resync (refetch state).';

-- prune_events
-- deletes the oldest events, a prefix of ids only, all older than p_older_than and the retention window.
create or replace function api.prune_events(p_older_than interval default null) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_keep interval := coalesce(p_older_than, api.event_retention());
  v_cutoff timestamptz;
  v_first_kept bigint;
  v_bound bigint;
  v_last bigint;
  v_count integer;
begin
  if v_keep < interval '0' then
    raise exception 'p_older_than must not be negative' using errcode = 'BK014';
  end if;
  v_cutoff := now() - v_keep;
  v_bound := booking.event_read_bound();
  -- the first event too young to go, or above the read bound (readers may not have seen it): it and
  -- everything after it stay, so what goes is a prefix of ids
  select min(e.id) into v_first_kept from booking.events e
   where e.created_at >= v_cutoff or e.id > v_bound;
  with gone as (
    delete from booking.events e
     where e.created_at < v_cutoff and (v_first_kept is null or e.id < v_first_kept)
    returning e.id)
  select count(*), max(gone.id) into v_count, v_last from gone;
  if v_last is not null then
    perform setval('booking.events_pruned_through',
                   greatest(v_last, (select s.last_value from booking.events_pruned_through s)));
  end if;
  return v_count;
end;
$$;
comment on function api.prune_events(interval) is
  'Deletes events older than p_older_than (default: api.event_retention()), only ever a prefix of ids, so no event newer than the horizon is lost; returns how many. Errors: BK014.';
