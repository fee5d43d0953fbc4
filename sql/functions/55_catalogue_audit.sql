-- The catalogue's audit trail and versions: what every catalogue change through api.* records
-- (booking.catalogue_audit), how a stale version is refused, and the admins' read of the trail.
-- The changes themselves are in 56_catalogue_admin.sql and 57_schedule_admin.sql.

-- audit_catalogue
-- records one catalogue change: which entry, what was done, by whom, the entry before and after.
-- Callers name the arguments (p_entity => ..., p_before => ...): several share a type.
create or replace function booking.audit_catalogue(
  p_location_id uuid, p_entity text, p_entity_id uuid, p_action text, p_before jsonb, p_after jsonb)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  insert into booking.catalogue_audit (location_id, entity, entity_id, action, actor_subject, actor_role,
                                       before, after)
  values (p_location_id, p_entity, p_entity_id, p_action, v_claims->>'sub', coalesce(v_claims->>'role', 'system'),
          p_before, p_after);
end;
$$;
comment on function booking.audit_catalogue(uuid, text, uuid, text, jsonb, jsonb) is
  'Writes a booking.catalogue_audit row: the entry (entity and id) at a location, the action, the caller''s JWT sub and role (system without claims), and the entry before and after as JSON.';

-- assert_catalogue_version
-- BK021 when the caller read an older (or newer) version of a catalogue entry than the current one.
create or replace function booking.assert_catalogue_version(
  p_what text, p_id uuid, p_current bigint, p_expected bigint)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_expected is not null and p_expected <> p_current then
    raise exception '% % is at version %, not %', p_what, p_id, p_current, p_expected
      using errcode = 'BK021',
            hint = 'Someone changed it since you read it: read it again and retry with its current version.';
  end if;
end;
$$;
comment on function booking.assert_catalogue_version(text, uuid, bigint, bigint) is
  'Raises BK021 when p_expected is given and is not the entry''s current version (NULL: no check).';

-- catalogue_audit
-- the catalogue's audit trail, newest first, optionally of one location or one entry and since a time.
create or replace function api.catalogue_audit(
  p_location_id uuid default null, p_entity_id uuid default null, p_since timestamptz default null,
  p_limit integer default 100)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_allowed uuid[];
begin
  perform booking.assert_role(array['admin']);
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000' using errcode = 'BK014',
      hint = 'Page with p_since instead of asking for more rows.';
  end if;
  if p_location_id is not null then
    perform booking.assert_location_access(p_location_id);
  end if;
  v_allowed := booking.caller_locations();
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'id', a.id, 'location_id', a.location_id, 'entity', a.entity, 'entity_id', a.entity_id,
             'action', a.action, 'actor_subject', a.actor_subject, 'actor_role', a.actor_role,
             'db_user', a.db_user, 'before', a.before, 'after', a.after, 'at', a.at)
           order by a.at desc, a.id desc)
    from (select * from booking.catalogue_audit c
          where (p_location_id is null or c.location_id = p_location_id)
            and (v_allowed is null or c.location_id = any(v_allowed))
            and (p_entity_id is null or c.entity_id = p_entity_id)
            and (p_since is null or c.at >= p_since)
          order by c.at desc, c.id desc
          limit p_limit) a), '[]'::jsonb);
end;
$$;
comment on function api.catalogue_audit(uuid, uuid, timestamptz, integer) is
  'Admin only: who changed which catalogue entry, with the entry before and after, newest first; optionally of one location, of one entry (p_entity_id: a location, resource, service or schedule exception; a service''s eligible resources and a resource''s working hours are filed under the service and the resource) and since p_since; at most p_limit (1-1000). An admin whose token lists locations sees those only. Errors: BK014, BK017.';
