-- Who performs a service and when resources work: a service's eligible resources in preference
-- order (its main pool), the further pools it needs (a wash station for its first 20 minutes), a
-- resource's weekly working hours, and schedule exceptions (time off, closures, extra hours). The same rules as 56_catalogue_admin.sql: role and location checked (BK017), values
-- validated (BK018), a version guarded and bumped (the service's for its resources, the resource's
-- for its hours and its pools; stale: BK021), an audit row and a catalogue:changed event per change, nothing
-- written when nothing changes. Staff may add and remove time off at their locations; everything
-- else here is for admins.

-- service_resource_ids
-- the resources of a service's main pool in the order "any staff" tries them.
create or replace function booking.service_resource_ids(p_location_id uuid, p_service_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(sr.resource_id order by sr.preference, sr.resource_id), '[]'::jsonb)
  from booking.service_resources sr
  where sr.location_id = p_location_id and sr.service_id = p_service_id and sr.pool = 1;
$$;
comment on function booking.service_resource_ids(uuid, uuid) is
  'The ids of the resources that perform a service (its main pool) as a JSON array, in preference order (the order "any staff" tries them); the further pools are booking.service_pools_json.';

-- assert_in_one_pool
-- BK024 when a resource about to join one pool of a service is already in another of its pools.
create or replace function booking.assert_in_one_pool(
  p_svc booking.services, p_resource_ids uuid[], p_keep_pools smallint[])
returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_found record;
begin
  select sr.resource_id, sr.pool into v_found
  from booking.service_resources sr
  where sr.location_id = p_svc.location_id and sr.service_id = p_svc.id
    and sr.resource_id = any(p_resource_ids) and sr.pool = any(p_keep_pools)
  order by sr.pool, sr.preference
  limit 1;
  if v_found.resource_id is not null then
    raise exception 'resource % is already in pool % of service %', v_found.resource_id, v_found.pool, p_svc.id
      using errcode = 'BK024',
            hint = case when v_found.pool = 1
                        then 'A resource is in one pool of a service: take it out of the main pool (api.set_service_resources) first.'
                        else 'A resource is in one pool of a service: take it out of its pool (api.set_service_pools) first.' end;
  end if;
end;
$$;
comment on function booking.assert_in_one_pool(booking.services, uuid[], smallint[]) is
  'Raises BK024 when one of p_resource_ids is already in one of the pools p_keep_pools of the service (pool 1: the main pool): a resource is in one pool of a service at most.';

-- service_resources_changed
-- after a service's resources or pools were rewritten: the service's version goes up and the change
-- is audited (entity service_resources, p_before and p_after as given).
create or replace function booking.service_resources_changed(p_svc booking.services, p_before jsonb, p_after jsonb)
returns booking.services
language plpgsql
set search_path = ''
as $$
declare
  v_svc booking.services;
begin
  update booking.services s set version = s.version + 1, updated_at = now()
   where s.location_id = p_svc.location_id and s.id = p_svc.id
  returning s.* into v_svc;
  perform booking.audit_catalogue(
    p_location_id => v_svc.location_id, p_entity => 'service_resources', p_entity_id => v_svc.id,
    p_action => 'update', p_before => p_before, p_after => p_after);
  return v_svc;
end;
$$;
comment on function booking.service_resources_changed(booking.services, jsonb, jsonb) is
  'Bumps the version of a service whose resources or further pools changed and writes the catalogue audit row (entity service_resources, action update, p_before and p_after); returns the service as updated.';

