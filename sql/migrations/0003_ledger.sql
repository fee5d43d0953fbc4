-- The ledger: reservations (holds and bookings), conflicts, idempotency records, leases, the event log.
-- depends: 0002_catalogue

create table booking.reservations (
    id               uuid        not null default gen_random_uuid(),
    location_id      uuid        not null,
    resource_id      uuid        not null,
    service_id       uuid        not null,
    customer_id      uuid        not null references booking.customers (id),
    starts_at        timestamptz not null,
    ends_at          timestamptz not null,
    occupied         tstzrange   not null,
    status           text        not null check (status in ('held', 'confirmed', 'cancelled', 'expired',
                                                            'released', 'preempted')),
    expires_at       timestamptz,
    session_id       text,
    slot_id          text,
    version          bigint      not null default 1 check (version > 0),
    idempotency_key  text,
    details          jsonb       not null default '{}'::jsonb check (jsonb_typeof(details) = 'object'),
    cancel_reason    text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    confirmed_at     timestamptz,
    ended_at         timestamptz,
    primary key (location_id, id),
    foreign key (location_id, resource_id) references booking.resources (location_id, id),
    foreign key (location_id, service_id) references booking.services (location_id, id),
    check (starts_at < ends_at),
    check (occupied @> tstzrange(starts_at, ends_at)),
    check (status <> 'held' or expires_at is not null),
    constraint reservations_no_overlap exclude using gist (
        location_id with =, resource_id with =, occupied with &&
    ) where (status in ('held', 'confirmed'))
);
create index reservations_id on booking.reservations (id);
create index reservations_customer on booking.reservations (customer_id, starts_at);
create index reservations_expiring on booking.reservations (expires_at) where status = 'held';
comment on table booking.reservations is
  'The single ledger of occupied time: one row per hold or booking. A hold becomes a booking in place.';
comment on constraint reservations_no_overlap on booking.reservations is
  'The invariant: no two live (held or confirmed) reservations of one resource overlap, buffers included.';

create table booking.conflicts (
    id                      uuid        not null default gen_random_uuid(),
    location_id             uuid        not null,
    service_id              uuid        not null,
    resource_id             uuid,
    conflict_type           text        not null check (conflict_type in ('HOLD_CONFLICT', 'BOOKING_CONFLICT',
                                                                           'CACHE_CONFLICT', 'VERSION_CONFLICT')),
    strategy                text        not null,
    outcome                 text        not null,
    status                  text        not null default 'resolved'
                                        check (status in ('open', 'awaiting_confirmation', 'resolved')),
    operation               text        not null,
    requester_customer_id   uuid        references booking.customers (id),
    holder_reservation_id   uuid,
    attempted_reservation_id uuid,
    requested_start         timestamptz,
    requested_end           timestamptz,
    alternatives            jsonb       not null default '[]'::jsonb,
    detail                  jsonb       not null default '{}'::jsonb,
    detected_at             timestamptz not null default clock_timestamp(),
    resolved_at             timestamptz,
    primary key (location_id, id)
);
create index conflicts_id on booking.conflicts (id);
create index conflicts_detected on booking.conflicts (detected_at);
create index conflicts_open on booking.conflicts (location_id, detected_at) where status <> 'resolved';
comment on table booking.conflicts is
  'Every conflict a caller met, with the strategy applied and its outcome, recorded although the action failed.';

create table booking.idempotency_keys (
    location_id     uuid        not null,
    customer_id     uuid        not null references booking.customers (id),
    key             text        not null check (length(key) between 1 and 255),
    request_hash    bytea       not null,
    response        jsonb       not null,
    created_at      timestamptz not null default now(),
    expires_at      timestamptz not null default now() + interval '24 hours',
    primary key (location_id, customer_id, key)
);
create index idempotency_keys_lookup on booking.idempotency_keys (customer_id, key);
create index idempotency_keys_expiry on booking.idempotency_keys (expires_at);
comment on table booking.idempotency_keys is
  'First result of each (customer, Idempotency-Key) with a hash of the request; kept at least 24 hours.';

create sequence booking.fencing_tokens as bigint;
comment on sequence booking.fencing_tokens is
  'Fencing tokens for leases: one sequence for all keys, so a token never repeats even after a lease row is removed.';

create table booking.distributed_locks (
    key          text        not null primary key check (length(key) between 1 and 200),
    owner        text        not null check (length(owner) between 1 and 200),
    version      bigint      not null,
    acquired_at  timestamptz not null default now(),
    expires_at   timestamptz not null
);
comment on table booking.distributed_locks is
  'Leases with fencing: version is the current fencing token. Reference table, not per location.';

create sequence booking.events_id_seq as bigint;
comment on sequence booking.events_id_seq is
  'Event ids. Taken at commit under the event-order advisory lock, so id order is commit order.';

create table booking.events (
    id              bigint      not null,
    location_id     uuid        not null,
    type            text        not null,
    reservation_id  uuid,
    resource_id     uuid,
    service_id      uuid,
    customer_id     uuid,
    day             date,
    payload         jsonb       not null default '{}'::jsonb,
    txid            xid8        not null default pg_current_xact_id(),
    created_at      timestamptz not null default now(),
    primary key (location_id, id)
);
create index events_id on booking.events (id);
create index events_resource_day on booking.events (resource_id, day, id);
create index events_catalogue on booking.events (location_id, id) where day is null;
comment on table booking.events is
  'The outbox: one row per change to a reservation, conflict or the catalogue. No personal data in payload.';
