-- Conflict strategies, the availability version a caller saw, and the cap on live holds per customer.
-- Signatures change: the old functions are dropped here and re-created by sql/functions/.
-- depends: 0004_roles

alter table booking.locations
  add column max_live_holds_per_customer smallint not null default 3
    check (max_live_holds_per_customer between 1 and 100);
comment on column booking.locations.max_live_holds_per_customer is
  'Cap on live holds one customer may have at this location at once (against slot hoarding).';

alter table booking.conflicts
  add column decision text,
  add column note text,
  add column offered jsonb;
comment on column booking.conflicts.offered is 'The alternative offered to the requester (consensus, or an admin''s offer).';
comment on column booking.conflicts.detail is
  'What the attempt asked for (status, session, expiry), so an admin or the requester can settle it later.';

drop function if exists api.create_hold_atomic(text, text, uuid, timestamptz, timestamptz, timestamptz, text, uuid);
drop function if exists api.create_booking_atomic(uuid, timestamptz, text, jsonb, uuid, text);
drop function if exists booking.record_conflict(booking.services, text, text, text, uuid, uuid, uuid, uuid,
                                                timestamptz, timestamptz, timestamptz);
