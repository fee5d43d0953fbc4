-- Calendar feeds: staff and admins make secret feed URLs for a resource, customers for their own
-- bookings; only the hash is stored; a feed shows confirmed bookings (not holds) and lately cancelled
-- ones, staff see the customer's name and nothing else personal, a customer sees only its own
-- bookings; a revoked token is unknown; the feed's version follows its events.
begin;
set local timezone = 'UTC';
select plan(46);

-- Fixtures: a studio in Warsaw where Anna does haircuts (09-17 every day), and another studio.
\set loc     '34000000-0000-4000-8000-000000000001'
\set other   '34000000-0000-4000-8000-000000000002'
\set anna    '34100000-0000-4000-8000-000000000001'
\set olga    '34100000-0000-4000-8000-000000000002'
\set haircut '34200000-0000-4000-8000-000000000001'
select tests.create_location(:'loc', 'Feed studio', 'Europe/Warsaw');
select tests.create_location(:'other', 'Other studio', 'UTC');
select tests.create_staff(:'loc', 'Anna', :'anna');
select tests.create_staff(:'other', 'Olga', :'olga');
select tests.create_service(:'loc', 'Haircut', '60 minutes', array[:'anna']::uuid[], :'haircut');
select tests.create_customer('feed-alice', p_display_name => 'Alice A.', p_email => 'alice@example.com',
                             p_phone => '+48 600 000 000');
select tests.create_customer('feed-bob', p_display_name => 'Bob B.');

-- Deferred event triggers fire at the end of each statement from here on, as they would at commit.
set constraints all immediate;

create function pg_temp.at(p_days int, p_hour int) returns timestamptz language sql as $$
  select ((current_date + p_days)::timestamp + make_interval(hours => p_hour)) at time zone 'Europe/Warsaw' $$;
create function pg_temp.book(p_user text, p_start timestamptz) returns uuid language sql as $$
  select (api.create_booking_atomic('34200000-0000-4000-8000-000000000001', p_start, p_user, '{}')->>'booking_id')::uuid $$;
create function pg_temp.item(p_feed jsonb, p_id uuid) returns jsonb language sql as $$
  select i from jsonb_array_elements(p_feed->'items') i where i->>'id' = p_id::text $$;

-- (a) Tokens: staff of the location make a resource feed URL; only its hash is stored
select tests.authenticate_at('staff', 'stan', array[:'loc']::uuid[]);
select api.create_resource_feed_token(:'anna') as rt \gset
select tests.clear_authentication();
select (:'rt'::jsonb)->>'token' as rtoken, (:'rt'::jsonb)->>'token_id' as rtoken_id \gset
select matches(:'rtoken'::text, '^r_[0-9a-f]{64}$', 'A resource feed token is r_ and 64 hex digits');
select is((:'rt'::jsonb)->>'path', '/v1/feeds/' || :'rtoken' || '.ics', 'The answer names the feed''s path');
select is((select token_hash from booking.feed_tokens where id = :'rtoken_id'), sha256(convert_to(:'rtoken'::text, 'UTF8')),
          'Only the sha256 of the token is stored');
select is((select count(*)::int from booking.feed_tokens t where row_to_json(t)::text like '%' || substr(:'rtoken', 3) || '%'), 0,
          'The token itself is stored nowhere in its row');
select tests.authenticate_at('staff', 'stan', array[:'other']::uuid[]);
select throws_ok(format('select api.create_resource_feed_token(%L)', :'anna'), 'BK017', null,
                 'Staff of another location cannot make a feed of the resource');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'feed-alice');
select throws_ok(format('select api.create_resource_feed_token(%L)', :'anna'), '42501', null,
                 'A customer cannot make a resource feed');
select api.create_customer_feed_token('feed-alice') as ct \gset
select throws_ok($$select api.create_customer_feed_token('feed-bob')$$, 'BK015', null,
                 'A customer cannot make a feed of another customer');
