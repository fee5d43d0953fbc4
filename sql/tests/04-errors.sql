-- Errors: every SQLSTATE the API raises (BK001-BK017), checked by code, not by message text.
--
-- Dates are relative to now() (fixed within the transaction) so that notice and advance limits bite
-- only where a test means them to: the resource works 09:00-17:00 UTC every day.
begin;
select plan(56);

set local timezone = 'UTC';

\set loc 'a0000000-0000-0000-0000-000000000001'
\set ann 'b0000000-0000-0000-0000-000000000001'

select tests.create_location(:'loc', 'Error studio');

-- Ann performs every service; Bob works but performs none.
select tests.create_staff(:'loc', 'Ann', :'ann');
select tests.create_staff(:'loc', 'Bob', 'b0000000-0000-0000-0000-000000000002');

select tests.create_service(:'loc', 'Manicure', '60 minutes', array[:'ann']::uuid[],
                            'c0000000-0000-0000-0000-000000000001', p_slot_step => '30 minutes',
                            p_max_advance => '60 days');
select tests.create_service(:'loc', 'Retired', '60 minutes', array[:'ann']::uuid[],
                            'c0000000-0000-0000-0000-000000000002', p_slot_step => '30 minutes',
                            p_max_advance => '60 days', p_active => false);
select tests.create_service(:'loc', 'Needs notice', '60 minutes', array[:'ann']::uuid[],
                            'c0000000-0000-0000-0000-000000000003', p_slot_step => '30 minutes',
                            p_min_notice => '3 days', p_max_advance => '60 days');

-- Fixtures: a live hold, a hold converted to a booking, a released hold, a cancelled booking, and an
-- idempotent booking, all ten days ahead.
select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
                              (current_date + 10) + time '10:00', (current_date + 10) + time '11:00',
                              null, 'alice-s1')->>'hold_id' as live_hold
\gset
select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
                              (current_date + 10) + time '12:00', (current_date + 10) + time '13:00',
                              null, 'alice-s2')->>'hold_id' as converted_hold
\gset
select api.convert_hold_to_booking(:'converted_hold', 'alice-s2', '{}')->>'status' as converted_status
\gset
select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
                              (current_date + 10) + time '14:00', (current_date + 10) + time '15:00',
                              null, 'alice-s3')->>'hold_id' as released_hold
\gset
select api.release_hold(:'released_hold', 'alice-s3')->>'status' as released_status
\gset
select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 11) + time '10:00',
                                 'bob', '{}')->>'booking_id' as cancelled_booking
\gset
select api.cancel_booking(:'cancelled_booking', 'test')->>'status' as cancelled_status
\gset
select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 12) + time '10:00',
                                 'carol', '{"note":"first"}', null, 'key-1')->>'booking_id' as keyed_booking
\gset

select is(
  array[:'converted_status', :'released_status', :'cancelled_status'],
  array['confirmed', 'released', 'cancelled'],
  'The fixtures are a booking, a released hold and a cancelled booking');

-- BK001 unknown service

select throws_ok(
  $$select * from api.get_availability('c0000000-0000-0000-0000-0000000000ff', current_date + 10)$$,
  'BK001', null, 'Availability of an unknown service is BK001');
select throws_ok(
  $$select api.validate_service_availability('c0000000-0000-0000-0000-0000000000ff', current_date + 10, '10:00')$$,
  'BK001', null, 'Validating a time of an unknown service is BK001');
select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-0000000000ff',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 's')$$,
  'BK001', null, 'Holding an unknown service is BK001');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-0000000000ff', (current_date + 10) + time '15:00',
      'alice', '{}')$$,
  'BK001', null, 'Booking an unknown service is BK001');

-- BK002 inactive service

select throws_ok(
  $$select * from api.get_availability('c0000000-0000-0000-0000-000000000002', current_date + 10)$$,
  'BK002', null, 'Availability of a service no longer offered is BK002');
select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000002',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 's')$$,
  'BK002', null, 'Holding a service no longer offered is BK002');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000002', (current_date + 10) + time '15:00',
      'alice', '{}')$$,
  'BK002', null, 'Booking a service no longer offered is BK002');

-- BK003 outside working hours

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '20:00', (current_date + 10) + time '21:00', null, 's')$$,
  'BK003', null, 'A hold at 20:00, after closing, is BK003');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '16:30',
      'alice', '{}')$$,
  'BK003', null, 'A booking that would run past closing is BK003');
