"""The SQL the engine sends for the catalogue (gateway/services/engine.py, "catalogue"): the public
reads as JSON, and the one change made to what the functions return: the intervals of a service
given in minutes (`duration` -> `duration_minutes`), the unit HTTP requests use."""

from __future__ import annotations

from dataclasses import dataclass

# the interval settings of a service, as the functions name them (p_<name>, and row keys)
SERVICE_INTERVALS = (
    "duration",
    "buffer_before",
    "buffer_after",
    "slot_step",
    "min_notice",
    "max_advance",
    "hold_ttl",
)
OFFERED_INTERVALS = ("duration", "buffer_before", "buffer_after", "slot_step")


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """A service's settings as a request gives them: intervals in whole minutes; None keeps the
    current value (a change) or takes the function's default (a new service)."""

    name: str | None = None
    duration: int | None = None
    buffer_before: int | None = None
    buffer_after: int | None = None
    slot_step: int | None = None
    min_notice: int | None = None
    max_advance: int | None = None
    hold_ttl: int | None = None
    conflict_strategy: str | None = None
    price: float | None = None
    currency: str | None = None


def minutes(interval: str) -> str:
    """An interval expression as minutes (a JSON number: 45, not 45.000000)."""
    return f"(extract(epoch from {interval}) / 60)::float8"


def _minutes_object(source: str, names: tuple[str, ...]) -> str:
    pairs = ", ".join(f"'{n}_minutes', {minutes(source.format(n=n))}" for n in names)
    return f"jsonb_build_object({pairs})"


def service_row(call: str) -> str:
    """A statement answering the service row that `call` returns, its intervals in minutes."""
    removed = ", ".join(f"'{n}'" for n in SERVICE_INTERVALS)
    converted = _minutes_object("(r->>'{n}')::interval", SERVICE_INTERVALS)
    # in FROM, the function runs once however often the row is named
    return f"select (r - array[{removed}]::text[]) || {converted} from {call} as c(r)"


# `p_<name> => <minutes> as an interval` for every interval setting (NULL stays NULL)
INTERVAL_ARGUMENTS = ", ".join(
    f"p_{n} => make_interval(mins => %({n})s::int)" for n in SERVICE_INTERVALS
)


def service_params(settings: ServiceSettings) -> dict[str, object]:
    """The statement parameters of a service's settings, by the names the SQL above uses."""
    return {
        "name": settings.name,
        **{n: getattr(settings, n) for n in SERVICE_INTERVALS},
        "strategy": settings.conflict_strategy,
        "price": settings.price,
        "currency": settings.currency,
    }


_OFFER = (
    "'id', s.id, 'name', s.name, 'price', s.price, 'currency', s.currency,"
    " 'time_zone', s.time_zone, 'next_available_day', s.next_available_day"
)

LIST_LOCATIONS = """
select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'name', l.name, 'time_zone', l.time_zone)
                          order by l.n), '[]'::jsonb)
from api.list_locations() with ordinality l(id, name, time_zone, n)
"""

_OFFERED_MINUTES = _minutes_object("s.{n}", OFFERED_INTERVALS)

LOCATION_SERVICES = f"""
select coalesce(jsonb_agg(jsonb_build_object({_OFFER}) || {_OFFERED_MINUTES} order by s.n),
                '[]'::jsonb)
from api.location_services(p_location_id => %(location)s::uuid)
     with ordinality s(id, name, duration, buffer_before, buffer_after, price, currency, time_zone,
                       slot_step, next_available_day, n)
"""

GET_SERVICE = f"""
select jsonb_build_object({_OFFER}, 'location_id', s.location_id)
       || {_OFFERED_MINUTES}
from api.get_service(p_service_id => %(service)s::uuid) s
"""

SERVICE_RESOURCES = """
select coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind)
                          order by r.n), '[]'::jsonb)
from api.service_resources(p_service_id => %(service)s::uuid) with ordinality r(id, name, kind, n)
"""
