-- Staff views: a location's day (per resource: working hours, exceptions, bookings and live holds with
-- the customer's contact details, free gaps) and a search of its bookings. Staff and admins only, and
-- only at the locations their token names (booking.assert_location_access). Every time comes with the
-- location's zone and its wall-clock reading (start_local, end_local).

-- staff_reservation_view
-- a reservation as staff see it: what reservation_view shows, the service's and resource's names, and
-- the customer's subject and contact details.
create or replace function booking.staff_reservation_view(
  p_r booking.reservations, p_zone text, p_customer booking.customers, p_service_name text,
  p_resource_name text)
returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', p_r.id, 'status', booking.effective_status(p_r), 'service_id', p_r.service_id,
    'service_name', p_service_name, 'resource_id', p_r.resource_id, 'resource_name', p_resource_name,
    'expires_at', p_r.expires_at, 'version', p_r.version, 'seats', p_r.seats, 'details', p_r.details,
    'cancel_reason', p_r.cancel_reason, 'created_at', p_r.created_at, 'updated_at', p_r.updated_at,
    'customer', jsonb_build_object('subject', p_customer.subject, 'name', p_customer.display_name,
                                   'email', p_customer.email, 'phone', p_customer.phone))
    || booking.local_span(p_r.starts_at, p_r.ends_at, p_zone);
$$;
comment on function booking.staff_reservation_view(booking.reservations, text, booking.customers, text, text) is
  'A reservation as staff see it, as JSON: id, effective status, service and resource (ids and names), start_time, end_time, time_zone, start_local, end_local, expires_at, version, seats, details, cancel_reason, created_at, updated_at and customer {subject, name, email, phone}.';

-- staff_location
-- the zone of a location a staff or admin caller may read: BK017 for another role or another
-- location, BK019 for an unknown one (checked after the access, so a limited token learns nothing
-- about locations outside it).
create or replace function booking.staff_location(p_location_id uuid) returns text
language plpgsql stable
set search_path = ''
as $$
declare
  v_zone text;
begin
  perform booking.assert_role(array['staff', 'admin']);
  if p_location_id is null then
    raise exception 'p_location_id is required' using errcode = 'BK014';
  end if;
  perform booking.assert_location_access(p_location_id);
  v_zone := booking.location_zone(p_location_id);
  if v_zone is null then
    raise exception 'location % does not exist', p_location_id
      using errcode = 'BK019', hint = 'Pass the id of one of your locations.';
  end if;
  return v_zone;
end;
$$;
comment on function booking.staff_location(uuid) is
  'The time zone of a location a staff or admin caller may act at; BK017 (role or location not allowed), BK014 (no id), BK019 (unknown location).';

-- resource_day
-- one resource's local day: its working time (weekly hours and extra hours minus time off and
-- closures), the exceptions that touch the day, its bookings and live holds, and the free gaps
-- between them (working time minus the time the reservations occupy, buffers included).
create or replace function booking.resource_day(p_res booking.resources, p_zone text, p_date date) returns jsonb
language plpgsql stable
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_now timestamptz := now();
  v_day tstzrange := tstzrange(p_date::timestamp at time zone p_zone, (p_date + 1)::timestamp at time zone p_zone);
  v_working tstzmultirange;
  v_busy tstzmultirange;
  v_reservations jsonb;
begin
  v_working := booking.working_time(p_res.location_id, p_res.id, p_zone, p_date, p_date)
               * tstzmultirange(v_day);
  -- the live reservations with a unit on the resource that day (the exclusion constraint's index);
  -- busy is the time every seat is taken (for a resource of one seat: its units' time)
  select coalesce(jsonb_agg(booking.staff_reservation_view(r, p_zone, c, s.name, p_res.name)
                            order by r.starts_at, r.id), '[]'::jsonb)
    into v_reservations
  from booking.reservations r
  join booking.customers c on c.id = r.customer_id
  join booking.services s on s.location_id = r.location_id and s.id = r.service_id
  where r.location_id = p_res.location_id
    and r.id in (select u.reservation_id from booking.units u
                 where u.location_id = p_res.location_id and u.resource_id = p_res.id
                   and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > v_now)
                   and u.occupied && v_day);
  select coalesce(range_intersect_agg(b.busy), '{}'::tstzmultirange) into v_busy
  from (select coalesce((select range_agg(u.occupied) from booking.units u
                         where u.location_id = p_res.location_id and u.resource_id = p_res.id and u.seat = g.seat
                           and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > v_now)
                           and u.occupied && v_day), '{}'::tstzmultirange) as busy
        from generate_series(1, p_res.capacity) g(seat)) b;
  return jsonb_build_object(
    'resource_id', p_res.id, 'name', p_res.name, 'kind', p_res.kind, 'active', p_res.active,
    'working_hours', coalesce((select jsonb_agg(booking.local_span(lower(w), upper(w), p_zone) order by w)
                               from unnest(v_working) w), '[]'::jsonb),
    'exceptions', coalesce((
      select jsonb_agg(jsonb_build_object('id', e.id, 'kind', e.kind,
                                          'scope', case when e.resource_id is null then 'location' else 'resource' end,
                                          'note', e.note)
                       || booking.local_span(lower(e.period), upper(e.period), p_zone)
                       order by lower(e.period), e.id)
      from booking.schedule_exceptions e
      where e.location_id = p_res.location_id and (e.resource_id = p_res.id or e.resource_id is null)
        and e.period && v_day), '[]'::jsonb),
    'reservations', v_reservations,
    'free', coalesce((select jsonb_agg(booking.local_span(lower(f), upper(f), p_zone) order by f)
                      from unnest(v_working - v_busy) f), '[]'::jsonb));
