-- Demo catalogue: one Warsaw salon, three stylists and a massage room, four services, Mon-Sat hours.
-- Fixed ids so the README's tour can name them.

insert into booking.locations (id, name, time_zone) values
  ('10000000-0000-4000-8000-000000000001', 'Studio Mokotów', 'Europe/Warsaw');

insert into booking.resources (id, location_id, kind, name) values
  ('20000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'staff', 'Anna'),
  ('20000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', 'staff', 'Bartek'),
  ('20000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000001', 'staff', 'Celina'),
  ('20000000-0000-4000-8000-000000000004', '10000000-0000-4000-8000-000000000001', 'room', 'Massage room');

insert into booking.services (id, location_id, name, duration, buffer_before, buffer_after, slot_step,
                              min_notice, max_advance, hold_ttl, price) values
  ('30000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'Manicure',
   '60 minutes', '0', '10 minutes', '15 minutes', '1 hour', '60 days', '10 minutes', 120.00),
  ('30000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', 'Haircut',
   '30 minutes', '0', '0', '15 minutes', '1 hour', '60 days', '10 minutes', 90.00),
  ('30000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000001', 'Massage',
   '45 minutes', '5 minutes', '15 minutes', '15 minutes', '2 hours', '60 days', '10 minutes', 200.00),
  ('30000000-0000-4000-8000-000000000004', '10000000-0000-4000-8000-000000000001', 'Colouring',
   '90 minutes', '0', '15 minutes', '30 minutes', '1 day', '60 days', '15 minutes', 260.00);

insert into booking.service_resources (location_id, service_id, resource_id, preference) values
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001', 1),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000003', 2),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000002', '20000000-0000-4000-8000-000000000002', 1),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000002', '20000000-0000-4000-8000-000000000003', 2),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000003', '20000000-0000-4000-8000-000000000004', 1),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000004', '20000000-0000-4000-8000-000000000002', 1),
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000004', '20000000-0000-4000-8000-000000000003', 2);

-- Monday to Saturday, 09:00-18:00 for everyone; Saturday ends at 14:00.
insert into booking.working_hours (location_id, resource_id, weekday, hours)
select '10000000-0000-4000-8000-000000000001', r.id, d,
       case when d = 6 then booking.timerange('09:00', '14:00') else booking.timerange('09:00', '18:00') end
from booking.resources r, generate_series(1, 6) d
where r.location_id = '10000000-0000-4000-8000-000000000001';
