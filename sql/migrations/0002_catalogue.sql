-- Catalogue: locations, resources, services, who performs what, working hours, exceptions, customers.
-- depends: 0001_foundation

create table booking.locations (
    id          uuid        not null default gen_random_uuid() primary key,
    name        text        not null check (length(name) between 1 and 200),
    time_zone   text        not null default 'Europe/Warsaw' check (booking.is_valid_time_zone(time_zone)),
    created_at  timestamptz not null default now()
);
comment on table booking.locations is
  'A salon or studio. The distribution key of the schema: every per-location table carries location_id.';

create table booking.resources (
    id           uuid        not null default gen_random_uuid(),
    location_id  uuid        not null references booking.locations (id),
    kind         text        not null default 'staff' check (kind in ('staff', 'room')),
    name         text        not null check (length(name) between 1 and 200),
    active       boolean     not null default true,
    created_at   timestamptz not null default now(),
    primary key (location_id, id)
);
create index resources_id on booking.resources (id);
comment on table booking.resources is 'Staff members and rooms that a service occupies.';

create table booking.services (
    id                 uuid          not null default gen_random_uuid(),
    location_id        uuid          not null references booking.locations (id),
    name               text          not null check (length(name) between 1 and 200),
    duration           interval      not null check (duration > interval '0' and duration <= interval '12 hours'),
    buffer_before      interval      not null default interval '0' check (buffer_before >= interval '0'),
    buffer_after       interval      not null default interval '0' check (buffer_after >= interval '0'),
    slot_step          interval      not null default interval '15 minutes'
                                     check (slot_step >= interval '5 minutes' and slot_step <= interval '1 day'),
    min_notice         interval      not null default interval '0' check (min_notice >= interval '0'),
    max_advance        interval      not null default interval '90 days' check (max_advance > interval '0'),
    hold_ttl           interval      not null default interval '10 minutes'
                                     check (hold_ttl > interval '0' and hold_ttl <= interval '1 day'),
    conflict_strategy  text          not null default 'first_come_first_serve'
                                     check (conflict_strategy in ('first_come_first_serve', 'last_wins',
                                            'priority_based', 'rollback_all', 'consensus',
                                            'arbitration', 'admin_intervention')),
    price              numeric(10,2) not null default 0 check (price >= 0),
    currency           char(3)       not null default 'PLN',
    active             boolean       not null default true,
    created_at         timestamptz   not null default now(),
    primary key (location_id, id)
);
create index services_id on booking.services (id);
comment on table booking.services is
  'What a customer books: duration, buffers, the slot grid, notice and advance limits, hold TTL, conflict strategy.';

create table booking.service_resources (
    location_id  uuid     not null,
    service_id   uuid     not null,
    resource_id  uuid     not null,
    preference   smallint not null default 100,
    primary key (location_id, service_id, resource_id),
    foreign key (location_id, service_id) references booking.services (location_id, id) on delete cascade,
    foreign key (location_id, resource_id) references booking.resources (location_id, id) on delete cascade
);
create index service_resources_resource on booking.service_resources (location_id, resource_id);
comment on table booking.service_resources is
  'Which resources can perform a service; "any staff" tries them by ascending preference.';

create table booking.working_hours (
    id           uuid              not null default gen_random_uuid(),
    location_id  uuid              not null,
    resource_id  uuid              not null,
    weekday      smallint          not null check (weekday between 1 and 7),
    hours        booking.timerange not null check (not isempty(hours) and lower(hours) is not null
                                                   and upper(hours) is not null),
    primary key (location_id, id),
    foreign key (location_id, resource_id) references booking.resources (location_id, id) on delete cascade,
    exclude using gist (location_id with =, resource_id with =, weekday with =, hours with &&)
);
comment on table booking.working_hours is
  'Weekly working hours per resource in the location''s local wall-clock time; weekday is ISO (1 = Monday).';

create table booking.schedule_exceptions (
    id           uuid        not null default gen_random_uuid(),
    location_id  uuid        not null references booking.locations (id),
    resource_id  uuid,
    kind         text        not null check (kind in ('time_off', 'closure', 'extra_hours')),
    period       tstzrange   not null check (not isempty(period) and lower(period) is not null
                                             and upper(period) is not null),
    note         text,
    primary key (location_id, id),
    foreign key (location_id, resource_id) references booking.resources (location_id, id) on delete cascade,
    check (kind = 'closure' or resource_id is not null)
);
create index schedule_exceptions_period on booking.schedule_exceptions using gist (location_id, period);
comment on table booking.schedule_exceptions is
  'Time off and extra hours of one resource, or a closure of the whole location (resource_id NULL) or one resource.';

create table booking.customers (
    id            uuid        not null default gen_random_uuid() primary key,
    subject       text        not null unique check (length(subject) between 1 and 200),
    display_name  text,
    email         text,
    phone         text,
    priority      integer     not null default 0,
    created_at    timestamptz not null default now(),
    erased_at     timestamptz
);
comment on table booking.customers is
  'Reference table shared by all locations: one row per external auth subject (JWT sub). Holds personal data.';
