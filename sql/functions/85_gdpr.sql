-- GDPR: export everything held about a customer (art. 15/20); erase their personal data while keeping
-- anonymous booking history (art. 17). Semantics in docs/SECURITY.md, "GDPR".

-- scrub_reservation_json
-- a reservation row as JSON (audit before/after) without its personal fields: details, cancel reason,
-- session and idempotency key. NULL stays NULL.
create or replace function booking.scrub_reservation_json(p_row jsonb) returns jsonb
language sql immutable
set search_path = ''
as $$
  select case when p_row is null then null
              else p_row || jsonb_build_object('details', '{}'::jsonb, 'cancel_reason', null,
                                               'session_id', null, 'idempotency_key', null) end;
$$;
comment on function booking.scrub_reservation_json(jsonb) is
  'A reservation row as JSON with details emptied and cancel_reason, session_id and idempotency_key set to null.';

-- erased_subject_hash
-- what an erased customer row keeps of its former subject: a hash salted with the row's id.
create or replace function booking.erased_subject_hash(p_customer_id uuid, p_subject text) returns bytea
language sql immutable
set search_path = ''
as $$
  select sha256(convert_to(p_customer_id::text || ':' || p_subject, 'UTF8'));
$$;
comment on function booking.erased_subject_hash(uuid, text) is
  'sha256 of the customer id, '':'' and a subject: lets a repeated erase of the same subject be recognised.';

-- export_customer
-- everything held about one customer as one JSON document: profile, reservations with their details,
-- conflicts they were party to, and the audit trail of their reservations.
create or replace function api.export_customer(p_user_id text) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
  v_cust booking.customers;
  v_ids uuid[];
  v_allowed uuid[] := booking.caller_locations();
begin
  perform booking.assert_acts_as(p_user_id);
  select * into v_cust from booking.customers c where c.subject = p_user_id;
  if v_cust.id is null then
    raise exception 'customer % not found', p_user_id using errcode = 'BK008',
      hint = 'No data is held about this subject (or it was erased).';
  end if;
  -- staff and admins limited to locations export what is held there
  select coalesce(array_agg(r.id), '{}') into v_ids from booking.reservations r
   where r.customer_id = v_cust.id and (v_allowed is null or r.location_id = any(v_allowed));
  if v_allowed is not null and cardinality(v_ids) = 0 and not exists (
      select 1 from booking.conflicts c
       where c.requester_customer_id = v_cust.id and c.location_id = any(v_allowed)) and not exists (
      select 1 from booking.waitlist_entries e
       where e.customer_id = v_cust.id and e.location_id = any(v_allowed)) then
    raise exception 'customer % not found at your locations', p_user_id using errcode = 'BK008',
      hint = 'Your token''s locations hold no data about this subject.';
  end if;
  return jsonb_build_object(
    'format', 'booking-customer-export/1',
    'exported_at', now(),
    'customer', to_jsonb(v_cust) - 'erased_subject_hash',
    'reservations', coalesce((
      select jsonb_agg(to_jsonb(r) || jsonb_build_object('status', booking.effective_status(r),
                                                          'service_name', s.name, 'resource_name', res.name,
                                                          'location_name', l.name)
                       order by r.starts_at, r.id)
      from booking.reservations r
      join booking.services s on s.location_id = r.location_id and s.id = r.service_id
      join booking.resources res on res.location_id = r.location_id and res.id = r.resource_id
      join booking.locations l on l.id = r.location_id
      where r.id = any(v_ids)), '[]'::jsonb),
    -- the waiting lists the customer joined (no other customer appears in them)
    'waitlist', coalesce((
      select jsonb_agg(to_jsonb(e) || jsonb_build_object('status', booking.waitlist_effective_status(e))
                       order by e.starts_at, e.joined_at, e.id)
      from booking.waitlist_entries e
      where e.customer_id = v_cust.id and (v_allowed is null or e.location_id = any(v_allowed))), '[]'::jsonb),
    -- the other party of a conflict is another customer: only this customer's side is shown
    'conflicts', coalesce((
      select jsonb_agg(case when c.requester_customer_id = v_cust.id
                            then to_jsonb(c) || jsonb_build_object('party', 'requester')
                            else jsonb_build_object(
                                   'id', c.id, 'party', 'holder', 'conflict_type', c.conflict_type,
                                   'strategy', c.strategy, 'outcome', c.outcome, 'status', c.status,
                                   'operation', c.operation, 'holder_reservation_id', c.holder_reservation_id,
                                   'requested_start', c.requested_start, 'requested_end', c.requested_end,
                                   'detected_at', c.detected_at, 'resolved_at', c.resolved_at) end
                       order by c.detected_at, c.id)
      from booking.conflicts c
      where (v_allowed is null or c.location_id = any(v_allowed))
        and (c.requester_customer_id = v_cust.id
             or c.holder_reservation_id = any(v_ids) or c.attempted_reservation_id = any(v_ids))), '[]'::jsonb),
    -- who acted is shown by role; a staff member's or admin's own subject is not this customer's data
    'audit', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', a.id, 'reservation_id', a.reservation_id, 'action', a.action, 'at', a.at,
               'actor_role', a.actor_role,
               'actor_subject', case when a.actor_subject = v_cust.subject then a.actor_subject end,
               'before', a.before, 'after', a.after)
             order by a.at, a.id)
      from booking.audit_log a
      where a.reservation_id = any(v_ids)), '[]'::jsonb));
