-- Seats: how many seats of its main resource a reservation takes (a class booked for a family).
--
-- A class is a resource with a capacity (booking.resources.capacity); each of its seats is a unit of
-- its own (booking.units, pool 1, seat 1..capacity). A reservation's main-pool units are its seats.
-- The count is kept on the reservation, beside units (which also counts the further pools' units),
-- so that every result and view can say it without reading the units: the result builders are
-- single inlined SQL expressions (sql/functions/14_results.sql), and a subquery would stop that.
-- Every existing reservation has one seat.
-- depends: 0013_units

alter table booking.reservations
  add column seats smallint not null default 1 check (seats between 1 and 1000);
comment on column booking.reservations.seats is
  'How many seats of its main resource the reservation takes (its pool-1 units; 1 for an appointment, p_seats for a class). Written by booking.take_slot with the units.';
