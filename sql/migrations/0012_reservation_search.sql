-- Staff search a location's bookings by start (api.search_bookings): a page of a day range, in start
-- order, found through one index instead of every reservation the location ever had. Its keys are the
-- search's order (start, then id), so a page continues where the last one stopped (keyset paging).
-- It depends on 0010 only (0011, catalogue management, touches none of this).
-- depends: 0010_attempt_types

create index reservations_location_start on booking.reservations (location_id, starts_at, id);
comment on index booking.reservations_location_start is
  'A location''s reservations in start order: api.search_bookings reads a page of a day range through it.';
