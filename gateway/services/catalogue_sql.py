"""The SQL the engine sends for the catalogue (gateway/services/engine.py, "catalogue"): the public
reads as JSON, and the one change made to what the functions return: the intervals of a service
and of its further pools given in minutes (`duration` -> `duration_minutes`, `starts_after` ->
`starts_after_minutes`), the unit HTTP requests use."""

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
    max_seats: int | None = None


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
        "max_seats": settings.max_seats,
    }


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """A further pool as a request gives it: offsets in whole minutes (lasts None: until the
    end), resources in preference order."""

    pool: int
    name: str
    starts_after: int
    lasts: int | None
    resource_ids: list[str]

    def as_api_json(self) -> dict[str, object]:
        """The pool as api.set_service_pools takes it: intervals as text."""
        return {
            "pool": self.pool,
            "name": self.name,
            "starts_after": f"{self.starts_after} minutes",
            "lasts": None if self.lasts is None else f"{self.lasts} minutes",
            "resource_ids": self.resource_ids,
        }


def pools_in_minutes(pools: str) -> str:
    """A JSON array of pools as api.set_service_pools answers them (`pools`, a jsonb expression)
    with starts_after and lasts in minutes."""
    starts_after = minutes("(p->>'starts_after')::interval")
    lasts = minutes("(p->>'lasts')::interval")
    return (
        "coalesce((select jsonb_agg((p - 'starts_after' - 'lasts') || jsonb_build_object("
        f"'starts_after_minutes', {starts_after}, 'lasts_minutes', {lasts}) order by n)"
        f" from jsonb_array_elements({pools}) with ordinality x(p, n)), '[]'::jsonb)"
    )


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

_SERVICE_POOLS = (
    "(select coalesce(jsonb_agg(jsonb_build_object('pool', p.pool, 'name', p.name,"
    f" 'starts_after_minutes', {minutes('p.starts_after')},"
    f" 'lasts_minutes', {minutes('p.lasts')}, 'resource_ids', to_jsonb(p.resource_ids))"
    " order by p.n), '[]'::jsonb)"
    " from api.service_pools(p_service_id => %(service)s::uuid) with ordinality"
    " p(pool, name, starts_after, lasts, resource_ids, n))"
)

GET_SERVICE = f"""
select jsonb_build_object({_OFFER}, 'location_id', s.location_id, 'pools', {_SERVICE_POOLS})
       || {_OFFERED_MINUTES}
from api.get_service(p_service_id => %(service)s::uuid) s
"""

SERVICE_RESOURCES = """
select coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind,
                                             'pool', r.pool)
                          order by r.n), '[]'::jsonb)
from api.service_resources(p_service_id => %(service)s::uuid)
     with ordinality r(id, name, kind, pool, n)
"""

SET_SERVICE_POOLS = f"""
select (r - 'pools') || jsonb_build_object('pools', {pools_in_minutes("r->'pools'")})
from api.set_service_pools(p_service_id => %(id)s::uuid, p_pools => %(pools)s::jsonb,
                           p_expected_version => %(version)s::bigint) as c(r)
"""
