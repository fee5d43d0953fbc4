-- Sharding by location (docs/ARCHITECTURE.md, "Sharding by location"): the gateway routes a request
-- by the location of the entity it names. A location id routes by itself; for any other id the
-- gateway asks each shard once which location the id belongs to (api.locate) and keeps the answer:
-- an entity never changes location, so the answer never goes stale, even when the location moves
-- to another shard.

-- locate
-- the location of a service, resource, hold or booking, waiting-list entry, schedule exception,
-- conflict or webhook endpoint, or NULL when this database has none with that id.
create or replace function api.locate(p_id uuid) returns uuid
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select s.location_id from booking.services s where s.id = p_id),
    (select r.location_id from booking.resources r where r.id = p_id),
    (select v.location_id from booking.reservations v where v.id = p_id),
    (select w.location_id from booking.waitlist_entries w where w.id = p_id),
    (select e.location_id from booking.schedule_exceptions e where e.id = p_id),
    (select c.location_id from booking.conflicts c where c.id = p_id),
    (select h.location_id from booking.webhook_endpoints h where h.id = p_id));
$$;
comment on function api.locate(uuid) is
  'The location of the service, resource, hold or booking, waiting-list entry, schedule exception, conflict or webhook endpoint with id p_id, or NULL when this database has none. For the gateway''s shard routing (its login role only): it reveals nothing but which location an id belongs to.';

revoke all on function api.locate(uuid) from public;
grant execute on function api.locate(uuid) to booking_gateway;