-- set_service_resources
-- replaces the list of resources that perform a service; the array's order is the preference order.
create or replace function api.set_service_resources(
  p_service_id uuid, p_resource_ids uuid[], p_expected_version bigint default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_svc booking.services;
  v_before jsonb;
  v_missing uuid;
  v_changed integer;
  v_count integer;
begin
  perform booking.assert_role(array['admin']);
  v_svc := booking.locked_service(p_service_id);
  perform booking.assert_catalogue_version('service', v_svc.id, v_svc.version, p_expected_version);
  if p_resource_ids is null or array_position(p_resource_ids, null) is not null
     or cardinality(p_resource_ids) > 1000 then
    raise exception 'p_resource_ids must be an array of at most 1000 resource ids without NULL'
      using errcode = 'BK018', hint = 'Pass ''{}'' for a service nobody performs.';
  end if;
  if (select count(distinct x) from unnest(p_resource_ids) x) <> cardinality(p_resource_ids) then
    raise exception 'a resource appears more than once in p_resource_ids'
      using errcode = 'BK018', hint = 'List each resource once, in the order they should be tried.';
  end if;
  select x into v_missing from unnest(p_resource_ids) x
   where not exists (select 1 from booking.resources r where r.location_id = v_svc.location_id and r.id = x)
   limit 1;
  if v_missing is not null then
    raise exception 'resource % not found at the service''s location %', v_missing, v_svc.location_id
      using errcode = 'BK019', hint = 'A service is performed by resources of its own location.';
  end if;
  perform booking.assert_in_one_pool(v_svc, p_resource_ids, array[2, 3, 4, 5, 6, 7, 8]::smallint[]);

  v_before := booking.service_resource_ids(v_svc.location_id, v_svc.id);
  delete from booking.service_resources sr
   where sr.location_id = v_svc.location_id and sr.service_id = v_svc.id and sr.pool = 1
     and not (sr.resource_id = any(p_resource_ids));
  get diagnostics v_changed = row_count;
  insert into booking.service_resources as sr (location_id, service_id, resource_id, preference)
  select v_svc.location_id, v_svc.id, u.resource_id, u.ord::smallint
  from unnest(p_resource_ids) with ordinality u(resource_id, ord)
  on conflict (location_id, service_id, resource_id) do update set preference = excluded.preference
    where sr.preference is distinct from excluded.preference;
  get diagnostics v_count = row_count;
  v_changed := v_changed + v_count;
  if v_changed > 0 then
    v_svc := booking.service_resources_changed(
      v_svc, jsonb_build_object('resource_ids', v_before),
      jsonb_build_object('resource_ids', booking.service_resource_ids(v_svc.location_id, v_svc.id)));
  end if;
  return jsonb_build_object('service_id', v_svc.id, 'location_id', v_svc.location_id, 'version', v_svc.version,
                            'resource_ids', booking.service_resource_ids(v_svc.location_id, v_svc.id));
end;
$$;
comment on function api.set_service_resources(uuid, uuid[], bigint) is
  'Admin only: replaces the resources that perform a service (its main pool: who performs it for its whole duration) with p_resource_ids, in preference order (the first is tried first when the customer asks for anyone; ''{}'': nobody). Each must be a resource of the service''s location (BK019), listed once (BK018) and in none of the service''s further pools (BK024; api.set_service_pools); inactive ones may be listed (they are skipped while inactive). With p_expected_version, only if the service is still at that version (else BK021); a change bumps the service''s version. Existing bookings stay with their resources. Returns {service_id, location_id, version, resource_ids}; a list equal to the current one writes nothing. Errors: BK001, BK017, BK018, BK019, BK021, BK024.';

-- service_pools_json
-- the further pools of a service as JSON: [{pool, name, starts_after, lasts, resource_ids}] by pool.
create or replace function booking.service_pools_json(p_location_id uuid, p_service_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'pool', p.pool, 'name', p.name, 'starts_after', p.starts_after, 'lasts', p.lasts,
           'resource_ids', coalesce((select jsonb_agg(sr.resource_id order by sr.preference, sr.resource_id)
                                     from booking.service_resources sr
                                     where sr.location_id = p.location_id and sr.service_id = p.service_id
                                       and sr.pool = p.pool), '[]'::jsonb))
           order by p.pool), '[]'::jsonb)
  from booking.service_pools p
  where p.location_id = p_location_id and p.service_id = p_service_id;
$$;
comment on function booking.service_pools_json(uuid, uuid) is
  'A service''s further pools as a JSON array by pool number: {pool, name, starts_after, lasts (NULL: to the end), resource_ids (every member, inactive ones too, in preference order)}.';

-- assert_pools_fit
-- BK023 when a further pool of the service would start at or after the end of its appointment.
create or replace function booking.assert_pools_fit(p_svc booking.services) returns void
language plpgsql stable
set search_path = ''
as $$
declare
  v_pool booking.service_pools;
begin
  select * into v_pool from booking.service_pools p
   where p.location_id = p_svc.location_id and p.service_id = p_svc.id and p.starts_after >= p_svc.duration
   order by p.pool limit 1;
  if v_pool.pool is not null then
    raise exception 'pool % ("%") starts % after the start, not within the service''s % duration',
      v_pool.pool, v_pool.name, v_pool.starts_after, p_svc.duration
      using errcode = 'BK023', hint = 'Change the pool first (api.set_service_pools), or keep a longer duration.';
  end if;
