-- Roles: the caller roles the gateway switches to per request, and the gateway's login role.
-- Roles are cluster-wide, so they are created only when missing; privileges are per database.
-- depends: 0003_ledger

do $$
declare
  v_role text;
begin
  foreach v_role in array array['booking_customer', 'booking_staff', 'booking_admin'] loop
    if not exists (select 1 from pg_roles where rolname = v_role) then
      execute format('create role %I nologin', v_role);
    end if;
  end loop;
  if not exists (select 1 from pg_roles where rolname = 'booking_gateway') then
    create role booking_gateway login noinherit;
  end if;
end;
$$;

grant booking_customer, booking_staff, booking_admin to booking_gateway;

-- Nothing in booking.* for callers; api.* only as granted function by function (sql/functions/90_grants.sql).
revoke all on schema booking from public;
revoke all on all tables in schema booking from public;
revoke all on all sequences in schema booking from public;
revoke execute on all functions in schema booking from public;
revoke execute on all functions in schema api from public;
alter default privileges in schema api revoke execute on functions from public;
alter default privileges in schema booking revoke execute on functions from public;
grant usage on schema api to booking_customer, booking_staff, booking_admin, booking_gateway;