end;
$$;
comment on function api.export_customer(text) is
  'GDPR export: everything held about a customer as JSON {format, exported_at, customer, reservations, waitlist, conflicts, audit}. A customer may export only itself; staff and admin anyone, and when their token lists locations, what is held at those locations (the customer row, reservations, waiting-list entries, conflicts and audit rows there; BK008 when there is nothing). Errors: BK008 (no such customer), BK014, BK015.';

-- erase_customer
-- removes a customer's personal data and keeps the anonymous history (rows, times, statuses, counts).
-- Idempotent: a repeated call for the same subject (or for its erased:<id> subject) changes nothing.
create or replace function api.erase_customer(p_user_id text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_cust booking.customers;
  v_already boolean;
  v_released integer;
  v_scrubbed integer;
begin
  perform booking.assert_role(array['admin']);     -- BK017 for any other JWT role
  if p_user_id is null or length(p_user_id) = 0 or length(p_user_id) > 200 then
    raise exception 'p_user_id must be a non-empty subject of at most 200 characters'
      using errcode = 'BK014', hint = 'Pass the customer''s auth subject (the JWT sub).';
  end if;
  select * into v_cust from booking.customers c where c.subject = p_user_id for update;
  if v_cust.id is null then
    -- erased before: the subject is gone, but the salted hash recognises it
    select * into v_cust from booking.customers c
    where c.erased_at is not null and c.erased_subject_hash = booking.erased_subject_hash(c.id, p_user_id)
    order by c.erased_at desc
    limit 1
    for update;
  end if;
  if v_cust.id is null then
    raise exception 'customer % not found', p_user_id using errcode = 'BK008',
      hint = 'Check the subject; nothing is held about an unknown subject.';
  end if;
  -- an admin limited to locations erases only a customer known at those locations alone
  if booking.caller_locations() is not null and (
       exists (select 1 from booking.reservations r
                where r.customer_id = v_cust.id and not (r.location_id = any(booking.caller_locations())))
       or exists (select 1 from booking.conflicts c
                   where c.requester_customer_id = v_cust.id
                     and not (c.location_id = any(booking.caller_locations())))
       or exists (select 1 from booking.waitlist_entries e
                   where e.customer_id = v_cust.id
                     and not (e.location_id = any(booking.caller_locations())))) then
    raise exception 'customer % has data at locations your token does not list', p_user_id
      using errcode = 'BK017', hint = 'Ask an admin of every location (a token without a "locations" claim).';
  end if;
  v_already := v_cust.erased_at is not null;

  if not v_already then
    -- the audit trail names its actors by subject: the customer's own actions become erased:<id>
    update booking.audit_log a set actor_subject = 'erased:' || v_cust.id
     where a.actor_subject = v_cust.subject;
    update booking.customers c
       set display_name = null, email = null, phone = null, subject = 'erased:' || c.id,
           erased_at = now(), erased_subject_hash = booking.erased_subject_hash(c.id, c.subject)
     where c.id = v_cust.id
    returning c.* into v_cust;
  end if;

  -- a live hold cannot be converted without its session any more: let it go
  update booking.reservations r
     set status = 'released', version = r.version + 1, updated_at = now(), ended_at = now()
   where r.customer_id = v_cust.id and r.status = 'held';
  get diagnostics v_released = row_count;
  -- nobody waits for a slot under an erased name (an offered entry was declined with its hold above)
  update booking.waitlist_entries e
     set status = 'left', end_reason = 'erased', ended_at = now(), version = e.version + 1, updated_at = now()
   where e.customer_id = v_cust.id and e.status in ('waiting', 'offered');

  update booking.reservations r
     set details = '{}'::jsonb, cancel_reason = null, session_id = null, idempotency_key = null
   where r.customer_id = v_cust.id
     and (r.details <> '{}'::jsonb or r.cancel_reason is not null or r.session_id is not null
          or r.idempotency_key is not null);
  get diagnostics v_scrubbed = row_count;

  delete from booking.idempotency_keys k where k.customer_id = v_cust.id;

  -- after the updates above, whose own audit rows carry the old values in "before"
  update booking.audit_log a
     set before = booking.scrub_reservation_json(a.before), after = booking.scrub_reservation_json(a.after)
   where a.reservation_id in (select r.id from booking.reservations r where r.customer_id = v_cust.id)
     and (a.before is distinct from booking.scrub_reservation_json(a.before)
          or a.after is distinct from booking.scrub_reservation_json(a.after));

  update booking.conflicts c
     set detail = c.detail - 'session_id' - 'idempotency_key', note = null
   where c.requester_customer_id = v_cust.id
     and (c.detail ?| array['session_id', 'idempotency_key'] or c.note is not null);

  return jsonb_build_object('success', true, 'customer_id', v_cust.id, 'erased_at', v_cust.erased_at,
                            'already_erased', v_already, 'reservations_scrubbed', v_scrubbed,
                            'holds_released', v_released);
end;
$$;
comment on function api.erase_customer(text) is
  'GDPR erasure, admin only: clears the customer''s name, e-mail, phone and subject (now erased:<id>), empties reservation details, cancel reasons, sessions and idempotency keys (also in the audit log and conflicts), releases live holds, takes the customer off every waiting list (entries left, end_reason erased); keeps reservation rows, times, statuses and counts. Idempotent: a repeated call returns already_erased true and changes nothing. Returns {success, customer_id, erased_at, already_erased, reservations_scrubbed, holds_released}. An admin whose token lists locations may erase only a customer with no reservation or conflict elsewhere (BK017). Errors: BK008, BK014, BK017.';