select tests.clear_authentication();
select (:'ct'::jsonb)->>'token' as ctoken, (:'ct'::jsonb)->>'token_id' as ctoken_id \gset
select matches(:'ctoken'::text, '^c_[0-9a-f]{64}$', 'A customer feed token is c_ and 64 hex digits');
select tests.authenticate_as('staff', 'stan');
select throws_ok($$select api.create_customer_feed_token('feed-alice')$$, '42501', null,
                 'Staff cannot make a customer''s feed (it would span locations)');
select tests.clear_authentication();
select api.create_customer_feed_token('feed-bob')->>'token' as btoken \gset

-- (b) What a resource feed shows
select api.feed_version(:'rtoken') as v0 \gset
select pg_temp.book('feed-alice', pg_temp.at(10, 10)) as b1 \gset
select pg_temp.book('feed-bob', pg_temp.at(11, 10)) as b2 \gset
select (api.create_hold_atomic(null, 'feed-bob', :'haircut', pg_temp.at(12, 10), null, null, 'sess-bob')->>'hold_id') as h1 \gset
select pg_temp.book('feed-alice', pg_temp.at(200, 10)) as far \gset
select cmp_ok(api.feed_version(:'rtoken'), '>', :'v0'::bigint, 'A booking on the resource changes its feed''s version');
select api.resource_feed(:'rtoken') as rf \gset
select is(jsonb_array_length((:'rf'::jsonb)->'items'), 2, 'The resource feed shows the two bookings in its window');
select is(pg_temp.item(:'rf', :'h1'), null, 'A hold is not in the feed');
select is(pg_temp.item(:'rf', :'far'), null, 'A booking beyond 180 days is not in the feed');
select is(pg_temp.item(:'rf', :'b1')->>'customer_name', 'Alice A.', 'Staff see the customer''s display name');
select ok(not (:'rf'::jsonb)::text like '%alice@example.com%' and not (:'rf'::jsonb)::text like '%600 000%'
          and not (:'rf'::jsonb)::text like '%feed-alice%',
          'No e-mail, phone or subject in a resource feed');
select is(pg_temp.item(:'rf', :'b1')->>'start_local', to_char(current_date + 10, 'YYYY-MM-DD') || 'T10:00:00',
          'Times come on the location''s clock too');
select is((:'rf'::jsonb)->>'time_zone', 'Europe/Warsaw', 'The feed names the location''s zone');
select is(pg_temp.item(:'rf', :'b1')->>'service_name', 'Haircut', 'Each booking names its service');

-- (c) A customer feed shows only the customer's own bookings, with no customer name
select api.customer_feed(:'ctoken') as cf \gset
select is(jsonb_array_length((:'cf'::jsonb)->'items'), 1, 'Alice''s feed shows her one booking in the window');
select is(pg_temp.item(:'cf', :'b2'), null, 'Bob''s booking never appears in Alice''s feed');
select ok(not (:'cf'::jsonb)::text like '%Bob%', 'Nothing of Bob in Alice''s feed');
select is(pg_temp.item(:'cf', :'b1')->>'location_name', 'Feed studio', 'A customer''s booking names its location');
select throws_ok(format('select api.resource_feed(%L)', :'ctoken'), 'BK038', null,
                 'A customer token does not open a resource feed');
select throws_ok(format('select api.customer_feed(%L)', :'rtoken'), 'BK038', null,
                 'A resource token does not open a customer feed');
select throws_ok($$select api.customer_feed('c_nonsense')$$, 'BK038', null, 'A malformed token is unknown');

-- (d) Reschedule and cancel: the version follows, cancelled bookings stay a week as cancelled
select api.feed_version(:'ctoken') as v1 \gset
select api.reschedule_booking(:'b1', pg_temp.at(10, 12), null, null);
select cmp_ok(api.feed_version(:'ctoken'), '>', :'v1'::bigint, 'A reschedule changes the customer feed''s version');
select is((pg_temp.item(api.customer_feed(:'ctoken'), :'b1')->>'version')::int,
          (pg_temp.item(:'cf', :'b1')->>'version')::int + 1, 'A reschedule bumps the booking''s version (SEQUENCE)');
