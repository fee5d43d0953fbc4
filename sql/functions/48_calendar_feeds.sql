-- Calendar feeds: secret-token URLs for calendar apps, a resource's bookings or a customer's own
-- (sql/migrations/0017_calendar_feeds.sql; the iCalendar file is written by the gateway, see
-- docs/HTTP_API.md "Calendar feeds").
--
-- Tokens. A token is 'r_' (resource) or 'c_' (customer) and 64 hex digits from two random UUIDs
-- (244 random bits); only its sha256 is stored, and it is shown once, by the function that creates
-- it. A revoked, unknown or malformed token, a token of the other kind and a token of an erased
-- customer all answer BK038 alike (HTTP 404): a feed URL tells nothing about tokens that do not work.
--
-- What a feed shows. Confirmed bookings (never holds) starting from 30 days ago up to 180 days
-- ahead, and bookings cancelled in the last 7 days (as cancelled, so calendars remove them) when they
-- had been confirmed; after that they are gone. A resource feed shows every booking with a unit on
-- the resource (a room booked with a therapist too) and the customer's display name (staff may see
-- it in the staff views; no e-mail or phone); a customer feed shows only the customer's own bookings.
--
-- Version. The newest event touching the feed (the resource's or the customer's events, and catalogue
-- changes of the location(s) involved), read below booking.event_read_bound() as
-- api.availability_version does: 0 when none is known or one may still be committing.

-- feed_token_limit
-- how many live (unrevoked) tokens a resource or a customer may have.
create or replace function booking.feed_token_limit() returns integer
language sql immutable
as $$ select 10 $$;
comment on function booking.feed_token_limit() is
  'The most live (unrevoked) feed tokens one resource or one customer may have: 10 (BK039 beyond).';

-- feed_window
-- the span of starts a feed shows: 30 days back to 180 days ahead of now.
create or replace function booking.feed_window() returns tstzrange
language sql stable
as $$ select tstzrange(now() - interval '30 days', now() + interval '180 days') $$;
comment on function booking.feed_window() is
  'The starts a calendar feed shows: from 30 days before now to 180 days after.';

-- feed_cancelled_kept
-- how long a cancelled booking stays in a feed (as STATUS:CANCELLED) after its cancellation.
create or replace function booking.feed_cancelled_kept() returns interval
language sql immutable
as $$ select interval '7 days' $$;
comment on function booking.feed_cancelled_kept() is
  'How long a cancelled booking stays in a calendar feed (as cancelled) after it was cancelled: 7 days.';

-- feed_shows
-- whether a reservation belongs in a feed now: confirmed, or cancelled lately after being confirmed.
create or replace function booking.feed_shows(p_r booking.reservations) returns boolean
language sql stable
as $$
  select p_r.status = 'confirmed'
      or (p_r.status = 'cancelled' and p_r.confirmed_at is not null
          and coalesce(p_r.ended_at, p_r.updated_at) > now() - booking.feed_cancelled_kept());
$$;
comment on function booking.feed_shows(booking.reservations) is
  'Whether a reservation is in a calendar feed: confirmed, or cancelled within feed_cancelled_kept() after having been confirmed (holds never).';

-- feed_token_hash
-- the stored form of a token.
create or replace function booking.feed_token_hash(p_token text) returns bytea
language sql immutable
as $$ select sha256(convert_to(p_token, 'UTF8')) $$;
comment on function booking.feed_token_hash(text) is 'sha256 of a feed token''s text: what booking.feed_tokens stores.';

-- feed_token_row
-- the live token a feed URL names, of the kind asked for (NULL: either); BK038 otherwise.
create or replace function booking.feed_token_row(p_token text, p_kind text) returns booking.feed_tokens
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_t booking.feed_tokens;
begin
  if p_token ~ '^[rc]_[0-9a-f]{64}$' then
    select * into v_t from booking.feed_tokens t
     where t.token_hash = booking.feed_token_hash(p_token) and t.revoked_at is null
       and (p_kind is null or t.kind = p_kind)
       and (t.customer_id is null
            or not exists (select 1 from booking.customers c where c.id = t.customer_id and c.erased_at is not null));
  end if;
  if v_t.id is null then
    raise exception 'no such calendar feed' using errcode = 'BK038',
      hint = 'The feed token is unknown or was revoked: create a new one.';
  end if;
  return v_t;
end;
$$;
comment on function booking.feed_token_row(text, text) is
  'The live feed token a URL names (of kind p_kind, or either when NULL); BK038 when unknown, malformed, revoked, of the other kind or of an erased customer.';

