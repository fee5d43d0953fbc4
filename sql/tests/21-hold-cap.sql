-- The live-hold cap: every path that creates a live hold counts against it (a new hold, an accepted
-- consensus offer); only an admin's explicit grant may go over it, and that is recorded.
begin;
set local timezone = 'UTC';
select plan(16);

-- Fixtures: a location with a cap of 3 live holds per customer; Ola cuts hair every day 09:00-17:00.
-- The blocker has booked 10:00 on five days, so each of eve's attempts at 10:00 is a conflict.
\set loc  'c0000000-0000-4000-8000-000000000001'
\set ola  'c1000000-0000-4000-8000-000000000001'
\set cut  'c2000000-0000-4000-8000-000000000001'
select tests.create_location(:'loc', 'Cap salon', p_max_live_holds_per_customer => 3);
select tests.create_staff(:'loc', 'Ola', :'ola');
select tests.create_service(:'loc', 'Cut', '1 hour', array[:'ola']::uuid[], :'cut', p_conflict_strategy => 'consensus');
select api.create_booking_atomic(:'cut', ('2031-07-0' || d || ' 10:00+00')::timestamptz, 'blocker', '{}')
from generate_series(1, 6) d;

create function pg_temp.attempt(p_day int) returns uuid language sql as $$
  select (api.create_hold_atomic(null, 'eve', 'c2000000-0000-4000-8000-000000000001',
            ('2031-07-0' || p_day || ' 10:00+00')::timestamptz, null, null, 'sess-eve')->>'conflict_id')::uuid $$;
create function pg_temp.live_holds(p_subject text) returns int language sql as $$
  select count(*)::int from booking.reservations r join booking.customers c on c.id = r.customer_id
  where c.subject = p_subject and r.status = 'held' and r.expires_at > now() $$;
create temp table c (day int primary key, id uuid);
-- day 6 is escalated to an admin (while eve holds nothing); days 1-5 offer alternatives
update booking.services set conflict_strategy = 'admin_intervention' where id = :'cut';
insert into c values (6, pg_temp.attempt(6));
update booking.services set conflict_strategy = 'consensus' where id = :'cut';
insert into c select d, pg_temp.attempt(d) from generate_series(1, 5) d;

select is((select count(*)::int from booking.conflicts where id in (select id from c)
           and status = 'awaiting_confirmation' and offered is not null), 5,
          'Five taken times: five conflicts await eve''s confirmation, each with an offer');

-- Accepting offers: each accepted offer is a live hold, and the cap counts them
select is(api.confirm_conflict((select id from c where day = 1), true)->>'success', 'true', 'The first accepted offer is held');
select is(api.confirm_conflict((select id from c where day = 2), true)->>'success', 'true', 'The second accepted offer is held');
select is(api.confirm_conflict((select id from c where day = 3), true)->>'success', 'true', 'The third accepted offer is held');
select is(pg_temp.live_holds('eve'), 3, 'Eve holds three slots, the cap');
select throws_ok(format('select api.confirm_conflict(%L, true)', (select id from c where day = 4)),
                 'BK016', null, 'Accepting a fourth offer at the cap is BK016');
select is(pg_temp.live_holds('eve'), 3, 'Eve still holds three slots');
select is((select status from booking.conflicts where id = (select id from c where day = 4)), 'awaiting_confirmation',
          'The refused acceptance leaves its conflict awaiting confirmation');
select throws_ok($q$select api.create_hold_atomic(null, 'eve', 'c2000000-0000-4000-8000-000000000001',
                    '2031-07-09 12:00+00', null, null, 'sess-eve')$q$,
                 'BK016', null, 'A new hold at the cap is BK016 too');

-- Once a hold is let go, the waiting offer can be accepted
select api.release_hold((select attempted_reservation_id from booking.conflicts where id = (select id from c where day = 1)),
                        'sess-eve');
select is(api.confirm_conflict((select id from c where day = 4), true)->>'success', 'true',
          'Under the cap again, the waiting offer can be accepted');
select is(pg_temp.live_holds('eve'), 3, 'and eve is back at three');

-- An admin's explicit grant may go over the cap: allowed, said in the result and on the conflict
select is((select status from booking.conflicts where id = (select id from c where day = 6)), 'open',
          'An escalated attempt waits for an admin while eve fills her cap');
update booking.reservations set status = 'cancelled', version = version + 1
 where id = (select holder_reservation_id from booking.conflicts where id = (select id from c where day = 6));
select tests.set_claims('admin', 'root-admin');
select api.resolve_conflict((select id from c where day = 6), 'grant_requester', 'regular customer') as g \gset
select tests.clear_authentication();
select is((:'g'::jsonb)->>'success', 'true', 'The admin grants the time to a customer at the cap');
select is((:'g'::jsonb)->>'cap_overridden', 'true', 'The result says the cap was overridden');
select is((select detail->>'cap_overridden' from booking.conflicts where id = (select id from c where day = 6)), 'true',
          'The conflict records that the cap was overridden');
select is((select actor_subject || '/' || actor_role from booking.audit_log
           where reservation_id = ((:'g'::jsonb)->>'hold_id')::uuid and action = 'insert'),
          'root-admin/admin', 'The audit log names the admin who created the hold over the cap');

select * from finish();
rollback;
