-- Waiting lists: a customer waits for a taken slot (a full class session, a booked appointment) and
-- is offered a hold automatically when time frees there.
--
-- One row per customer and wanted slot (service, start, optionally a named resource, a number of
-- seats). The row is the queue entry: its place in line is its join time (joined_at, then id), its
-- status says where it is (waiting, offered, accepted, declined, lapsed, left), and while it is
-- offered it names the hold made for it (offer_hold_id, a reservation whose session is
-- 'waitlist:<entry id>'). Offers are made by triggers on booking.reservations in the transaction
-- that frees the time (sql/functions/45_waitlist.sql); see docs/ARCHITECTURE.md, "Waiting lists".
-- depends: 0014_seats

create table booking.waitlist_entries (
    location_id     uuid        not null,
    id              uuid        not null default gen_random_uuid(),
    service_id      uuid        not null,
    customer_id     uuid        not null references booking.customers (id),
    resource_id     uuid,
    starts_at       timestamptz not null,
    ends_at         timestamptz not null,
    occupied        tstzrange   not null,
    slot_id         text        not null,
    seats           integer     not null default 1 check (seats between 1 and 100),
    status          text        not null default 'waiting'
                                check (status in ('waiting', 'offered', 'accepted', 'declined', 'lapsed', 'left')),
    joined_at       timestamptz not null default clock_timestamp(),
    offer_hold_id   uuid,
    offered_at      timestamptz,
    offer_expires_at timestamptz,
    offers          integer     not null default 0 check (offers >= 0),
    end_reason      text,
    version         bigint      not null default 1 check (version > 0),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    ended_at        timestamptz,
    primary key (location_id, id),
    foreign key (location_id, service_id) references booking.services (location_id, id),
    foreign key (location_id, resource_id) references booking.resources (location_id, id),
    check (starts_at < ends_at),
    check (occupied @> tstzrange(starts_at, ends_at)),
    check (status <> 'offered' or (offer_hold_id is not null and offer_expires_at is not null)),
    check ((status in ('waiting', 'offered')) = (ended_at is null))
);
comment on table booking.waitlist_entries is
  'Waiting lists: one row per customer waiting for a taken slot (service, start, optional resource, seats). First in line is the earliest joined_at (then id) among waiting entries whose wanted time overlaps what frees; an offer is a hold made for the entry in the transaction that frees the time (sql/functions/45_waitlist.sql).';
comment on column booking.waitlist_entries.location_id is 'The service''s location (first in every key, as on every per-location table).';
comment on column booking.waitlist_entries.id is 'The entry''s id; its offers are holds with session_id ''waitlist:<id>''.';
comment on column booking.waitlist_entries.service_id is 'The service wanted.';
comment on column booking.waitlist_entries.customer_id is 'Who waits (booking.customers).';
comment on column booking.waitlist_entries.resource_id is 'The resource wanted, or NULL for any eligible one.';
comment on column booking.waitlist_entries.starts_at is 'The wanted start.';
comment on column booking.waitlist_entries.ends_at is 'The wanted end: start + the service''s duration when the entry joined.';
comment on column booking.waitlist_entries.occupied is
  'The wanted slot widened by the service''s buffers: time freed overlapping it may serve the entry.';
comment on column booking.waitlist_entries.slot_id is 'The canonical slot id (<service_id>@<start in UTC>), as availability shows it.';
comment on column booking.waitlist_entries.seats is 'How many seats the offer must take at once (at most the service''s max_seats).';
comment on column booking.waitlist_entries.status is
  'waiting (in line), offered (a hold is made for it: offer_hold_id), accepted (the offer became a booking), declined (the offer was declined or released), lapsed (the offer expired, or the start can no longer be booked), left (the customer left the list).';
comment on column booking.waitlist_entries.joined_at is
  'When the customer joined (the clock at the join): the place in line, ties broken by id. Kept when a preempted offer puts the entry back in line.';
