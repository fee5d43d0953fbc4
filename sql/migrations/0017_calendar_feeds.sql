-- Calendar feeds: secret-token URLs that calendar apps (which cannot send a bearer token) poll for
-- an iCalendar file: a resource's bookings (staff and admins of its location create and revoke the
-- tokens) or a customer's own bookings (the customer creates and revokes them).
--
-- Only a SHA-256 hash of a token is stored; the token itself is shown once, when it is created. The
-- feed's rows and version come from sql/functions/48_calendar_feeds.sql; see docs/HTTP_API.md,
-- "Calendar feeds".
-- depends: 0015_waiting_list

create table booking.feed_tokens (
    id           uuid        not null default gen_random_uuid() primary key,
    kind         text        not null check (kind in ('resource', 'customer')),
    resource_id  uuid,
    customer_id  uuid        references booking.customers (id),
    token_hash   bytea       not null unique check (length(token_hash) = 32),
    created_by   text,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz,
    check ((kind = 'resource') = (resource_id is not null and customer_id is null)),
    check ((kind = 'customer') = (customer_id is not null and resource_id is null))
);
comment on table booking.feed_tokens is
  'Calendar feed tokens: one row per secret feed URL, for a resource (its location''s bookings on it) or a customer (its own bookings everywhere). Holds the SHA-256 of the token, never the token. A reference table like booking.customers, not per location: a customer''s feed spans locations, and a resource token names its resource by id (resource ids are unique; its location is the resource''s), so the table carries no location_id and no foreign key into the per-location tables (which a table shared by every shard could not have).';
comment on column booking.feed_tokens.id is 'The token''s id (revoke by it; it is not the secret).';
comment on column booking.feed_tokens.kind is 'resource (a staff member''s or room''s feed) or customer (a customer''s own bookings).';
comment on column booking.feed_tokens.resource_id is 'The resource whose bookings the feed shows (resource feeds); checked when the token is made, resources are deactivated, never deleted.';
comment on column booking.feed_tokens.customer_id is 'The customer whose bookings the feed shows (customer feeds).';
comment on column booking.feed_tokens.token_hash is 'sha256 of the token''s text: a feed request is matched by hashing the token it names.';
comment on column booking.feed_tokens.created_by is 'The subject (JWT sub) that created the token, NULL for a trusted SQL session.';
comment on column booking.feed_tokens.created_at is 'When the token was created.';
comment on column booking.feed_tokens.revoked_at is 'When the token was revoked; a revoked token answers like an unknown one.';

create index feed_tokens_resource on booking.feed_tokens (resource_id) where revoked_at is null;
comment on index booking.feed_tokens_resource is 'The live tokens of a resource (the per-resource limit).';
create index feed_tokens_customer on booking.feed_tokens (customer_id) where revoked_at is null;
comment on index booking.feed_tokens_customer is 'The live tokens of a customer (the per-customer limit).';

-- a customer feed's version: the newest event of the customer (events carry customer_id on
-- reservation changes only, so the index is partial)
create index events_customer on booking.events (customer_id, id) where customer_id is not null;
comment on index booking.events_customer is 'The newest event of a customer: the version (ETag) of its calendar feed.';

-- row-level security with no policy for the caller roles: defence in depth (callers have no table
-- privileges); only the SECURITY DEFINER functions of sql/functions/48_calendar_feeds.sql read it
alter table booking.feed_tokens enable row level security;
revoke all on booking.feed_tokens from public;
