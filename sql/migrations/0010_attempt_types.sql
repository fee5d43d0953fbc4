-- What a write asks for and what a conflict report says, each as one composite value whose fields
-- are set by name: booking.take_slot, booking.settle_conflict and booking.record_conflict took up to
-- fifteen positional parameters, several of one type (three timestamptz, four uuid, five text), so
-- two swapped arguments ran without an error. Now no two of their parameters share a type, and the
-- requested time is one tstzrange: a start and end the wrong way round cannot be built (a range
-- whose lower bound is above its upper one raises). The functions are re-created with these
-- signatures by sql/functions/ (which drops the former ones).
-- depends: 0009_outbox_without_lock

create type booking.attempt as (
    operation        text,
    customer_id      uuid,
    slot             tstzrange,
    status           text,
    expires_at       timestamptz,
    session_id       text,
    slot_id          text,
    idempotency_key  text,
    details          jsonb,
    seen_version     bigint
);
comment on type booking.attempt is
  'An attempt to take time for a customer: what booking.take_slot writes and what booking.settle_conflict and booking.record_conflict report. Built field by field; a field a step does not need stays NULL.';
comment on column booking.attempt.operation is
  'The api operation making the attempt (create_hold, create_booking, convert_hold, reschedule_booking, cancel_booking); recorded on a conflict.';
comment on column booking.attempt.customer_id is 'The customer the time is for (the requester of a conflict).';
comment on column booking.attempt.slot is
  'The appointment asked for, [start, end) without buffers; NULL when no time is asked (a stale version).';
comment on column booking.attempt.status is 'What the write makes: held or confirmed.';
comment on column booking.attempt.expires_at is 'When a hold lapses; NULL for a booking.';
comment on column booking.attempt.session_id is 'The booking session a hold belongs to.';
comment on column booking.attempt.slot_id is 'The canonical id of the slot (booking.slot_id).';
comment on column booking.attempt.idempotency_key is 'The Idempotency-Key of a direct booking.';
comment on column booking.attempt.details is 'The booking data stored with the reservation (NULL: {}).';
comment on column booking.attempt.seen_version is
  'The availability version the caller acted on: a slot taken after it is a CACHE_CONFLICT (0 or NULL: none).';

create type booking.conflict_report as (
    conflict_type             text,
    resource_id               uuid,
    holder_reservation_id     uuid,
    attempted_reservation_id  uuid,
    retry_after               timestamptz,
    strategy                  text,
    outcome                   text,
    status                    text,
    detail                    jsonb
);
comment on type booking.conflict_report is
  'What booking.record_conflict records about a conflict besides the attempt; the fields are the booking.conflicts columns of the same names, plus retry_after. Built field by field. NULL strategy, outcome, status and detail mean first_come_first_serve, refused, resolved and {}.';
comment on column booking.conflict_report.retry_after is
  'When the time may free up (the holds in the way lapse); NULL when a booking is in the way. Returned, not stored.';