comment on column booking.waitlist_entries.offer_hold_id is 'The live offer''s hold (a reservation) while the entry is offered; the last one after.';
comment on column booking.waitlist_entries.offered_at is 'When the latest offer was made.';
comment on column booking.waitlist_entries.offer_expires_at is 'When the current offer''s hold expires (the service''s hold TTL after the offer).';
comment on column booking.waitlist_entries.offers is 'How many offers the entry has been made (a preempted offer is made again).';
comment on column booking.waitlist_entries.end_reason is
  'Why the entry ended: converted, declined, released, cancelled, offer_expired, start_passed, service_inactive, left, erased.';
comment on column booking.waitlist_entries.version is 'Bumped by every change (an entity tag).';
comment on column booking.waitlist_entries.created_at is 'When the row was written.';
comment on column booking.waitlist_entries.updated_at is 'When the row last changed.';
comment on column booking.waitlist_entries.ended_at is 'When the entry left the line for good (accepted, declined, lapsed, left); NULL while waiting or offered.';
-- as on booking.reservations (0008): a location ANALYZE did not see must not look empty
alter table booking.waitlist_entries alter column location_id set statistics 0;

-- an entry by id alone (the api functions get ids without their location); not unique: ids are
-- unique by construction, and a unique index must include location_id (sharding)
create index waitlist_entries_id on booking.waitlist_entries (id);
comment on index booking.waitlist_entries_id is 'An entry by id (api.get_waitlist_entry, leave, decline).';
-- what frees at a location and time: the waiting entries whose wanted time overlaps it
create index waitlist_entries_waiting on booking.waitlist_entries using gist (location_id, occupied)
  where status = 'waiting';
comment on index booking.waitlist_entries_waiting is
  'Waiting entries by location and wanted time: what a freed reservation''s time may serve (the offer triggers).';
-- one queue (a service's start) in line order: positions
create index waitlist_entries_queue on booking.waitlist_entries (location_id, service_id, starts_at, joined_at, id)
  where status = 'waiting';
comment on index booking.waitlist_entries_queue is 'The waiting entries of one slot in line order: an entry''s position.';
-- the entry an offer hold belongs to, when the hold ends
create index waitlist_entries_offer on booking.waitlist_entries (location_id, offer_hold_id)
  where offer_hold_id is not null;
comment on index booking.waitlist_entries_offer is 'The entry of an offer hold (when the hold is converted, released or expires).';
-- a customer's entries (their list, the per-customer limit, GDPR export and erasure)
create index waitlist_entries_customer on booking.waitlist_entries (customer_id, starts_at);
comment on index booking.waitlist_entries_customer is 'A customer''s entries by start.';
-- entries whose start has passed while waiting (api.cleanup_waitlist)
create index waitlist_entries_waiting_start on booking.waitlist_entries (starts_at) where status = 'waiting';
comment on index booking.waitlist_entries_waiting_start is 'Waiting entries by start: those whose start has passed lapse.';
-- a customer waits once for a slot (while waiting or offered)
create unique index waitlist_entries_once on booking.waitlist_entries (location_id, customer_id, service_id, starts_at)
  where status in ('waiting', 'offered');
comment on index booking.waitlist_entries_once is 'One live entry per customer and slot.';

-- row-level security as on booking.reservations (0005, 0011): a customer sees its own entries;
-- staff and admins those at their locations. Defence in depth: callers have no table privileges.
do $$
declare
  v_claims constant text := 'nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb';
  v_staff  text := format('((%s ->> ''role'') in (''staff'', ''admin''))', v_claims);
  v_scope  text := format('(not coalesce(%1$s ? ''locations'', false) or location_id in '
                          '(select x::uuid from jsonb_array_elements_text(%1$s -> ''locations'') x))', v_claims);
  v_own    text := format('(exists (select 1 from booking.customers c where c.id = customer_id '
                          'and c.subject = (%s ->> ''sub'')))', v_claims);
begin
  alter table booking.waitlist_entries enable row level security;
  execute format('create policy waitlist_entries_own on booking.waitlist_entries for all to booking_customer '
                 'using (%1$s) with check (%1$s)', v_own);
  execute format('create policy waitlist_entries_staff on booking.waitlist_entries for all to booking_staff, '
                 'booking_admin using (%s and %s)', v_staff, v_scope);
end;
$$;
revoke all on booking.waitlist_entries from public;
