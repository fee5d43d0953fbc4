-- Hot-path plans that do not depend on the statistics of the moment.
--
-- ANALYZE records which locations it saw in booking.reservations. A location it did not see (one
-- that opened, or got busy, since) is then estimated at no rows, and the planner reads that
-- location's reservations through the primary key by location_id alone, as cheap as any index
-- when it expects nothing: every hold then reads every reservation of the location. A location id
-- is a tenant key, and every location must be planned alike, so the column keeps no statistics;
-- the planner takes a location for a small share of the table, and the index that also narrows by
-- resource and time (the exclusion constraint's) wins. See docs/ARCHITECTURE.md, "Hot-path plans".
-- depends: 0007_live_holds_index

alter table booking.reservations alter column location_id set statistics 0;

-- Statistics already gathered for the column stay until they are removed, and only a superuser
-- may delete from pg_statistic; restating the column's type removes them (same type: the table is
-- not rewritten and its indexes are kept as they are).
alter table booking.reservations alter column location_id type uuid;

comment on column booking.reservations.location_id is
  'The location (tenant) of the reservation. Keeps no planner statistics (SET STATISTICS 0): every location is planned alike, whatever ANALYZE last saw.';