end;
$$;
comment on function booking.assert_pools_fit(booking.services) is
  'Raises BK023 when one of the service''s further pools starts (starts_after) at or after the end of an appointment of the service''s duration.';

-- parse_pool
-- one entry of api.set_service_pools' p_pools checked and made canonical, or BK018/BK023 naming what is wrong.
create or replace function booking.parse_pool(p_svc booking.services, p_entry jsonb) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_pool numeric;
  v_name text;
  v_starts_after interval := interval '0';
  v_lasts interval;
  v_ids uuid[];
begin
  if jsonb_typeof(p_entry) is distinct from 'object'
     or exists (select 1 from jsonb_object_keys(p_entry) k
                where k not in ('pool', 'name', 'starts_after', 'lasts', 'resource_ids')) then
    raise exception 'a pool is {pool, name, starts_after, lasts, resource_ids}, not %', p_entry
      using errcode = 'BK018',
            hint = 'E.g. {"pool": 2, "name": "Wash station", "lasts": "20 minutes", "resource_ids": ["…"]}.';
  end if;
  if jsonb_typeof(p_entry->'pool') is distinct from 'number' then
    raise exception 'a pool needs its number (2 to 8), not %', coalesce((p_entry->'pool')::text, 'none')
      using errcode = 'BK018', hint = 'Number the further pools 2 to 8; pool 1 is the main pool.';
  end if;
  v_pool := (p_entry->>'pool')::numeric;
  if v_pool not in (2, 3, 4, 5, 6, 7, 8) then
    raise exception 'a further pool is numbered 2 to 8, not %', v_pool
      using errcode = 'BK018', hint = 'Pool 1 is the main pool (api.set_service_resources).';
  end if;
  v_name := p_entry->>'name';
  if jsonb_typeof(p_entry->'name') is distinct from 'string' or length(v_name) not between 1 and 200 then
    raise exception 'pool % needs a name of 1 to 200 characters', v_pool
      using errcode = 'BK018', hint = 'Name what the pool is, such as "Wash station".';
  end if;
  begin
    if jsonb_typeof(p_entry->'starts_after') = 'string' then
      v_starts_after := (p_entry->>'starts_after')::interval;
    elsif coalesce(jsonb_typeof(p_entry->'starts_after'), 'null') <> 'null' then
      raise exception using errcode = '22007';
    end if;
    if jsonb_typeof(p_entry->'lasts') = 'string' then
      v_lasts := (p_entry->>'lasts')::interval;
    elsif coalesce(jsonb_typeof(p_entry->'lasts'), 'null') <> 'null' then
      raise exception using errcode = '22007';
    end if;
  exception when data_exception then
    raise exception 'pool %: starts_after and lasts are intervals as text (or null), not % and %', v_pool,
      coalesce((p_entry->'starts_after')::text, 'none'), coalesce((p_entry->'lasts')::text, 'none')
      using errcode = 'BK018', hint = 'E.g. "starts_after": "0", "lasts": "20 minutes" (null: until the end).';
  end;
  if v_starts_after < interval '0' or v_starts_after > interval '12 hours'
     or v_lasts <= interval '0' or v_lasts > interval '12 hours' then
    raise exception 'pool %: starts_after must be 0 to 12 hours and lasts more than 0 and at most 12 hours, not % and %',
      v_pool, v_starts_after, coalesce(v_lasts::text, 'NULL')
      using errcode = 'BK018', hint = 'E.g. "starts_after": "0", "lasts": "20 minutes".';
  end if;
  if v_starts_after >= p_svc.duration then
    raise exception 'pool % ("%") starts % after the start, not within the service''s % duration',
      v_pool, v_name, v_starts_after, p_svc.duration
      using errcode = 'BK023', hint = 'A pool is needed during the appointment: starts_after is less than the duration.';
  end if;
  begin
    if jsonb_typeof(p_entry->'resource_ids') is distinct from 'array' then
      raise exception using errcode = '22P02';
    end if;
    select array_agg(x.id::uuid order by x.n) into v_ids
      from jsonb_array_elements_text(p_entry->'resource_ids') with ordinality x(id, n);
  exception when data_exception then
    raise exception 'pool %: resource_ids is an array of resource ids', v_pool
      using errcode = 'BK018', hint = 'List its members in preference order, e.g. ["…", "…"].';
  end;
  if v_ids is null or cardinality(v_ids) > 1000 or array_position(v_ids, null) is not null then
    raise exception 'pool % needs 1 to 1000 resources', v_pool
      using errcode = 'BK018', hint = 'List its members in preference order; remove a pool by leaving it out.';
  end if;
  if (select count(distinct x) from unnest(v_ids) x) <> cardinality(v_ids) then
    raise exception 'a resource appears more than once in pool %', v_pool
      using errcode = 'BK018', hint = 'List each member once, in the order they should be tried.';
  end if;
  return jsonb_build_object('pool', v_pool::smallint, 'name', v_name, 'starts_after', v_starts_after,
                            'lasts', v_lasts, 'resource_ids', to_jsonb(v_ids));
