-- The outbox without a global commit lock: event ids are still drawn at commit from
-- booking.events_id_seq, but no lock orders the commits; readers hand out ids only up to
-- booking.event_read_bound() (sql/functions/20_events.sql), which reads the sequence's last value.
-- depends: 0008_hot_path_indexes

-- the read bound relies on ids being handed out in the order they were allocated: no cached ranges
alter sequence booking.events_id_seq cache 1;
comment on sequence booking.events_id_seq is
  'Event ids, drawn at commit by the outbox triggers. CACHE 1: booking.event_read_bound() reads last_value and relies on every later draw being above it.';

-- api.prune_events records the newest id it deleted here (setval, only forward), so the retention
-- horizon survives an empty log. A sequence, not a row: nothing to shard, and a pruner that rolls back
-- after setval only makes the horizon too high (a reader resyncs needlessly), never too low.
create sequence booking.events_pruned_through as bigint minvalue 0 start 0;
comment on sequence booking.events_pruned_through is
  'The newest event id api.prune_events has deleted (last_value; 0 when nothing was pruned).';
