-- The outbox without a global commit lock: event ids are (xid << 20) | n, readers hand out only
-- settled events (sql/functions/20_events.sql), so the event-order lock and its sequence go.
-- depends: 0007_live_holds_index

drop sequence booking.events_id_seq;

comment on column booking.events.id is
  '(top-level xid << 20) | n, n counting the transaction''s events: ordered by transaction, handed out only once settled (every older transaction has ended).';
comment on column booking.events.txid is 'The top-level transaction that wrote the event (id >> 20).';

-- api.prune_events records the newest id it deleted here (setval, only forward), so the retention
-- horizon survives an empty log. A sequence, not a row: nothing to shard, and a pruner that rolls back
-- after setval only makes the horizon too high (a reader resyncs needlessly), never too low.
create sequence booking.events_pruned_through as bigint minvalue 0 start 0;
comment on sequence booking.events_pruned_through is
  'The newest event id api.prune_events has deleted (last_value; 0 when nothing was pruned).';
