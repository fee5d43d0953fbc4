-- Staff search a location's bookings by start (api.search_bookings): a page of a day range, in start
-- order, found through one index instead of every reservation the location ever had; its keys are
-- the search's order (start, then id), so a page continues where the last one stopped (keyset
-- paging).
--
-- The index is partial, on a condition every row meets (starts_at > '-infinity'), so that only a
-- statement that says so may read it: api.search_bookings does. As a full index it would answer
-- "location_id = ... and id = ..." as well as the primary key does while the table is nearly
-- empty, and a plan kept from then would read the hot path's rows by id through it, scanning the
-- whole location once the table has grown (tests/test_hot_path_plans.py).
-- It depends on 0010 only (0011, catalogue management, touches none of this).
-- depends: 0010_attempt_types

create index reservations_location_start on booking.reservations (location_id, starts_at, id)
  where starts_at > '-infinity'::timestamptz;
comment on index booking.reservations_location_start is
  'A location''s reservations in start order, then id: api.search_bookings reads a page through it. Partial on a condition every row meets (starts_at > ''-infinity''), so that only a statement naming it (the search) can use it.';
