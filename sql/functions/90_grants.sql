-- Grants: which caller role may call which api function. Re-applied by every migrate, after all
-- functions exist. Callers get nothing on schema booking. The gateway logs in as booking_gateway
-- and switches to booking_customer / booking_staff / booking_admin per request (SET LOCAL ROLE).

revoke execute on all functions in schema api from public;
revoke execute on all functions in schema booking from public;

-- Everyone who can call the API: reading availability, holding, booking, and their own changes.
grant execute on function
  api.get_availability(uuid, date, integer, uuid),
  api.availability_version(uuid, date),
  api.validate_service_availability(uuid, date, time, interval),
  api.create_hold_atomic(text, text, uuid, timestamptz, timestamptz, timestamptz, text, uuid, bigint, integer),
  api.convert_hold_to_booking(uuid, text, jsonb),
  api.create_booking_atomic(uuid, timestamptz, text, jsonb, uuid, text, bigint, integer),
  api.confirm_conflict(uuid, boolean),
  api.release_hold(uuid, text),
  api.cancel_booking(uuid, text, bigint),
  api.reschedule_booking(uuid, timestamptz, bigint, uuid),
  api.get_reservation(uuid),
  api.list_customer_reservations(text, timestamptz, timestamptz, integer),
  api.health()
to booking_customer, booking_staff, booking_admin;

