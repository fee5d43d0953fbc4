-- Webhooks: signed HTTP deliveries of outbox events (booking.events) to endpoints admins register per
-- location (docs/WEBHOOKS.md).
--
-- An endpoint keeps its own cursor into the outbox: the delivery worker copies events after it (up to
-- the read bound, so none is skipped) into webhook_deliveries and moves the cursor in one transaction.
-- A delivery is pending until the receiver answers 2xx (delivered) or its retry window ends (dead).
-- Per endpoint only the oldest pending delivery may be attempted, so events arrive in outbox order.
-- Every try is a row in webhook_attempts (status, error, a short excerpt of the response body).
-- depends: 0015_waiting_list

create table booking.webhook_endpoints (
    location_id          uuid        not null references booking.locations (id),
    id                   uuid        not null default gen_random_uuid(),
    url                  text        not null check (url ~ '^https?://' and length(url) <= 2000),
    event_types          text[],
    description          text        not null default '' check (length(description) <= 500),
    active               boolean     not null default true,
    secret               text        not null check (secret like 'whsec_%'),
    previous_secret      text        check (previous_secret like 'whsec_%'),
    previous_valid_until timestamptz,
    cursor_event_id      bigint      not null check (cursor_event_id >= 0),
    consecutive_dead     integer     not null default 0 check (consecutive_dead >= 0),
    disabled_reason      text,
    version              bigint      not null default 1 check (version > 0),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    primary key (location_id, id),
    check (event_types is null or cardinality(event_types) between 1 and 100),
    check ((previous_secret is null) = (previous_valid_until is null))
);
-- admins and the worker name an endpoint by its id alone (not unique by itself: see the key)
create index webhook_endpoints_id on booking.webhook_endpoints (id);
comment on table booking.webhook_endpoints is
  'Webhook endpoints: where a location''s outbox events are POSTed, signed (Standard Webhooks) with the secret (and, until previous_valid_until, also the previous one after a rotation).';
comment on column booking.webhook_endpoints.id is 'The endpoint id.';
comment on column booking.webhook_endpoints.location_id is 'The location whose events the endpoint receives.';
comment on column booking.webhook_endpoints.url is 'The http(s) URL deliveries are POSTed to.';
comment on column booking.webhook_endpoints.event_types is 'Event types delivered (e.g. booking:confirmed); NULL: every type.';
comment on column booking.webhook_endpoints.description is 'A free note for admins.';
comment on column booking.webhook_endpoints.active is 'False: no events are queued or sent (the cursor stays, so nothing is lost while off).';
comment on column booking.webhook_endpoints.secret is 'The signing secret, whsec_<base64>; shown once, at creation or rotation.';
comment on column booking.webhook_endpoints.previous_secret is 'The secret before the last rotation; deliveries are signed with it too until previous_valid_until.';
comment on column booking.webhook_endpoints.previous_valid_until is 'End of the rotation grace period.';
comment on column booking.webhook_endpoints.cursor_event_id is 'The last outbox event id considered for this endpoint: events after it are still to be queued.';
comment on column booking.webhook_endpoints.consecutive_dead is 'Deliveries dead-lettered in a row; the endpoint is disabled when it reaches the worker''s limit.';
comment on column booking.webhook_endpoints.disabled_reason is 'Why the worker disabled the endpoint (NULL when an admin did, or it is active).';
comment on column booking.webhook_endpoints.version is 'Grows by one with every change.';
comment on column booking.webhook_endpoints.created_at is 'When the endpoint was registered.';
comment on column booking.webhook_endpoints.updated_at is 'When it last changed.';

create table booking.webhook_deliveries (
    location_id     uuid        not null,
    id              bigint      generated always as identity,
    endpoint_id     uuid        not null,
    event_id        bigint      not null,
    message_id      text        not null,
    event_type      text        not null,
    payload         jsonb       not null,
    status          text        not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
    attempts        integer     not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    window_start    timestamptz not null default now(),
    last_error      text,
    created_at      timestamptz not null default now(),
    finished_at     timestamptz,
    primary key (location_id, id),
    unique (location_id, endpoint_id, event_id),
    foreign key (location_id, endpoint_id) references booking.webhook_endpoints (location_id, id) on delete cascade
);
create index webhook_deliveries_id on booking.webhook_deliveries (id);
create index webhook_deliveries_pending on booking.webhook_deliveries (endpoint_id, event_id) where status = 'pending';
comment on table booking.webhook_deliveries is
  'One row per event and endpoint: the message (payload and webhook-id, the same on every try) and where it stands.';
comment on column booking.webhook_deliveries.location_id is 'The endpoint''s location.';
comment on column booking.webhook_deliveries.id is 'The delivery id.';
comment on column booking.webhook_deliveries.endpoint_id is 'The endpoint it goes to.';
comment on column booking.webhook_deliveries.event_id is 'The outbox event id: per endpoint, deliveries are sent in this order.';
comment on column booking.webhook_deliveries.message_id is 'The webhook-id header, msg_<event id>: the same on every try and redelivery, for the receiver''s deduplication.';
comment on column booking.webhook_deliveries.event_type is 'The event type.';
comment on column booking.webhook_deliveries.payload is 'The JSON body sent, copied from the event when queued (so pruning the outbox loses nothing).';
comment on column booking.webhook_deliveries.status is 'pending (to be tried), delivered (a 2xx answer), dead (the retry window ended).';
comment on column booking.webhook_deliveries.attempts is 'Tries so far.';
comment on column booking.webhook_deliveries.next_attempt_at is 'Not tried again before this (exponential backoff with jitter).';
comment on column booking.webhook_deliveries.window_start is 'Start of the retry window (queued, or redelivered).';
comment on column booking.webhook_deliveries.last_error is 'What went wrong on the last failed try.';
comment on column booking.webhook_deliveries.created_at is 'When it was queued.';
comment on column booking.webhook_deliveries.finished_at is 'When it was delivered or dead-lettered.';

create table booking.webhook_attempts (
    location_id      uuid        not null,
    id               bigint      generated always as identity,
    delivery_id      bigint      not null,
    attempted_at     timestamptz not null default now(),
    ok               boolean     not null,
    status_code      integer,
    error            text        check (length(error) <= 500),
    response_excerpt text        check (length(response_excerpt) <= 256),
    duration_ms      integer     check (duration_ms >= 0),
    primary key (location_id, id),
    foreign key (location_id, delivery_id) references booking.webhook_deliveries (location_id, id) on delete cascade
);
create index webhook_attempts_delivery on booking.webhook_attempts (delivery_id, id);
comment on table booking.webhook_attempts is 'Every try of a delivery: its answer or error, and at most 256 characters of the response body.';
comment on column booking.webhook_attempts.location_id is 'The endpoint''s location.';
comment on column booking.webhook_attempts.id is 'The attempt id.';
comment on column booking.webhook_attempts.delivery_id is 'The delivery tried.';
comment on column booking.webhook_attempts.attempted_at is 'When it was recorded.';
comment on column booking.webhook_attempts.ok is 'True for a 2xx answer.';
comment on column booking.webhook_attempts.status_code is 'The HTTP status, NULL when none came (refused, timed out).';
comment on column booking.webhook_attempts.error is 'What went wrong, NULL when ok.';
comment on column booking.webhook_attempts.response_excerpt is 'The start of the response body (256 characters at most).';
comment on column booking.webhook_attempts.duration_ms is 'How long the try took.';