-- new_feed_token
-- stores a new token and returns it, once, with its id.
drop function if exists booking.new_feed_token(text, uuid, uuid, uuid);
create or replace function booking.new_feed_token(p_kind text, p_resource_id uuid, p_customer_id uuid)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_token text := case p_kind when 'resource' then 'r_' else 'c_' end
                  || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');
  v_t booking.feed_tokens;
begin
  -- the caller has locked the resource or customer row: two creations at once count each other
  if (select count(*) from booking.feed_tokens t
       where (t.resource_id = p_resource_id or t.customer_id = p_customer_id) and t.revoked_at is null)
     >= booking.feed_token_limit() then
    raise exception 'the % already has % live feed tokens', p_kind, booking.feed_token_limit()
      using errcode = 'BK039', hint = 'Revoke one you no longer use first.';
  end if;
  insert into booking.feed_tokens (kind, resource_id, customer_id, token_hash, created_by)
  values (p_kind, p_resource_id, p_customer_id, booking.feed_token_hash(v_token),
          booking.actor_claims()->>'sub')
  returning * into v_t;
  return booking.feed_token_view(v_t) || jsonb_build_object('token', v_token, 'path', '/v1/feeds/' || v_token || '.ics');
end;
$$;
comment on function booking.new_feed_token(text, uuid, uuid) is
  'Creates a feed token (kind resource or customer) and returns its view with the token and the feed''s path, the only time the token is shown. BK039 when the resource or customer already has feed_token_limit() live tokens (the caller locks its row first).';

-- feed_token_location
-- the location of a resource token's resource (NULL for a customer token).
create or replace function booking.feed_token_location(p_t booking.feed_tokens) returns uuid
language sql stable
as $$
  select r.location_id from booking.resources r where r.id = p_t.resource_id;
$$;
comment on function booking.feed_token_location(booking.feed_tokens) is
  'The location of a resource feed token (its resource''s); NULL for a customer token.';

-- feed_token_view
-- a token as callers see it (never the token itself).
create or replace function booking.feed_token_view(p_t booking.feed_tokens) returns jsonb
language sql stable
as $$
  select jsonb_build_object('token_id', p_t.id, 'kind', p_t.kind,
                            'location_id', booking.feed_token_location(p_t),
                            'resource_id', p_t.resource_id, 'created_at', p_t.created_at,
                            'revoked_at', p_t.revoked_at);
$$;
comment on function booking.feed_token_view(booking.feed_tokens) is
  'A feed token as JSON {token_id, kind, location_id, resource_id, created_at, revoked_at}; the token itself is never stored.';

