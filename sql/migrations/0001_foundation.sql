-- Foundation: extensions, schemas and the small immutable helpers that constraints use.
-- depends:

create extension if not exists btree_gist;

create schema if not exists booking;
comment on schema booking is 'Private storage of the booking engine. Callers never touch it; they call api.*.';

create schema if not exists api;
comment on schema api is 'The callable surface of the booking engine: SECURITY DEFINER functions only.';

-- is_valid_time_zone
-- true when the name is an IANA zone PostgreSQL knows (used by a CHECK on locations).
create function booking.is_valid_time_zone(p_zone text) returns boolean
language plpgsql immutable strict
set search_path = ''
as $$
begin
  perform now() at time zone p_zone;
  return true;
exception when invalid_parameter_value then
  return false;
end;
$$;
comment on function booking.is_valid_time_zone(text) is
  'True when the text names a time zone PostgreSQL knows, such as Europe/Warsaw.';

create type booking.timerange as range (subtype = time);
comment on type booking.timerange is 'A range of local wall-clock times within one day, e.g. [09:00,17:00).';