select throws_ok(
  format($$select api.reschedule_booking(%L, (current_date + 10) + time '07:00')$$, :'converted_hold'),
  'BK003', null, 'Rescheduling to 07:00, before opening, is BK003');

-- BK004 in the past or too soon

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date - 1) + time '10:00', (current_date - 1) + time '11:00', null, 's')$$,
  'BK004', null, 'A hold yesterday is BK004');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000003', (current_date + 1) + time '10:00',
      'alice', '{}')$$,
  'BK004', null, 'A booking tomorrow for a service that needs three days'' notice is BK004');

-- BK005 beyond the maximum advance

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 100) + time '10:00', (current_date + 100) + time '11:00', null, 's')$$,
  'BK005', null, 'A hold 100 days ahead of a 60-day limit is BK005');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 100) + time '10:00',
      'alice', '{}')$$,
  'BK005', null, 'A booking 100 days ahead of a 60-day limit is BK005');

-- BK006 wrong duration

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '15:30', null, 's')$$,
  'BK006', null, 'A 30-minute hold of a 60-minute service is BK006');
select is(
  (api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', null, null, 's')->>'end_time')::timestamptz,
  ((current_date + 10) + time '16:00')::timestamptz,
  'A hold without an end time is not an error: it lasts the service''s duration');

-- BK007 hold expiry in the past

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', now() - interval '1 minute', 's')$$,
  'BK007', null, 'A hold expiring a minute ago is BK007');
select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', now(), 's')$$,
  'BK007', null, 'A hold expiring right now is BK007');

-- BK008 unknown reservation

select throws_ok(
  $$select api.release_hold('d0000000-0000-0000-0000-0000000000ff', 's')$$,
  'BK008', null, 'Releasing an unknown hold is BK008');
select throws_ok(
  $$select api.convert_hold_to_booking('d0000000-0000-0000-0000-0000000000ff', 's', '{}')$$,
  'BK008', null, 'Converting an unknown hold is BK008');
select throws_ok(
  $$select api.cancel_booking('d0000000-0000-0000-0000-0000000000ff')$$,
  'BK008', null, 'Cancelling an unknown booking is BK008');
select throws_ok(
  $$select api.reschedule_booking('d0000000-0000-0000-0000-0000000000ff', (current_date + 10) + time '15:00')$$,
  'BK008', null, 'Rescheduling an unknown booking is BK008');

-- BK009 another session's hold

select throws_ok(
  format($$select api.convert_hold_to_booking(%L, 'mallory-session', '{}')$$, :'live_hold'),
  'BK009', null, 'Converting a hold from another session is BK009');
select throws_ok(
  format($$select api.release_hold(%L, 'mallory-session')$$, :'live_hold'),
  'BK009', null, 'Releasing a hold from another session is BK009');

-- BK010 invalid state

select throws_ok(
  format($$select api.release_hold(%L, 'alice-s2')$$, :'converted_hold'),
  'BK010', null, 'Releasing a hold that became a booking is BK010');
select throws_ok(
  format($$select api.convert_hold_to_booking(%L, 'alice-s3', '{}')$$, :'released_hold'),
  'BK010', null, 'Converting a released hold is BK010');
select throws_ok(
  format($$select api.cancel_booking(%L)$$, :'live_hold'),
  'BK010', null, 'Cancelling a hold as if it were a booking is BK010');
select throws_ok(
  format($$select api.reschedule_booking(%L, (current_date + 11) + time '12:00')$$, :'cancelled_booking'),
  'BK010', null, 'Rescheduling a cancelled booking is BK010');

-- BK011 idempotency key reused with another request

select is(
  api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 12) + time '10:00',
                            'carol', '{"note":"first"}', null, 'key-1')->>'booking_id',
  :'keyed_booking',
  'The same key with the same request returns the first booking');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 12) + time '11:00',
      'carol', '{"note":"first"}', null, 'key-1')$$,
  'BK011', null, 'The same key with another start time is BK011');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 12) + time '10:00',
      'carol', '{"note":"second"}', null, 'key-1')$$,
  'BK011', null, 'The same key with other booking details is BK011');
select is(
  (select count(*)::int from booking.reservations r join booking.customers c on c.id = r.customer_id
   where c.subject = 'carol'),
  1, 'A refused reuse of a key writes no reservation');

-- BK012 resource not eligible

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 's',
      'b0000000-0000-0000-0000-000000000002')$$,
  'BK012', null, 'Holding with a resource that does not perform the service is BK012');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '15:00',
      'alice', '{}', 'b0000000-0000-0000-0000-0000000000ff')$$,
  'BK012', null, 'Booking with an unknown resource is BK012');

