-- Units: a reservation occupies one or more units, and the no-overlap invariant moves to them.
--
-- A unit is one seat of one resource for a span of time: (resource, seat, occupied). A one-resource
-- booking is one unit (seat 1), as before; a service that needs a stylist and a wash station takes
-- one unit per required pool (each pool may be needed for a part of the service only); a class is a
-- resource with a capacity whose seats are units. The reservation row stays the customer-facing
-- record (status, version, expiry, idempotency, the lead unit's resource and time); its units carry
-- a copy of its status and expiry, kept by a trigger (sql/functions/41_units.sql), so that the
-- exclusion constraint over live units can be a constraint of one table.
--
-- Existing reservations get their one unit each; the exclusion constraint moves from
-- booking.reservations to booking.units (same columns plus seat).
--
-- No foreign key from a unit to its reservation. The hot path inserts the units first (the
-- exclusion constraint decides who gets the time) and the reservation after them, so the key would
-- have to be checked at commit; PostgreSQL checks a foreign key with a plan it keeps for the
-- session, made while the table may still be small: a sequential scan over every reservation at
-- every commit once it has grown (tests/test_hot_path_plans.py saw exactly that). Units are written
-- only by booking.take_slot and the ledger's triggers, in their reservation's transaction; the race
-- tests check after every run that no unit lacks its reservation or differs from it.
-- depends: 0012_reservation_search

-- classes: how many customers a resource takes at once
alter table booking.resources
  add column capacity integer not null default 1 check (capacity between 1 and 1000);
comment on column booking.resources.capacity is
  'Seats: how many customers the resource takes at once (1: a stylist or a room; 12: a yoga class of 12 mats). Each seat is a unit of its own.';

-- how many seats one booking may take (a class booked for a family)
alter table booking.services
  add column max_seats integer not null default 1 check (max_seats between 1 and 100);
comment on column booking.services.max_seats is
  'The most seats one hold or booking may take (p_seats); 1 for an appointment.';

-- multi-resource services: the pools a service needs
create table booking.service_pools (
    location_id   uuid     not null,
    service_id    uuid     not null,
    pool          smallint not null check (pool between 2 and 8),
    name          text     not null check (length(name) between 1 and 200),
    starts_after  interval not null default interval '0' check (starts_after >= interval '0'),
    lasts         interval check (lasts > interval '0'),
    primary key (location_id, service_id, pool),
    foreign key (location_id, service_id) references booking.services (location_id, id) on delete cascade
);
comment on table booking.service_pools is
  'The further pools a service needs besides its main pool (pool 1, the resources that perform it for its whole duration): e.g. pool 2 "wash station" for the first 20 minutes. One member of every pool is taken, all or nothing.';
comment on column booking.service_pools.starts_after is
  'When the pool is needed, counted from the appointment''s start (0: from the start, with the service''s buffer before).';
comment on column booking.service_pools.lasts is
  'For how long the pool is needed; NULL: until the appointment''s end (with the buffer after).';

alter table booking.service_resources
  add column pool smallint not null default 1 check (pool between 1 and 8);
comment on column booking.service_resources.pool is
  'The pool the resource belongs to for this service: 1 is the main pool (who performs it); 2..8 are the pools of booking.service_pools. A resource is in one pool of a service at most (the primary key).';

-- the units
alter table booking.reservations
  add column units smallint not null default 0;

create table booking.units (
    location_id     uuid        not null,
    reservation_id  uuid        not null,
    pool            smallint    not null default 1 check (pool between 1 and 8),
    seat            integer     not null default 1 check (seat between 1 and 1000),
    resource_id     uuid        not null,
    occupied        tstzrange   not null check (not isempty(occupied)),
    status          text        not null check (status in ('held', 'confirmed', 'cancelled', 'expired',
                                                           'released', 'preempted')),
    expires_at      timestamptz,
    primary key (location_id, reservation_id, pool, seat),
    foreign key (location_id, resource_id) references booking.resources (location_id, id),
    check (status <> 'held' or expires_at is not null),
    constraint units_no_overlap exclude using gist (
        location_id with =, resource_id with =, seat with =, occupied with &&
    ) where (status in ('held', 'confirmed'))
);
comment on table booking.units is
  'What reservations occupy: one row per (reservation, pool, seat) with its resource and time. status and expires_at are the reservation''s, copied by trigger. Written only with their reservation, in its transaction (booking.take_slot inserts the units first, so that the exclusion constraint decides, then the reservation).';
comment on constraint units_no_overlap on booking.units is
  'The invariant: no two live (held or confirmed) units of one seat of one resource overlap, buffers included.';
alter table booking.units alter column location_id set statistics 0;

insert into booking.units (location_id, reservation_id, pool, seat, resource_id, occupied, status, expires_at)
select r.location_id, r.id, 1, 1, r.resource_id, r.occupied, r.status, r.expires_at
from booking.reservations r;

update booking.reservations set units = 1;
alter table booking.reservations
  add constraint reservations_units check (units between 1 and 1000);
comment on column booking.reservations.units is
  'How many units the reservation occupies (1 for an appointment; one per pool, times the seats).';
comment on column booking.reservations.resource_id is
  'The lead unit''s resource (pool 1, first seat): who performs the service. The other units are in booking.units.';
comment on column booking.reservations.occupied is
  'The lead unit''s time: the slot widened by the service''s buffers.';

alter table booking.reservations drop constraint reservations_no_overlap;

-- how many seats an attempt asks for (booking.take_slot); NULL means one
alter type booking.attempt add attribute seats integer;
comment on column booking.attempt.seats is 'How many seats the attempt takes on its main resource (NULL: 1).';

-- one further pool of a service as booking.take_slot needs it for one appointment
create type booking.pool_need as (
    pool      smallint,
    name      text,
    occupied  tstzrange,
    members   uuid[]
);
comment on type booking.pool_need is
  'A further pool of a service for one appointment: its number and name, the span its member is occupied (buffers included) and the members working then, in preference order (booking.further_pools).';

-- row-level security as on the rest of the catalogue (0011): anyone may read the pools, admins
-- change them at their locations. Defence in depth: callers have no table privileges.
do $$
declare
  v_claims constant text := 'nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb';
  v_admin  text := format('((%s ->> ''role'') = ''admin'')', v_claims);
  v_scope  text := format('(not coalesce(%1$s ? ''locations'', false) or location_id in '
                          '(select x::uuid from jsonb_array_elements_text(%1$s -> ''locations'') x))', v_claims);
begin
  alter table booking.service_pools enable row level security;
  create policy service_pools_read on booking.service_pools for select
    to booking_customer, booking_staff, booking_admin using (true);
  execute format('create policy service_pools_admin on booking.service_pools for all to booking_admin '
                 'using (%1$s and %2$s) with check (%1$s and %2$s)', v_admin, v_scope);
end;
$$;