end;
$$;
comment on function booking.parse_pool(booking.services, jsonb) is
  'One further pool of api.set_service_pools checked (BK018: shape, pool number 2-8, name, intervals, 1-1000 members listed once; BK023: starts_after not within the duration) and returned as service_pools_json writes it.';

-- set_service_pools
-- replaces the further pools of a service: each with its number, name, when it is needed and its members.
create or replace function api.set_service_pools(
  p_service_id uuid, p_pools jsonb, p_expected_version bigint default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_svc booking.services;
  v_wanted jsonb;
  v_before jsonb;
  v_member record;
  v_missing uuid;
begin
  perform booking.assert_role(array['admin']);
  v_svc := booking.locked_service(p_service_id);
  perform booking.assert_catalogue_version('service', v_svc.id, v_svc.version, p_expected_version);
  if p_pools is null or jsonb_typeof(p_pools) <> 'array' or jsonb_array_length(p_pools) > 7 then
    raise exception 'p_pools is a JSON array of at most 7 pools'
      using errcode = 'BK018', hint = 'E.g. [{"pool": 2, "name": "Wash station", "lasts": "20 minutes", "resource_ids": ["…"]}]; [] for none.';
  end if;
  select coalesce(jsonb_agg(booking.parse_pool(v_svc, e) order by (e->>'pool')::numeric), '[]'::jsonb)
    into v_wanted
    from jsonb_array_elements(p_pools) e;
  if (select count(distinct e->>'pool') from jsonb_array_elements(v_wanted) e) <> jsonb_array_length(v_wanted) then
    raise exception 'a pool number appears more than once in p_pools'
      using errcode = 'BK018', hint = 'Number each further pool once, 2 to 8.';
  end if;
  -- a resource is in one pool of a service: not twice among the pools, not in the main pool
  select m.id, count(*) as pools into v_member
    from jsonb_array_elements(v_wanted) e, jsonb_array_elements_text(e->'resource_ids') m(id)
   group by m.id having count(*) > 1 limit 1;
  if v_member.id is not null then
    raise exception 'resource % is in % pools of p_pools', v_member.id, v_member.pools
      using errcode = 'BK024', hint = 'A resource is in one pool of a service: list it in one of them.';
  end if;
  select m.id::uuid into v_missing
    from jsonb_array_elements(v_wanted) e, jsonb_array_elements_text(e->'resource_ids') m(id)
   where not exists (select 1 from booking.resources r where r.location_id = v_svc.location_id and r.id = m.id::uuid)
   limit 1;
  if v_missing is not null then
    raise exception 'resource % not found at the service''s location %', v_missing, v_svc.location_id
      using errcode = 'BK019', hint = 'A service''s pools are resources of its own location.';
  end if;
  perform booking.assert_in_one_pool(
    v_svc, array(select m.id::uuid from jsonb_array_elements(v_wanted) e, jsonb_array_elements_text(e->'resource_ids') m(id)),
    array[1]::smallint[]);

  v_before := booking.service_pools_json(v_svc.location_id, v_svc.id);
  if v_before is distinct from v_wanted then
    delete from booking.service_resources sr
     where sr.location_id = v_svc.location_id and sr.service_id = v_svc.id and sr.pool > 1;
    delete from booking.service_pools p where p.location_id = v_svc.location_id and p.service_id = v_svc.id;
    insert into booking.service_pools (location_id, service_id, pool, name, starts_after, lasts)
    select v_svc.location_id, v_svc.id, (e->>'pool')::smallint, e->>'name', (e->>'starts_after')::interval,
           (e->>'lasts')::interval
    from jsonb_array_elements(v_wanted) e;
    insert into booking.service_resources (location_id, service_id, resource_id, preference, pool)
    select v_svc.location_id, v_svc.id, m.id::uuid, m.n::smallint, (e->>'pool')::smallint
    from jsonb_array_elements(v_wanted) e
    cross join lateral jsonb_array_elements_text(e->'resource_ids') with ordinality m(id, n);
    v_svc := booking.service_resources_changed(
      v_svc, jsonb_build_object('pools', v_before), jsonb_build_object('pools', v_wanted));
  end if;
  return jsonb_build_object('service_id', v_svc.id, 'location_id', v_svc.location_id, 'version', v_svc.version,
                            'pools', booking.service_pools_json(v_svc.location_id, v_svc.id));
end;
$$;
comment on function api.set_service_pools(uuid, jsonb, bigint) is
  'Admin only: replaces the further pools of a service: what it needs besides the resource that performs it (its main pool, api.set_service_resources), e.g. a wash station for its first 20 minutes. p_pools is a JSON array of {pool, name, starts_after, lasts, resource_ids}: pool numbers 2 to 8, each once; starts_after (default "0") and lasts (NULL or left out: until the end) are intervals as text, counted from the appointment''s start; resource_ids are the pool''s members in preference order (1 to 1000, resources of the service''s location, BK019). A booking takes one member of every pool, all or nothing, each for its part of the appointment: the service''s buffer before is kept where the pool starts with the appointment, its buffer after where the pool lasts to its end; a pool lasting beyond the end lasts to the end. BK018: the shape, numbers, names, intervals, a member listed twice in a pool; BK023: starts_after not less than the service''s duration; BK024: a resource in two pools, or in the main pool. With p_expected_version, only if the service is still at that version (else BK021); a change bumps the service''s version and is audited as a change of its resources (entity service_resources, {pools} before and after). Existing bookings keep their units. Returns {service_id, location_id, version, pools: [{pool, name, starts_after, lasts, resource_ids}]}; pools equal to the current ones write nothing; ''[]'' removes them all. Errors: BK001, BK017, BK018, BK019, BK021, BK023, BK024.';

-- working_hours_json
-- a resource's weekly hours as JSON: [{weekday, start, end}] by weekday and start.
create or replace function booking.working_hours_json(p_location_id uuid, p_resource_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('weekday', w.weekday, 'start', to_char(lower(w.hours), 'HH24:MI'),
                                               'end', to_char(upper(w.hours), 'HH24:MI'))
                            order by w.weekday, lower(w.hours)), '[]'::jsonb)
  from booking.working_hours w
  where w.location_id = p_location_id and w.resource_id = p_resource_id;