end;
$$;
comment on function booking.resource_day(booking.resources, text, date) is
  'One resource''s local day as JSON {resource_id, name, kind, active, working_hours, exceptions, reservations, free}: working time within the day, the exceptions touching it (scope resource or location), live bookings and holds with customer details, and free gaps (working time minus occupied time, buffers included); every span with start_time, end_time, time_zone, start_local, end_local.';

-- location_schedule
-- a location's local day for staff, per resource (or for one resource).
create or replace function api.location_schedule(p_location_id uuid, p_date date, p_resource_id uuid default null)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_zone text := booking.staff_location(p_location_id);
  v_now timestamptz := now();
begin
  if p_date is null then
    raise exception 'p_date is required' using errcode = 'BK014', hint = 'Pass the local day, e.g. 2031-03-30.';
  end if;
  if p_resource_id is not null and not exists (
      select 1 from booking.resources r where r.location_id = p_location_id and r.id = p_resource_id) then
    raise exception 'resource % does not exist at location %', p_resource_id, p_location_id
      using errcode = 'BK019', hint = 'Pass a resource of this location, or NULL for all of them.';
  end if;
  return jsonb_build_object(
    'location_id', p_location_id, 'date', p_date,
    'resources', coalesce((
      select jsonb_agg(booking.resource_day(res, v_zone, p_date) order by res.name, res.id)
      from booking.resources res
      where res.location_id = p_location_id
        and (p_resource_id is null or res.id = p_resource_id)
        -- an inactive resource only when it still has something that day (or is asked for)
        and (res.active or res.id = p_resource_id or exists (
              select 1 from booking.units u
              where u.location_id = res.location_id and u.resource_id = res.id
                and u.status in ('held', 'confirmed') and (u.status = 'confirmed' or u.expires_at > v_now)
                and u.occupied && tstzrange(p_date::timestamp at time zone v_zone,
                                            (p_date + 1)::timestamp at time zone v_zone)))), '[]'::jsonb))
    || booking.local_span(p_date::timestamp at time zone v_zone, (p_date + 1)::timestamp at time zone v_zone, v_zone);
end;
$$;
comment on function api.location_schedule(uuid, date, uuid) is
  'Staff and admins: a location''s local day {location_id, date, start_time, end_time, time_zone, start_local, end_local, resources}: the day is local midnight to midnight (23 or 25 hours across a DST change); per resource (active ones, and an inactive one with reservations that day; only p_resource_id when given), by name: {resource_id, name, kind, active, working_hours, exceptions, reservations, free}. reservations are the live bookings and holds, each {id, status, service_id, service_name, resource_id, resource_name, start_time, end_time, time_zone, start_local, end_local, expires_at, version, details, cancel_reason, created_at, updated_at, customer {subject, name, email, phone}}; exceptions are time off, extra hours and closures touching the day ({id, kind, scope: resource or location, note} and their span); free lists the gaps of working time no reservation occupies (buffers included). Errors: BK014, BK017 (another role, or a location outside the token''s "locations"), BK019 unknown location, BK019 resource not at this location.';