select api.cancel_booking(:'b1', 'ill', null);
select is(pg_temp.item(api.customer_feed(:'ctoken'), :'b1')->>'status', 'cancelled',
          'A cancelled booking stays in the feed as cancelled');
select is(pg_temp.item(api.resource_feed(:'rtoken'), :'b1')->>'status', 'cancelled',
          'and in the resource''s feed too');
update booking.reservations set ended_at = now() - interval '8 days' where id = :'b1';
select is(pg_temp.item(api.customer_feed(:'ctoken'), :'b1'), null, 'A week after its cancellation it is gone');
select is(api.feed_version(:'rtoken'), api.feed_version(:'rtoken'), 'The version stays while nothing happens');

-- (e) Listing: the live tokens, never the secrets, to whom may revoke them
select tests.authenticate_at('staff', 'stan', array[:'loc']::uuid[]);
select is(api.resource_feed_tokens(:'anna')->'items'->0->>'token_id', :'rtoken_id',
          'Staff of the location list the resource''s live tokens');
select ok(not api.resource_feed_tokens(:'anna')::text like '%' || substr(:'rtoken', 3) || '%',
          'The list never shows a token');
select tests.clear_authentication();
select tests.authenticate_at('staff', 'stan', array[:'other']::uuid[]);
select throws_ok(format('select api.resource_feed_tokens(%L)', :'anna'), 'BK017', null,
                 'Staff of another location list nothing of it');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'feed-alice');
select is(api.customer_feed_tokens('feed-alice')->'items'->0->>'token_id', :'ctoken_id',
          'A customer lists its own live tokens');
select throws_ok($$select api.customer_feed_tokens('feed-bob')$$, 'BK015', null,
                 'and nobody else''s');
select tests.clear_authentication();

-- (f) Revoking: by id, only by who may see the token; a revoked token is unknown
select tests.authenticate_as('customer', 'feed-alice');
select throws_ok(format('select api.revoke_feed_token(%L)', :'rtoken_id'), 'BK037', null,
                 'A customer cannot revoke (or see) a resource token');
select tests.clear_authentication();
select tests.authenticate_as('customer', 'feed-bob');
select throws_ok(format('select api.revoke_feed_token(%L)', :'ctoken_id'), 'BK037', null,
                 'A customer cannot revoke another customer''s token');
select tests.clear_authentication();
select tests.authenticate_at('staff', 'stan', array[:'other']::uuid[]);
select throws_ok(format('select api.revoke_feed_token(%L)', :'rtoken_id'), 'BK017', null,
                 'Staff of another location cannot revoke the resource''s token');
select tests.clear_authentication();
select tests.authenticate_at('staff', 'stan', array[:'loc']::uuid[]);
select isnt(api.revoke_feed_token(:'rtoken_id')->>'revoked_at', null, 'Staff of the location revoke the token');
select is(jsonb_array_length(api.resource_feed_tokens(:'anna')->'items'), 0, 'A revoked token is no longer listed');
select tests.clear_authentication();
select throws_ok(format('select api.resource_feed(%L)', :'rtoken'), 'BK038', null, 'A revoked token opens no feed');
select throws_ok(format('select api.feed_version(%L)', :'rtoken'), 'BK038', null, 'nor reads its version');

-- (g) At most 10 live tokens per customer
select api.create_customer_feed_token('feed-bob') from generate_series(1, 9);
select throws_ok($$select api.create_customer_feed_token('feed-bob')$$, 'BK039', null,
                 'An eleventh live token is refused');


-- (h) An erased customer's feeds are gone with its personal data
select is(jsonb_typeof(api.customer_feed(:'btoken')), 'object', 'Bob''s feed opens before his erasure');
select api.erase_customer('feed-bob');
select throws_ok(format('select api.customer_feed(%L)', :'btoken'), 'BK038', null,
                 'An erased customer''s feed URL answers like an unknown one');

select * from finish();
rollback;