$$;
comment on function booking.working_hours_json(uuid, uuid) is
  'A resource''s weekly working hours as [{weekday (1 = Monday), start, end (local HH:MM)}], by weekday and start.';

-- parse_working_hours
-- weekly hours given as JSON [{weekday, start, end}] as rows, or BK018 naming what is wrong.
create or replace function booking.parse_working_hours(p_hours jsonb, p_weekday integer)
returns table (weekday smallint, hours booking.timerange)
language plpgsql stable
set search_path = ''
as $$
declare
  v_entry jsonb;
  v_day integer;
  v_start time;
  v_end time;
  v_range booking.timerange;
  v_days smallint[] := '{}';
  v_ranges booking.timerange[] := '{}';
  v_i integer;
begin
  if p_weekday is not null and p_weekday not between 1 and 7 then
    raise exception 'p_weekday is an ISO weekday, 1 (Monday) to 7 (Sunday), not %', p_weekday
      using errcode = 'BK018', hint = 'Pass NULL to replace the whole week.';
  end if;
  if p_hours is null or jsonb_typeof(p_hours) <> 'array' or jsonb_array_length(p_hours) > 100 then
    raise exception 'working hours are a JSON array of at most 100 {weekday, start, end} objects'
      using errcode = 'BK018', hint = 'E.g. [{"weekday": 1, "start": "09:00", "end": "17:00"}]; [] for none.';
  end if;
  for v_entry in select e from jsonb_array_elements(p_hours) e loop
    if jsonb_typeof(v_entry) <> 'object'
       or exists (select 1 from jsonb_object_keys(v_entry) k where k not in ('weekday', 'start', 'end'))
       or jsonb_typeof(v_entry->'start') is distinct from 'string'
       or jsonb_typeof(v_entry->'end') is distinct from 'string' then
      raise exception 'a working-hours entry is {weekday, start, end} with local times as text, not %', v_entry
        using errcode = 'BK018', hint = 'E.g. {"weekday": 1, "start": "09:00", "end": "17:00"}.';
    end if;
    if v_entry ? 'weekday' then
      if jsonb_typeof(v_entry->'weekday') <> 'number' or (v_entry->>'weekday')::numeric not in (1, 2, 3, 4, 5, 6, 7) then
        raise exception 'weekday is 1 (Monday) to 7 (Sunday), not %', v_entry->'weekday'
          using errcode = 'BK018', hint = 'Use ISO weekday numbers.';
      end if;
      v_day := (v_entry->>'weekday')::numeric::integer;
      if p_weekday is not null and v_day <> p_weekday then
        raise exception 'an entry for weekday % while replacing weekday %', v_day, p_weekday
          using errcode = 'BK018', hint = 'Leave weekday out of the entries, or pass p_weekday NULL to replace the week.';
      end if;
    elsif p_weekday is not null then
      v_day := p_weekday;
    else
      raise exception 'an entry without a weekday: %', v_entry
        using errcode = 'BK018', hint = 'Name the weekday (1 = Monday) of each entry when replacing the whole week.';
    end if;
    begin
      v_start := (v_entry->>'start')::time;
      v_end := (v_entry->>'end')::time;
    exception when invalid_datetime_format or datetime_field_overflow or invalid_text_representation then
      raise exception 'start and end are local times such as "09:00", not "%" and "%"',
        v_entry->>'start', v_entry->>'end'
        using errcode = 'BK018', hint = 'Use HH:MM, from 00:00 to 24:00.';
    end;
    if extract(second from v_start) <> 0 or extract(second from v_end) <> 0 then
      raise exception 'working hours are whole minutes, not % to %', v_start, v_end
        using errcode = 'BK018', hint = 'Use HH:MM.';
    end if;
    if v_end <= v_start then
      raise exception 'the end % is not after the start % (weekday %)',
        to_char(v_end, 'HH24:MI'), to_char(v_start, 'HH24:MI'), v_day
        using errcode = 'BK018',
              hint = 'Hours end on the day they start: use "24:00" for midnight and split a night in two days.';
    end if;
    v_range := booking.timerange(v_start, v_end);
    for v_i in 1..cardinality(v_days) loop
      if v_days[v_i] = v_day and v_ranges[v_i] && v_range then
        raise exception 'working hours %-% and %-% overlap on weekday %',
          to_char(lower(v_ranges[v_i]), 'HH24:MI'), to_char(upper(v_ranges[v_i]), 'HH24:MI'),
          to_char(v_start, 'HH24:MI'), to_char(v_end, 'HH24:MI'), v_day
          using errcode = 'BK018',
                hint = 'Merge them into one range, or let one end where the next starts (09:00-13:00, 13:00-17:00).';
      end if;
    end loop;
    v_days := v_days || v_day::smallint;
    v_ranges := v_ranges || v_range;
  end loop;
  return query select u.d, u.r from unnest(v_days, v_ranges) u(d, r);