-- search_bookings
-- a location's holds and bookings by customer, local day range and status, in start order, a page at
-- a time (keyset: pass the last row's start_time and id as p_after_start, p_after_id).
create or replace function api.search_bookings(
  p_location_id uuid, p_customer text default null, p_from date default null, p_to date default null,
  p_statuses text[] default null, p_limit integer default 50, p_after_start timestamptz default null,
  p_after_id uuid default null)
returns jsonb
language plpgsql stable
security definer
set search_path = ''
set enable_seqscan = off
as $$
declare
  v_zone text := booking.staff_location(p_location_id);
  v_customer text := btrim(p_customer);
  v_pattern text;
  v_digits text;
  v_lo timestamptz;
  v_hi timestamptz;
  v_rows jsonb;
  v_last jsonb;
begin
  if p_limit is null or p_limit not between 1 and 1000 then
    raise exception 'p_limit must be between 1 and 1000' using errcode = 'BK014';
  end if;
  if p_from > p_to then
    raise exception 'p_from % is after p_to %', p_from, p_to
      using errcode = 'BK014', hint = 'Both are local days, inclusive.';
  end if;
  if (p_after_start is null) <> (p_after_id is null) then
    raise exception 'p_after_start and p_after_id go together'
      using errcode = 'BK014', hint = 'Pass the start_time and id of the last row of the previous page, or neither.';
  end if;
  if p_statuses is not null and (cardinality(p_statuses) = 0 or exists (
      select 1 from unnest(p_statuses) s
      where s is null or s not in ('held', 'confirmed', 'cancelled', 'expired', 'released', 'preempted'))) then
    raise exception 'p_statuses must list statuses among held, confirmed, cancelled, expired, released, preempted'
      using errcode = 'BK014', hint = 'Pass NULL for every status.';
  end if;
  if p_customer is not null and length(v_customer) not between 1 and 200 then
    raise exception 'p_customer must have 1 to 200 characters' using errcode = 'BK014';
  end if;
  -- the customer: a subject exactly, or part of a name or an e-mail (LIKE's wildcards taken
  -- literally), or, for a phone-like text, part of the phone's digits
  v_pattern := '%' || replace(replace(replace(v_customer, '\', '\\'), '%', '\%'), '_', '\_') || '%';
  if v_customer ~ '^\+?[0-9 ().\-/]+$' then
    v_digits := regexp_replace(v_customer, '[^0-9]', '', 'g');
  end if;
  v_lo := coalesce(p_from::timestamp at time zone v_zone, '-infinity');
  v_hi := coalesce((p_to + 1)::timestamp at time zone v_zone, 'infinity');

  with page as (
    select r, c, s.name as service_name, res.name as resource_name
    from booking.reservations r
    join booking.customers c on c.id = r.customer_id
    join booking.services s on s.location_id = r.location_id and s.id = r.service_id
    join booking.resources res on res.location_id = r.location_id and res.id = r.resource_id
    where r.location_id = p_location_id
      and r.starts_at > '-infinity'::timestamptz    -- the index reservations_location_start is for this
      and r.starts_at >= v_lo and r.starts_at < v_hi
      and (r.starts_at, r.id) > (coalesce(p_after_start, '-infinity'),
                                 coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'))
      and (p_statuses is null or booking.effective_status(r) = any(p_statuses))
      and (v_customer is null or c.subject = v_customer
           or c.display_name ilike v_pattern or c.email ilike v_pattern
           or (v_digits <> '' and c.phone like '%' || v_digits || '%'))
    order by r.starts_at, r.id
    limit p_limit + 1
  )
  select jsonb_agg(booking.staff_reservation_view(p.r, v_zone, p.c, p.service_name, p.resource_name)
                   order by (p.r).starts_at, (p.r).id)
    into v_rows
  from page p;
  v_rows := coalesce(v_rows, '[]'::jsonb);
  if jsonb_array_length(v_rows) > p_limit then
    v_rows := v_rows - p_limit;     -- the one row past the page only says there is a next page
    v_last := v_rows->(p_limit - 1);
  end if;
  return jsonb_build_object(
    'location_id', p_location_id, 'time_zone', v_zone, 'bookings', v_rows,
    'next', case when v_last is not null
                 then jsonb_build_object('after_start', v_last->'start_time', 'after_id', v_last->'id') end);
end;
$$;
comment on function api.search_bookings(uuid, text, date, date, text[], integer, timestamptz, uuid) is
  'Staff and admins: the holds and bookings of a location, in start order (then id), at most p_limit (1-1000, default 50) a page. Filters, all optional: p_customer (the customer''s subject exactly, or part of the name or e-mail, case-insensitive, or, for digits, part of the phone), local days p_from to p_to inclusive (by start), p_statuses (effective status: held, confirmed, cancelled, expired, released, preempted). Paging: pass next.after_start and next.after_id of a page as p_after_start and p_after_id for the following one. Returns {location_id, time_zone, bookings, next}; bookings as in location_schedule; next is NULL on the last page. Errors: BK014, BK017 (another role, or a location outside the token''s "locations"), BK019.';
