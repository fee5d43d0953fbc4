-- An index for the cap on live holds per customer: without it the count scanned every live
-- reservation of the location through the exclusion constraint's index, growing with the salon.
-- depends: 0006_conflict_strategies

create index reservations_customer_held on booking.reservations (customer_id, location_id)
  where status = 'held';