-- BK013 off the grid

select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:10', (current_date + 10) + time '16:10', null, 's')$$,
  'BK013', null, 'A hold at 15:10 on a 30-minute grid is BK013');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '15:15',
      'alice', '{}')$$,
  'BK013', null, 'A booking at 15:15 on a 30-minute grid is BK013');

-- BK014 invalid argument

select throws_ok(
  $$select * from api.get_availability('c0000000-0000-0000-0000-000000000001', current_date + 10, 0)$$,
  'BK014', null, 'Asking availability for zero days is BK014');
select throws_ok(
  $$select * from api.get_availability('c0000000-0000-0000-0000-000000000001', current_date + 10, 63)$$,
  'BK014', null, 'Asking availability for more than 62 days is BK014');
select throws_ok(
  $$select api.validate_service_availability('c0000000-0000-0000-0000-000000000001', current_date + 10, null)$$,
  'BK014', null, 'Validating without a time is BK014');
select throws_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, '')$$,
  'BK014', null, 'A hold without a session is BK014');
select throws_ok(
  $$select api.create_hold_atomic(null, '', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 's')$$,
  'BK014', null, 'A hold for an empty user is BK014');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '15:00',
      'alice', '[]')$$,
  'BK014', null, 'Booking details that are not a JSON object are BK014');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '15:00',
      'alice', '{}', null, '')$$,
  'BK014', null, 'An empty idempotency key is BK014');
select throws_ok(
  $$select api.release_hold(null, 's')$$,
  'BK014', null, 'Releasing without a hold id is BK014');
select throws_ok(
  $$select api.acquire_lock('k', 'me', interval '0')$$,
  'BK014', null, 'A lease with a zero TTL is BK014');

-- BK016 too many live holds for one customer (the location's cap, 3 by default)

select is(
  (select count(*)::int
   from generate_series(10, 12) h
   cross join lateral api.create_hold_atomic(null, 'dora', 'c0000000-0000-0000-0000-000000000001',
                                             (current_date + 13) + make_interval(hours => h),
                                             (current_date + 13) + make_interval(hours => h + 1),
                                             null, 'dora-s') r
   where (r->>'success')::boolean),
  3, 'A customer takes three holds, the location''s cap');
select throws_ok(
  $$select api.create_hold_atomic(null, 'dora', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 13) + time '14:00', (current_date + 13) + time '15:00', null, 'dora-s')$$,
  'BK016', null, 'A fourth live hold of the same customer is BK016');

-- BK015 a customer acting as someone else (and BK008 for someone else's reservation)

select tests.set_claims('customer', 'alice');

select throws_ok(
  $$select api.create_hold_atomic(null, 'bob', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 's')$$,
  'BK015', null, 'A customer holding as another customer is BK015');
select throws_ok(
  $$select api.create_booking_atomic('c0000000-0000-0000-0000-000000000001', (current_date + 10) + time '15:00',
      'bob', '{}')$$,
  'BK015', null, 'A customer booking as another customer is BK015');
select lives_ok(
  $$select api.create_hold_atomic(null, 'alice', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '15:00', (current_date + 10) + time '16:00', null, 'alice-s4')$$,
  'A customer holding as itself is accepted');
select throws_ok(
  format($$select api.cancel_booking(%L)$$, :'keyed_booking'),
  'BK008', null, 'A customer cancelling someone else''s booking is BK008, as if it did not exist');
select throws_ok(
  $$select api.resolve_conflict('e0000000-0000-0000-0000-0000000000ff', 'keep_existing')$$,
  'BK017', null, 'A customer resolving a conflict is BK017');

select tests.set_claims('staff', 'sam');

select throws_ok(
  $$select api.resolve_conflict('e0000000-0000-0000-0000-0000000000ff', 'keep_existing')$$,
  'BK017', null, 'Staff resolving a conflict is BK017: only admin may');

select lives_ok(
  $$select api.create_hold_atomic(null, 'bob', 'c0000000-0000-0000-0000-000000000001',
      (current_date + 10) + time '16:00', (current_date + 10) + time '17:00', null, 'bob-s1')$$,
  'Staff may hold for a customer');

select tests.set_claims('admin', 'ada');

select throws_ok(
  $$select api.resolve_conflict('e0000000-0000-0000-0000-0000000000ff', 'keep_existing')$$,
  'BK008', null, 'An admin passes the role check and hears that the conflict does not exist (BK008)');

select tests.clear_authentication();

select * from finish();
rollback;