-- Waiting lists (sql/functions/45_waitlist.sql): a customer joins, reads, leaves and declines its own
-- entries (staff and admins anyone's at their locations); staff and admins list a service's lines.
grant execute on function
  api.join_waitlist(text, uuid, timestamptz, uuid, integer),
  api.get_waitlist_entry(uuid),
  api.leave_waitlist(uuid),
  api.decline_offer(uuid),
  api.list_customer_waitlist(text, boolean)
to booking_customer, booking_staff, booking_admin;
grant execute on function api.list_waitlist(uuid, timestamptz, boolean) to booking_staff, booking_admin;

-- Calendar feeds (sql/functions/48_calendar_feeds.sql): staff and admins create resource feed tokens,
-- customers their own; each revokes what it may see. The feeds themselves are read by token, without
-- a caller role (calendar apps send no bearer token): the gateway's own role.
grant execute on function
  api.create_resource_feed_token(uuid),
  api.resource_feed_tokens(uuid)
to booking_staff, booking_admin;
grant execute on function
  api.create_customer_feed_token(text),
  api.customer_feed_tokens(text)
to booking_customer;
grant execute on function api.revoke_feed_token(uuid) to booking_customer, booking_staff, booking_admin;
grant execute on function
  api.feed_version(text),
  api.resource_feed(text),
  api.customer_feed(text)
to booking_gateway;

-- The gateway itself (no caller role): public availability, health, and the maintenance job's lease.
grant execute on function
  api.get_availability(uuid, date, integer, uuid),
  api.availability_version(uuid, date),
  api.validate_service_availability(uuid, date, time, interval),
  api.health(),
  api.popular_services(interval, integer),
  api.acquire_lock(text, text, interval),
  api.renew_lock(text, text, bigint, interval),
  api.release_lock(text, text, bigint),
  api.cleanup_expired_holds(),
  api.cleanup_waitlist(),
  api.cleanup_expired_locks(),
  api.cleanup_expired_idempotency_keys()
to booking_gateway;

-- Staff and admins: the conflict desk.
grant execute on function
  api.conflict_metrics(interval),
  api.active_conflicts(),
  api.conflict_recommendations()
to booking_staff, booking_admin;

-- Admins: settling escalated conflicts, maintenance and leases.
grant execute on function
  api.popular_services(interval, integer),
  api.resolve_conflict(uuid, text, text),
  api.acquire_lock(text, text, interval),
  api.renew_lock(text, text, bigint, interval),
  api.release_lock(text, text, bigint),
  api.cleanup_expired_holds(),
  api.cleanup_waitlist(),
  api.cleanup_expired_locks(),
  api.cleanup_expired_idempotency_keys()
to booking_admin;

-- Privacy (sql/functions/80_audit.sql, 85_gdpr.sql): a customer exports itself, staff and admins anyone;
-- only admins erase personal data and read the audit log.
grant execute on function api.export_customer(text) to booking_customer, booking_staff, booking_admin;
grant execute on function
  api.erase_customer(text),
  api.audit_log(uuid, timestamptz, integer)
to booking_admin;

-- Catalogue management (sql/functions/55_catalogue_audit.sql, 56_catalogue_admin.sql,
-- 57_schedule_admin.sql): admins change the catalogue and read its audit trail; staff add and remove
-- time off (the functions refuse them other kinds with BK017).
grant execute on function
  api.create_location(text, text, integer, uuid),
  api.update_location(uuid, bigint, text, text, integer, boolean, boolean),
  api.create_resource(uuid, text, text, uuid, integer),
  api.update_resource(uuid, bigint, text, text, boolean, boolean, integer),
  api.create_service(uuid, text, interval, interval, interval, interval, interval, interval, interval, text,
                     numeric, text, uuid, integer),
  api.update_service(uuid, bigint, text, interval, interval, interval, interval, interval, interval, interval,
                     text, numeric, text, boolean, boolean, integer),
  api.set_service_resources(uuid, uuid[], bigint),
  api.set_service_pools(uuid, jsonb, bigint),
  api.set_working_hours(uuid, jsonb, integer, bigint),
  api.catalogue_audit(uuid, uuid, timestamptz, integer)
to booking_admin;
grant execute on function
  api.add_schedule_exception(uuid, text, timestamptz, timestamptz, uuid, text),
  api.remove_schedule_exception(uuid)
to booking_staff, booking_admin;

-- Webhooks (sql/functions/47_webhooks.sql): admins manage endpoints and deliveries at their locations;
-- the gateway's delivery worker queues, sends and records.
grant execute on function
  api.create_webhook_endpoint(uuid, text, text[], text, boolean),
  api.update_webhook_endpoint(uuid, text, text[], text, boolean, boolean),
  api.delete_webhook_endpoint(uuid),
  api.get_webhook_endpoint(uuid),
  api.list_webhook_endpoints(uuid),
  api.rotate_webhook_secret(uuid, interval),
  api.list_webhook_deliveries(uuid, text, bigint, integer),
  api.redeliver_webhooks(uuid, bigint, bigint)
to booking_admin;
grant execute on function
  api.webhook_enqueue(integer),
  api.webhook_due(integer, integer),
  api.webhook_delivered(bigint[], integer[], text[], integer[]),
  api.webhook_record(bigint, boolean, integer, text, text, integer, interval, interval, interval, integer)
to booking_gateway;

-- Realtime (sql/functions/75_realtime.sql): the gateway's listener reads the event log and its maintenance
-- job prunes it; staff and admins may read the stream too (it carries no personal data beyond subjects).
grant execute on function
  api.last_event_id(),
  api.newest_event_id(),
  api.read_events(bigint, integer, text[]),
  api.event_retention(),
  api.event_retention_horizon(),
  api.prune_events(interval)
to booking_gateway, booking_admin;
grant execute on function
  api.last_event_id(),
  api.newest_event_id(),
  api.read_events(bigint, integer, text[]),
  api.event_retention_horizon()
to booking_staff;

-- The public catalogue (sql/functions/32_catalogue_reads.sql): whoever may read availability, the
-- gateway's own role (anonymous callers) included.
grant execute on function
  api.list_locations(),
  api.location_services(uuid),
  api.get_service(uuid),
  api.service_resources(uuid),
  api.service_pools(uuid)
to booking_customer, booking_staff, booking_admin, booking_gateway;

-- Staff views (sql/functions/52_staff_views.sql): staff and admins, at the locations their token names.
grant execute on function
  api.location_schedule(uuid, date, uuid),
  api.search_bookings(uuid, text, date, date, text[], integer, timestamptz, uuid)
to booking_staff, booking_admin;