-- create_resource_feed_token
-- a new secret feed URL for a resource's bookings (staff and admins of its location).
create or replace function api.create_resource_feed_token(p_resource_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_res booking.resources;
begin
  perform booking.assert_role(array['staff', 'admin']);
  -- locked: two creations at once count each other against the limit
  v_res := booking.locked_resource(p_resource_id);
  return booking.new_feed_token('resource', v_res.id, null);
end;
$$;
comment on function api.create_resource_feed_token(uuid) is
  'Creates a secret calendar feed URL for a resource''s bookings (staff and admins at its location). Returns {token_id, kind, location_id, resource_id, created_at, revoked_at, token, path}: the token is shown only here. BK017 (role or location not allowed), BK019 (unknown resource), BK039 (10 live tokens already).';

-- create_customer_feed_token
-- a new secret feed URL for a customer's own bookings (the customer itself).
create or replace function api.create_customer_feed_token(p_user_id text) returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_customer uuid;
begin
  perform booking.assert_role(array['customer']);
  perform booking.assert_acts_as(p_user_id);
  v_customer := booking.customer_id_for(p_user_id);
  -- locked: two creations at once count each other against the limit
  perform 1 from booking.customers c where c.id = v_customer for no key update;
  return booking.new_feed_token('customer', null, v_customer);
end;
$$;
comment on function api.create_customer_feed_token(text) is
  'Creates a secret calendar feed URL for a customer''s own bookings (customers only, as themselves). Returns {token_id, kind, location_id, resource_id, created_at, revoked_at, token, path}: the token is shown only here. BK014 (no subject), BK015 (another customer), BK017 (staff or admin), BK039 (10 live tokens already).';

-- revoke_feed_token
-- revokes a token by id: a customer its own, staff and admins those of resources at their locations.
create or replace function api.revoke_feed_token(p_token_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_t booking.feed_tokens;
  v_role text := booking.actor_claims()->>'role';
begin
  select * into v_t from booking.feed_tokens t where t.id = p_token_id for update;
  -- a customer sees only its own tokens, staff and admins only resource tokens
  if v_t.id is not null and v_t.kind = 'customer' and v_role in ('staff', 'admin') then
    v_t := null;
  elsif v_t.id is not null and v_t.kind = 'resource' and v_role = 'customer' then
    v_t := null;
  elsif v_t.id is not null and v_t.kind = 'customer' then
    begin
      perform booking.assert_owns(v_t.customer_id, 'feed token');
    exception when sqlstate 'BK008' then
      v_t := null;
    end;
  end if;
  if v_t.id is null then
    raise exception 'feed token % not found', p_token_id using errcode = 'BK037',
      hint = 'Check the token id; a customer sees only its own tokens.';
  end if;
  if v_t.kind = 'resource' then
    perform booking.assert_location_access(booking.feed_token_location(v_t));
  end if;
  if v_t.revoked_at is null then
    update booking.feed_tokens t set revoked_at = now() where t.id = v_t.id returning * into v_t;
  end if;
  return booking.feed_token_view(v_t);
end;
$$;
comment on function api.revoke_feed_token(uuid) is
  'Revokes a calendar feed token by id (its URL answers 404 from then on); revoking again returns it unchanged. A customer revokes its own tokens, staff and admins the tokens of resources at their locations. Returns {token_id, kind, location_id, resource_id, created_at, revoked_at}. BK037 (unknown, or not the caller''s to see), BK017 (another location).';

-- feed_version
-- the version of the feed a token names: the newest event touching it, or 0.
create or replace function api.feed_version(p_token text) returns bigint
language plpgsql volatile
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_bound bigint;
  v_t booking.feed_tokens;
  v_newest bigint;
begin
  v_bound := booking.event_read_bound();
  v_t := booking.feed_token_row(p_token, null);
  -- a later statement: it sees every event up to the bound
  if v_t.kind = 'resource' then
    select greatest(
      coalesce((select max(e.id) from booking.events e
                 where e.resource_id = v_t.resource_id and e.type <> 'conflict:detected'), 0),
      coalesce((select max(e.id) from booking.events e
                 where e.location_id = booking.feed_token_location(v_t) and e.day is null), 0)) into v_newest;
  else
    select greatest(
      coalesce((select max(e.id) from booking.events e
                 where e.customer_id = v_t.customer_id and e.type <> 'conflict:detected'), 0),
      coalesce((select max(e.id) from booking.events e
                 where e.day is null
                   and e.location_id in (select distinct r.location_id from booking.reservations r
                                          where r.customer_id = v_t.customer_id)), 0)) into v_newest;
  end if;
  if v_newest > v_bound then
    return 0;
  end if;
  return v_newest;
end;
$$;
comment on function api.feed_version(text) is
  'Version of the calendar feed a token names: the id of the newest event touching it (a resource feed: the resource''s events and its location''s catalogue changes; a customer feed: the customer''s events and catalogue changes of locations it booked at). 0 means no version (no event yet, or one with a smaller id still committing): do not cache. Read it in its own statement before the feed. The feed also changes as time passes (its window, cancelled bookings dropping out): an ETag should include the day. BK038 (unknown or revoked token), BK014 outside READ COMMITTED.';

-- feed_item
-- one booking as a feed shows it.
create or replace function booking.feed_item(
  p_r booking.reservations, p_zone text, p_service_name text, p_resource_name text, p_location_name text,
  p_customer_name text)
returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', p_r.id, 'status', p_r.status, 'version', p_r.version, 'seats', p_r.seats,
    'service_name', p_service_name, 'resource_name', p_resource_name, 'location_name', p_location_name,
    'customer_name', p_customer_name, 'updated_at', p_r.updated_at, 'created_at', p_r.created_at)
    || booking.local_span(p_r.starts_at, p_r.ends_at, p_zone);
$$;
comment on function booking.feed_item(booking.reservations, text, text, text, text, text) is
  'A booking in a calendar feed as JSON: {id, status (confirmed or cancelled), version, seats, service_name, resource_name, location_name, customer_name, updated_at, created_at, start_time, end_time, time_zone, start_local, end_local}.';

-- resource_feed
-- the bookings of the resource a token names.
create or replace function api.resource_feed(p_token text) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_t booking.feed_tokens := booking.feed_token_row(p_token, 'resource');
  v_window tstzrange := booking.feed_window();
  v_res booking.resources;
  v_loc booking.locations;
begin
  select * into v_res from booking.resources r where r.id = v_t.resource_id;
  select * into v_loc from booking.locations l where l.id = v_res.location_id;
  return jsonb_build_object(
    'kind', 'resource', 'resource_id', v_res.id, 'name', v_res.name, 'location_name', v_loc.name,
    'time_zone', v_loc.time_zone,
    'items', coalesce((
      select jsonb_agg(booking.feed_item(r, v_loc.time_zone, s.name, v_res.name, v_loc.name, c.display_name)
                       order by r.starts_at, r.id)
      from booking.reservations r
      join booking.services s on s.location_id = r.location_id and s.id = r.service_id
      join booking.customers c on c.id = r.customer_id
      where r.location_id = v_res.location_id
        and r.id in (select u.reservation_id from booking.units u
                      where u.location_id = v_res.location_id and u.resource_id = v_res.id
                        and u.status in ('confirmed', 'cancelled') and u.occupied && v_window)
        and v_window @> r.starts_at and booking.feed_shows(r)), '[]'::jsonb));
end;
$$;
comment on function api.resource_feed(text) is
  'The calendar feed of the resource a token names, as JSON {kind: resource, resource_id, name, location_name, time_zone, items: [feed items]}: bookings with a unit on the resource starting 30 days back to 180 days ahead, confirmed or lately cancelled (booking.feed_shows), with the customer''s display name (no other personal data). BK038 (unknown, revoked or customer token).';

-- customer_feed
-- the customer's own bookings, at every location.
create or replace function api.customer_feed(p_token text) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_t booking.feed_tokens := booking.feed_token_row(p_token, 'customer');
  v_window tstzrange := booking.feed_window();
begin
  return jsonb_build_object(
    'kind', 'customer', 'name', 'Bookings',
    'items', coalesce((
      select jsonb_agg(booking.feed_item(r, l.time_zone, s.name, res.name, l.name, null)
                       order by r.starts_at, r.id)
      from booking.reservations r
      join booking.services s on s.location_id = r.location_id and s.id = r.service_id
      join booking.resources res on res.location_id = r.location_id and res.id = r.resource_id
      join booking.locations l on l.id = r.location_id
      where r.customer_id = v_t.customer_id
        and r.starts_at >= lower(v_window) and r.starts_at < upper(v_window)
        and booking.feed_shows(r)), '[]'::jsonb));
end;
$$;
comment on function api.customer_feed(text) is
  'The calendar feed of the customer a token names, as JSON {kind: customer, name, items: [feed items]}: the customer''s own bookings at every location starting 30 days back to 180 days ahead, confirmed or lately cancelled (booking.feed_shows); customer_name is always null. BK038 (unknown, revoked or resource token, or an erased customer).';

-- resource_feed_tokens
-- the live feed tokens of a resource (staff and admins of its location), so a lost URL can be revoked.
create or replace function api.resource_feed_tokens(p_resource_id uuid) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_location uuid;
begin
  perform booking.assert_role(array['staff', 'admin']);
  select r.location_id into v_location from booking.resources r where r.id = p_resource_id;
  if v_location is null then
    raise exception 'resource % not found', coalesce(p_resource_id::text, 'NULL')
      using errcode = 'BK019', hint = 'Check the resource id.';
  end if;
  perform booking.assert_location_access(v_location);
  return jsonb_build_object('resource_id', p_resource_id, 'items', coalesce((
    select jsonb_agg(booking.feed_token_view(t) order by t.created_at, t.id)
    from booking.feed_tokens t where t.resource_id = p_resource_id and t.revoked_at is null), '[]'::jsonb));
end;
$$;
comment on function api.resource_feed_tokens(uuid) is
  'The live calendar feed tokens of a resource (staff and admins at its location), oldest first, as {resource_id, items: [{token_id, kind, location_id, resource_id, created_at, revoked_at}]}: never the tokens themselves. BK017 (role or location not allowed), BK019 (unknown resource).';

-- customer_feed_tokens
-- a customer's own live feed tokens.
create or replace function api.customer_feed_tokens(p_user_id text) returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
begin
  perform booking.assert_role(array['customer']);
  perform booking.assert_acts_as(p_user_id);
  return jsonb_build_object('items', coalesce((
    select jsonb_agg(booking.feed_token_view(t) order by t.created_at, t.id)
    from booking.feed_tokens t
    join booking.customers c on c.id = t.customer_id
    where c.subject = p_user_id and t.revoked_at is null), '[]'::jsonb));
end;
$$;
comment on function api.customer_feed_tokens(text) is
  'A customer''s own live calendar feed tokens, oldest first, as {items: [{token_id, kind, location_id, resource_id, created_at, revoked_at}]}: never the tokens themselves. BK014 (no subject), BK015 (another customer).';
