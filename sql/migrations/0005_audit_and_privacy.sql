-- Audit log of reservation changes, erasure bookkeeping on customers, and row-level security on personal data.
-- depends: 0004_roles

-- The audit log: who did what to which reservation, before and after. Written by the row trigger
-- booking.audit_reservation_change (sql/functions/80_audit.sql); read by admins via api.audit_log.
create table booking.audit_log (
    id              bigint      generated always as identity,
    location_id     uuid        not null,
    reservation_id  uuid        not null,
    action          text        not null check (action in ('insert', 'update')),
    actor_subject   text,
    actor_role      text        not null,
    db_user         text        not null default session_user,
    before          jsonb,
    after           jsonb       not null,
    at              timestamptz not null default clock_timestamp(),
    primary key (location_id, id)
);
create index audit_log_reservation on booking.audit_log (reservation_id, id);
create index audit_log_at on booking.audit_log using brin (at);
comment on table booking.audit_log is
  'Who did what to which reservation, before and after (whole rows as JSON). Written by a trigger, read by admins only. Holds personal data until erased.';
comment on column booking.audit_log.actor_subject is 'The JWT sub of the caller (request.jwt.claims), NULL for a trusted SQL session.';
comment on column booking.audit_log.actor_role is 'The JWT role of the caller (customer, staff, admin), or system when the session set no claims.';
comment on column booking.audit_log.db_user is 'session_user: the database login that ran the change (booking_gateway for HTTP callers).';

-- Erasure (GDPR art. 17): the erased row keeps its id and counts, loses name, contacts and subject.
-- erased_subject_hash = sha256(id || ':' || old subject) recognises a repeated erase request for the
-- same subject without keeping the subject itself (see docs/SECURITY.md, "GDPR").
alter table booking.customers add column erased_subject_hash bytea;
comment on column booking.customers.erased_subject_hash is
  'After erasure: sha256 of id, '':'' and the former subject, so a repeated erase of that subject is recognised. NULL otherwise.';
create index customers_erased on booking.customers (erased_at) where erased_at is not null;

revoke all on booking.audit_log from public;

-- Row-level security on every table that holds personal data. Callers have no privileges on these
-- tables (they call api.*, SECURITY DEFINER functions owned by the table owner, which RLS does not
-- restrict), so these policies are defence in depth for any future direct grant. The database role
-- picks the policy (a customer role can never see more by claiming another role in its JWT claims);
-- the identity comes from request.jwt.claims, exactly as booking.actor_claims() reads it. The claims
-- are read inline, not through booking.actor_claims(), so that a policy needs no EXECUTE on schema
-- booking to be evaluated. Without a matching policy (e.g. booking_gateway, or a customer on the
-- audit log) a role sees no rows.
alter table booking.customers enable row level security;
alter table booking.reservations enable row level security;
alter table booking.conflicts enable row level security;
alter table booking.idempotency_keys enable row level security;
alter table booking.audit_log enable row level security;

create policy customers_own on booking.customers for all to booking_customer
  using (subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))
  with check (subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'));
create policy customers_staff on booking.customers for all to booking_staff, booking_admin
  using ((nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role') in ('staff', 'admin'));

create policy reservations_own on booking.reservations for all to booking_customer
  using (exists (select 1 from booking.customers c where c.id = customer_id
                 and c.subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')))
  with check (exists (select 1 from booking.customers c where c.id = customer_id
                      and c.subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')));
create policy reservations_staff on booking.reservations for all to booking_staff, booking_admin
  using ((nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role') in ('staff', 'admin'));

create policy conflicts_own on booking.conflicts for select to booking_customer
  using (exists (select 1 from booking.customers c where c.id = requester_customer_id
                 and c.subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')));
create policy conflicts_staff on booking.conflicts for all to booking_staff, booking_admin
  using ((nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role') in ('staff', 'admin'));

create policy idempotency_keys_own on booking.idempotency_keys for all to booking_customer
  using (exists (select 1 from booking.customers c where c.id = customer_id
                 and c.subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')))
  with check (exists (select 1 from booking.customers c where c.id = customer_id
                      and c.subject = (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')));
create policy idempotency_keys_staff on booking.idempotency_keys for all to booking_staff, booking_admin
  using ((nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role') in ('staff', 'admin'));

-- The audit log: admins read it; nobody writes it but the trigger (which runs as the owner).
create policy audit_log_admin on booking.audit_log for select to booking_admin
  using ((nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role') = 'admin');