end;
$$;
comment on function booking.parse_working_hours(jsonb, integer) is
  'Rows (weekday, hours) of weekly working hours given as a JSON array of {weekday, start, end} (weekday optional when p_weekday names the one day replaced). BK018 for anything else: not an array, unknown keys, weekday outside 1-7 or not p_weekday, a time that is not HH:MM, an end not after its start, two ranges of a day that overlap.';

-- set_working_hours
-- replaces a resource's weekly working hours, or those of one weekday.
create or replace function api.set_working_hours(
  p_resource_id uuid, p_hours jsonb, p_weekday integer default null, p_expected_version bigint default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_res booking.resources;
  v_days smallint[];
  v_ranges booking.timerange[];
  v_before jsonb;
  v_changed integer;
  v_count integer;
begin
  perform booking.assert_role(array['admin']);
  v_res := booking.locked_resource(p_resource_id);
  perform booking.assert_catalogue_version('resource', v_res.id, v_res.version, p_expected_version);
  select coalesce(array_agg(n.weekday), '{}'), coalesce(array_agg(n.hours), '{}') into v_days, v_ranges
  from booking.parse_working_hours(p_hours, p_weekday) n;

  v_before := booking.working_hours_json(v_res.location_id, v_res.id);
  -- first what goes, then what comes: the exclusion constraint checks each row as it is written
  delete from booking.working_hours w
   where w.location_id = v_res.location_id and w.resource_id = v_res.id
     and (p_weekday is null or w.weekday = p_weekday)
     and not exists (select 1 from unnest(v_days, v_ranges) n(d, r) where n.d = w.weekday and n.r = w.hours);
  get diagnostics v_changed = row_count;
  insert into booking.working_hours (location_id, resource_id, weekday, hours)
  select v_res.location_id, v_res.id, n.d, n.r
  from unnest(v_days, v_ranges) n(d, r)
  where not exists (select 1 from booking.working_hours w
                    where w.location_id = v_res.location_id and w.resource_id = v_res.id
                      and w.weekday = n.d and w.hours = n.r);
  get diagnostics v_count = row_count;
  v_changed := v_changed + v_count;
  if v_changed > 0 then
    update booking.resources r set version = r.version + 1, updated_at = now()
     where r.location_id = v_res.location_id and r.id = v_res.id
    returning r.* into v_res;
    perform booking.audit_catalogue(
      p_location_id => v_res.location_id, p_entity => 'working_hours', p_entity_id => v_res.id,
      p_action => 'update', p_before => jsonb_build_object('hours', v_before),
      p_after => jsonb_build_object('hours', booking.working_hours_json(v_res.location_id, v_res.id)));
  end if;
  return jsonb_build_object('resource_id', v_res.id, 'location_id', v_res.location_id, 'version', v_res.version,
                            'hours', booking.working_hours_json(v_res.location_id, v_res.id));
end;
$$;
comment on function api.set_working_hours(uuid, jsonb, integer, bigint) is
  'Admin only: replaces a resource''s weekly working hours with p_hours, a JSON array of {"weekday": 1-7 (1 = Monday), "start": "HH:MM", "end": "HH:MM"} in the location''s local time ([] for none); with p_weekday, only that weekday is replaced (entries may leave weekday out). Ranges of a day may meet (09:00-13:00, 13:00-17:00) but not overlap; an end must be after its start ("24:00" is midnight at the end of the day). BK018 names the first wrong entry and nothing is written. With p_expected_version, only if the resource is still at that version (else BK021); a change bumps the resource''s version. Existing bookings stay where they are. Returns {resource_id, location_id, version, hours} with the whole week; hours equal to the current ones write nothing. Errors: BK017, BK018, BK019, BK021.';

-- schedule_exception_json
-- a schedule exception as callers see it, with its times also in the location's local time.
create or replace function booking.schedule_exception_json(p_e booking.schedule_exceptions) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  v_zone text := booking.location_zone(p_e.location_id);
begin
  return jsonb_build_object(
    'id', p_e.id, 'location_id', p_e.location_id, 'resource_id', p_e.resource_id, 'kind', p_e.kind,
    'start_time', lower(p_e.period), 'end_time', upper(p_e.period), 'time_zone', v_zone,
    'start_local', lower(p_e.period) at time zone v_zone, 'end_local', upper(p_e.period) at time zone v_zone,
    'note', p_e.note);
end;
$$;
comment on function booking.schedule_exception_json(booking.schedule_exceptions) is
  'A schedule exception as JSON {id, location_id, resource_id, kind, start_time, end_time, time_zone, start_local, end_local, note}.';

-- assert_may_change_exception
-- staff may add and remove time off; closures and extra hours are for admins (BK017).
create or replace function booking.assert_may_change_exception(p_kind text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if booking.actor_claims()->>'role' = 'staff' and p_kind <> 'time_off' then
    raise exception 'staff may add and remove time off only, not %', p_kind
      using errcode = 'BK017', hint = 'Ask an admin to change closures and extra hours.';
  end if;
end;
$$;
comment on function booking.assert_may_change_exception(text) is
  'Raises BK017 when a staff caller adds or removes a schedule exception other than time off.';

-- add_schedule_exception
-- adds time off or extra hours of one resource, or a closure of the location (or of one resource).
create or replace function api.add_schedule_exception(
  p_location_id uuid, p_kind text, p_start timestamptz, p_end timestamptz, p_resource_id uuid default null,
  p_note text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_loc booking.locations;
  v_row booking.schedule_exceptions;
  v_clash booking.schedule_exceptions;
  v_bookings integer := 0;
begin
  perform booking.assert_role(array['staff', 'admin']);
  if p_kind is null or p_kind not in ('time_off', 'closure', 'extra_hours') then
    raise exception 'an exception is time_off, closure or extra_hours, not %', coalesce('"' || p_kind || '"', 'NULL')
      using errcode = 'BK018', hint = 'Use time_off or extra_hours for one resource, closure for the location.';
  end if;
  perform booking.assert_may_change_exception(p_kind);
  -- the location row is locked: exceptions there are added one at a time, so the overlap check holds
  v_loc := booking.locked_location(p_location_id);
  if p_resource_id is null and p_kind <> 'closure' then
    raise exception '% needs a resource', p_kind
      using errcode = 'BK018', hint = 'Pass p_resource_id; only a closure may cover the whole location.';
  end if;
  if p_resource_id is not null and not exists (
      select 1 from booking.resources r where r.location_id = v_loc.id and r.id = p_resource_id) then
    raise exception 'resource % not found at location %', p_resource_id, v_loc.id
      using errcode = 'BK019', hint = 'Check the resource id and its location.';
  end if;
  if p_start is null or p_end is null or p_end <= p_start then
    raise exception 'the end % is not after the start %', coalesce(p_end::text, 'NULL'), coalesce(p_start::text, 'NULL')
      using errcode = 'BK018', hint = 'Pass a start and a later end.';
  end if;
  if length(p_note) > 1000 then
    raise exception 'a note has at most 1000 characters' using errcode = 'BK018', hint = 'Shorten the note.';
  end if;
  select * into v_clash from booking.schedule_exceptions e
   where e.location_id = v_loc.id and e.kind = p_kind and e.resource_id is not distinct from p_resource_id
     and e.period && tstzrange(p_start, p_end)
   order by lower(e.period)
   limit 1;
  if v_clash.id is not null then
    raise exception '% from % to % overlaps % % from % to %', p_kind, p_start, p_end, p_kind, v_clash.id,
      lower(v_clash.period), upper(v_clash.period)
      using errcode = 'BK018',
            hint = 'Remove the existing one first (api.remove_schedule_exception), or choose a time that does not overlap it.';
  end if;
  insert into booking.schedule_exceptions as e (location_id, resource_id, kind, period, note)
  values (v_loc.id, p_resource_id, p_kind, tstzrange(p_start, p_end), p_note)
  returning e.* into v_row;
  perform booking.audit_catalogue(p_location_id => v_loc.id, p_entity => 'schedule_exception',
                                  p_entity_id => v_row.id, p_action => 'create', p_before => null,
                                  p_after => booking.schedule_exception_json(v_row));
  if p_kind <> 'extra_hours' then
    -- bookings inside time off or a closure stay booked: the caller is told how many there are
    select count(*)::integer into v_bookings from booking.reservations r
     where r.location_id = v_loc.id and (p_resource_id is null or r.resource_id = p_resource_id)
       and r.status = 'confirmed' and tstzrange(r.starts_at, r.ends_at) && v_row.period;
  end if;
  return booking.schedule_exception_json(v_row) || jsonb_build_object('overlapping_bookings', v_bookings);
end;
$$;
comment on function api.add_schedule_exception(uuid, text, timestamptz, timestamptz, uuid, text) is
  'Adds a schedule exception over [p_start, p_end): time_off or extra_hours of one resource (p_resource_id required), or a closure of the whole location (p_resource_id NULL) or of one resource. Admins add any kind; staff add time off only (BK017), each at their own locations. An exception of the same kind and resource overlapping an existing one is BK018 (remove it first). Bookings inside new time off or a closure stay booked; overlapping_bookings says how many there are. Returns {id, location_id, resource_id, kind, start_time, end_time, time_zone, start_local, end_local, note, overlapping_bookings}. Errors: BK017, BK018 (kind, missing resource, end not after start, note longer than 1000, overlap), BK019 (unknown location or resource).';

-- remove_schedule_exception
-- removes a schedule exception.
create or replace function api.remove_schedule_exception(p_exception_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row booking.schedule_exceptions;
begin
  perform booking.assert_role(array['staff', 'admin']);
  select * into v_row from booking.schedule_exceptions e where e.id = p_exception_id for update;
  if v_row.id is null then
    raise exception 'schedule exception % not found', coalesce(p_exception_id::text, 'NULL')
      using errcode = 'BK019', hint = 'Check the id; a removed exception is gone.';
  end if;
  perform booking.assert_location_access(v_row.location_id);
  perform booking.assert_may_change_exception(v_row.kind);
  delete from booking.schedule_exceptions e where e.location_id = v_row.location_id and e.id = v_row.id;
  perform booking.audit_catalogue(p_location_id => v_row.location_id, p_entity => 'schedule_exception',
                                  p_entity_id => v_row.id, p_action => 'delete',
                                  p_before => booking.schedule_exception_json(v_row), p_after => null);
  return booking.schedule_exception_json(v_row);
end;
$$;
comment on function api.remove_schedule_exception(uuid) is
  'Removes a schedule exception and returns it as it was {id, location_id, resource_id, kind, start_time, end_time, time_zone, start_local, end_local, note}. Admins remove any kind; staff time off only (BK017), each at their own locations. Errors: BK017, BK019 (unknown, or already removed).';
