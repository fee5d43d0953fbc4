-- The caller: who is calling (the JWT claims, or the session's caller role), and the checks that a
-- customer acts only as itself, touches only its own reservations, and that a function meant for
-- some roles is called by one of them. Internal helpers (schema booking), not granted to any caller role.
--
-- Inlining. Helpers that are a single SQL expression (here actor_claims; slot_id, resource_lock_key
-- and local_day in 11_catalogue.sql; reservation_result and taken_result in 14_results.sql;
-- moved_unit_span in 15_conflict_record.sql) carry
-- no SET clause on purpose: a SET clause stops PostgreSQL from inlining a SQL function, and these
-- run on every hold. They are not SECURITY DEFINER and use fully qualified names only; inlined into
-- the api functions they run under those functions' empty search_path.

-- actor_claims
-- who is calling: the JWT claims from request.jwt.claims (PostgREST's convention), with the role taken
-- from the session's caller role when it has one (booking_customer -> customer, ...), so a customer
-- session can neither claim to be staff nor go without an identity; '{}' for a trusted SQL session.
create or replace function booking.actor_claims() returns jsonb
language sql stable
as $$
  select case
    when current_setting('role') in ('booking_customer', 'booking_staff', 'booking_admin')
      then coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
           || jsonb_build_object('role', substr(current_setting('role'), 9))
    else coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
  end;
$$;
comment on function booking.actor_claims() is
  'The caller''s JWT claims (request.jwt.claims). Under a caller role (booking_customer, booking_staff, booking_admin) the role claim is that role, whatever the claims say; a session with no caller role and no claims is a trusted SQL caller ({}).';

-- assert_acts_as
-- a customer may act only as itself; staff, admin and trusted SQL sessions may act for anyone.
create or replace function booking.assert_acts_as(p_user_id text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  if p_user_id is null or length(p_user_id) = 0 or length(p_user_id) > 200 then
    raise exception 'p_user_id must be a non-empty subject of at most 200 characters'
      using errcode = 'BK014', hint = 'Pass the customer''s auth subject (the JWT sub).';
  end if;
  if v_claims->>'role' = 'customer' and v_claims->>'sub' is distinct from p_user_id then
    raise exception 'a customer can act only as itself'
      using errcode = 'BK015', hint = 'Pass your own subject as p_user_id.';
  end if;
end;
$$;
comment on function booking.assert_acts_as(text) is
  'Raises BK015 when a customer tries to act as another subject, BK014 when the subject is empty.';

-- customer_id_for
-- the customer row of a subject, created on first use.
create or replace function booking.customer_id_for(p_subject text) returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
begin
  select c.id into v_id from booking.customers c where c.subject = p_subject;
  if v_id is null then
    insert into booking.customers (subject) values (p_subject)
    on conflict (subject) do nothing
    returning id into v_id;
    if v_id is null then
      select c.id into v_id from booking.customers c where c.subject = p_subject;
    end if;
  end if;
  return v_id;
end;
$$;
comment on function booking.customer_id_for(text) is 'The customer id of an auth subject, creating the row on first use.';

-- assert_owns
-- a customer may touch only its own reservations; others get BK008, as if the row did not exist.
create or replace function booking.assert_owns(p_customer_id uuid, p_what text) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  if v_claims->>'role' = 'customer' and not exists (
      select 1 from booking.customers c where c.id = p_customer_id and c.subject = v_claims->>'sub') then
    raise exception '% not found', p_what using errcode = 'BK008';
  end if;
end;
$$;
comment on function booking.assert_owns(uuid, text) is
  'Raises BK008 (not found) when a customer touches a reservation of someone else.';

-- assert_role
-- BK017 unless the caller's JWT role is one of p_roles (or it is a trusted SQL session).
create or replace function booking.assert_role(p_roles text[]) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_role text := booking.actor_claims()->>'role';
begin
  if v_role is not null and not (v_role = any(p_roles)) then
    raise exception 'this needs one of the roles %', p_roles
      using errcode = 'BK017', hint = 'Ask someone with that role.';
  end if;
end;
$$;
comment on function booking.assert_role(text[]) is
  'Raises BK017 when the caller''s JWT role is not among p_roles; trusted SQL sessions (no claims) pass.';

-- caller_locations
-- the locations a staff or admin caller is limited to (the JWT claim "locations"), or NULL when
-- unlimited: a token without the claim, a customer (customers book anywhere), a trusted SQL session.
create or replace function booking.caller_locations() returns uuid[]
language plpgsql stable
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  if coalesce(v_claims->>'role', '') not in ('staff', 'admin') or not (v_claims ? 'locations') then
    return null;
  end if;
  if jsonb_typeof(v_claims->'locations') <> 'array' then
    raise exception 'the claim "locations" must be an array of location ids'
      using errcode = 'BK014', hint = 'Mint the token with "locations": ["<uuid>", ...].';
  end if;
  return array(select x::uuid from jsonb_array_elements_text(v_claims->'locations') x);
exception
  when invalid_text_representation then
    raise exception 'the claim "locations" must hold location ids (uuid)'
      using errcode = 'BK014', hint = 'Mint the token with "locations": ["<uuid>", ...].';
end;
$$;
comment on function booking.caller_locations() is
  'The locations a staff or admin caller may see and change (JWT claim "locations", an array of ids), or NULL when unlimited: no such claim, a customer, or a trusted SQL session. BK014 when the claim is not an array of uuids.';

-- assert_location_access
-- BK017 unless a staff or admin caller may act at this location (see caller_locations).
create or replace function booking.assert_location_access(p_location_id uuid) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_allowed uuid[] := booking.caller_locations();
begin
  if v_allowed is not null and not (p_location_id = any(v_allowed)) then
    raise exception 'this caller may not act at location %', p_location_id
      using errcode = 'BK017',
            hint = 'Use a token whose "locations" claim names this location.';
  end if;
end;
$$;
comment on function booking.assert_location_access(uuid) is
  'Raises BK017 when a staff or admin caller whose token lists its locations acts at another one; callers without the claim, customers and trusted SQL sessions pass.';
