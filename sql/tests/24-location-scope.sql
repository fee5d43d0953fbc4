-- Staff and admins may be limited to locations: the JWT claim "locations" lists the ids they may
-- see and change; a token without it is unlimited (organisation-wide).
begin;
set local timezone = 'UTC';
select plan(9);

\set here  'c4000000-0000-4000-8000-000000000001'
\set there 'c4000000-0000-4000-8000-000000000002'
select tests.create_location(:'here', 'Here');
select tests.create_location(:'there', 'There');

select tests.set_claims('staff', 'stella');
select is(booking.caller_locations(), null::uuid[], 'A staff token without a locations claim is unlimited');
select lives_ok(format('select booking.assert_location_access(%L)', :'there'),
                'so it may act at any location');

select set_config('request.jwt.claims',
                  json_build_object('sub', 'stella', 'role', 'staff', 'locations', json_build_array(:'here'))::text,
                  true);
select is(booking.caller_locations(), array[:'here'::uuid], 'The claim lists the locations a staff member may act at');
select lives_ok(format('select booking.assert_location_access(%L)', :'here'), 'Staff act at their own location');
select throws_ok(format('select booking.assert_location_access(%L)', :'there'), 'BK017', null,
                 'Staff of one location may not act at another');

select set_config('request.jwt.claims', '{"sub": "stella", "role": "staff", "locations": "everywhere"}', true);
select throws_ok('select booking.caller_locations()', 'BK014', null, 'A locations claim that is not an array is refused');
select set_config('request.jwt.claims', '{"sub": "stella", "role": "staff", "locations": ["nowhere"]}', true);
select throws_ok('select booking.caller_locations()', 'BK014', null, 'A locations claim that holds no uuids is refused');

select set_config('request.jwt.claims',
                  json_build_object('sub', 'carla', 'role', 'customer', 'locations', json_build_array(:'here'))::text,
                  true);
select is(booking.caller_locations(), null::uuid[], 'Customers are not limited to locations: they book anywhere');

select tests.clear_authentication();
select is(booking.caller_locations(), null::uuid[], 'A trusted SQL session is unlimited');

select * from finish();
rollback;
