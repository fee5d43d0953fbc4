-- Audit: who did what to which reservation, before and after, in booking.audit_log; read by admins.

-- audit_reservation_change
-- row trigger on booking.reservations: one audit row per insert and per real update, with the caller's
-- JWT subject and role (role 'system' when the session set no claims) and the whole row before and after.
-- A plain AFTER ROW insert: it runs on the hot hold path, so it does nothing else.
create or replace function booking.audit_reservation_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_claims jsonb := booking.actor_claims();
begin
  insert into booking.audit_log (location_id, reservation_id, action, actor_subject, actor_role, before, after)
  values (new.location_id, new.id, lower(tg_op), v_claims->>'sub', coalesce(v_claims->>'role', 'system'),
          case when tg_op = 'UPDATE' then to_jsonb(old) end, to_jsonb(new));
  return null;
end;
$$;
comment on function booking.audit_reservation_change() is
  'Trigger: writes who (JWT sub and role, or system) inserted or changed which reservation, with the row before and after, to booking.audit_log.';

-- Two triggers, because only an UPDATE trigger may compare OLD and NEW: an update that changes
-- nothing writes no audit row.
drop trigger if exists reservations_audit on booking.reservations;
drop trigger if exists reservations_audit_insert on booking.reservations;
drop trigger if exists reservations_audit_update on booking.reservations;
create trigger reservations_audit_insert
  after insert on booking.reservations
  for each row execute function booking.audit_reservation_change();
create trigger reservations_audit_update
  after update on booking.reservations
  for each row when (old.* is distinct from new.*)
  execute function booking.audit_reservation_change();

-- audit_log
-- the audit trail, newest first, optionally of one reservation and since a time. Admins only.
create or replace function api.audit_log(
  p_reservation_id uuid default null, p_since timestamptz default null, p_limit integer default 100)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_allowed uuid[];
begin
  perform booking.assert_role(array['admin']);     -- BK017 for any other JWT role
  v_allowed := booking.caller_locations();
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000' using errcode = 'BK014',
      hint = 'Page with p_since instead of asking for more rows.';
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object(
             'id', a.id, 'location_id', a.location_id, 'reservation_id', a.reservation_id,
             'action', a.action, 'actor_subject', a.actor_subject, 'actor_role', a.actor_role,
             'db_user', a.db_user, 'before', a.before, 'after', a.after, 'at', a.at)
           order by a.at desc, a.id desc)
    from (select * from booking.audit_log l
          where (p_reservation_id is null or l.reservation_id = p_reservation_id)
            and (v_allowed is null or l.location_id = any(v_allowed))
            and (p_since is null or l.at >= p_since)
          order by l.at desc, l.id desc
          limit p_limit) a), '[]'::jsonb);
end;
$$;
comment on function api.audit_log(uuid, timestamptz, integer) is
  'Admin only: audit rows (who did what to which reservation, before and after), newest first, optionally of one reservation and since p_since, at most p_limit (1-1000). An admin whose token lists locations sees those locations only. Errors: BK014, BK017 (not an admin).';
