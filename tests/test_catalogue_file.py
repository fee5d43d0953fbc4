"""`booking catalogue apply` and `export`: a whole location as one YAML or JSON file.

Each database test gets its own copy of a freshly migrated, empty database, and runs the real
command in a subprocess where it matters (exit code, what it prints). "Nothing written" is
checked on everything a write leaves behind: the catalogue tables with their versions, the
catalogue audit trail and booking.events.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from gateway.cli.catalogue.durations import Duration
from gateway.cli.catalogue.errors import CatalogueError
from gateway.cli.catalogue.files import encode_catalogue, parse_catalogue
from gateway.cli.catalogue.references import resolve_references
from gateway.cli.demo_data import load_demo_data
from gateway.cli.migrate import migrate
from gateway.paths import DEMO_CATALOGUE_FILE
from tests.support.database import server_url, with_dbname

LOCATION = "10000000-0000-4000-8000-000000000001"
ANNA = "20000000-0000-4000-8000-000000000001"
HAIRCUT = "30000000-0000-4000-8000-000000000002"
CATALOGUE_TABLES = (
    "locations",
    "resources",
    "services",
    "service_resources",
    "service_pools",
    "working_hours",
)

# The demo salon as sql/demo/demo_data.sql inserted it before the demo became a catalogue file
# (removed with that change; kept here, verbatim, as the reference the file must reproduce), and
# the wash station Colouring needs for its first 20 minutes, added with multi-resource services.
DEMO_DATA_SQL = """
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

insert into booking.resources (id, location_id, kind, name) values
  ('20000000-0000-4000-8000-000000000005', '10000000-0000-4000-8000-000000000001', 'room', 'Wash station');
insert into booking.service_pools (location_id, service_id, pool, name, starts_after, lasts) values
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000004', 2, 'Wash station', '0', '20 minutes');
insert into booking.service_resources (location_id, service_id, resource_id, preference, pool) values
  ('10000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000004', '20000000-0000-4000-8000-000000000005', 1, 2);

-- Monday to Saturday, 09:00-18:00 for everyone; Saturday ends at 14:00.
insert into booking.working_hours (location_id, resource_id, weekday, hours)
select '10000000-0000-4000-8000-000000000001', r.id, d,
       case when d = 6 then booking.timerange('09:00', '14:00') else booking.timerange('09:00', '18:00') end
from booking.resources r, generate_series(1, 6) d
where r.location_id = '10000000-0000-4000-8000-000000000001';
"""  # noqa: E501


# --- databases ---------------------------------------------------------------------------------


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="module")
def empty_template() -> Iterator[str]:
    """A migrated database without any catalogue, copied for each test."""
    admin = server_url()
    name = f"booking_catfile_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        migrate(with_dbname(admin, name))
        with psycopg.connect(admin, autocommit=True) as conn:  # nobody may be connected to a
            conn.execute(  # template while it is copied, autovacuum included
                sql.SQL("alter database {} allow_connections false").format(sql.Identifier(name))
            )
        yield name
    finally:
        _drop(admin, name)


@pytest.fixture
def new_database(empty_template: str) -> Iterator[Any]:
    """A factory of empty migrated databases (their URLs), all dropped after the test."""
    admin = server_url()
    made: list[str] = []

    def make() -> str:
        name = f"{empty_template}_{secrets.token_hex(3)}"
        with psycopg.connect(admin, autocommit=True) as conn:
            for attempt in range(50):  # an autovacuum worker may still be leaving the template
                try:
                    conn.execute(
                        sql.SQL("create database {} template {}").format(
                            sql.Identifier(name), sql.Identifier(empty_template)
                        )
                    )
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 49:
                        raise
                    time.sleep(0.2)
        made.append(name)
        return with_dbname(admin, name)

    try:
        yield make
    finally:
        for name in made:
            _drop(admin, name)


@pytest.fixture
def database(new_database: Any) -> str:
    url: str = new_database()
    return url


# --- what a database holds -------------------------------------------------------------------


def catalogue_rows(url: str, *, versions: bool = False) -> dict[str, list[str]]:
    """Every row of the catalogue tables as sorted JSON: without timestamps, without the
    generated ids of hours and exceptions, and without versions unless asked for."""
    dropped = ["created_at", "updated_at"] + ([] if versions else ["version"])
    found: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        for table in (*CATALOGUE_TABLES, "schedule_exceptions"):
            drop = dropped + (["id"] if table in ("working_hours", "schedule_exceptions") else [])
            rows = conn.execute(
                sql.SQL("select (to_jsonb(t) - {}::text[])::text from booking.{} t").format(
                    sql.Literal(drop), sql.Identifier(table)
                )
            ).fetchall()
            found[table] = sorted(r[0] for r in rows)
    return found


def written(url: str) -> dict[str, Any]:
    """Everything a write leaves: the catalogue with versions and timestamps, the hours' ids,
    the audit trail and the events."""
    with psycopg.connect(url) as conn:

        def rows(query: str) -> list[Any]:
            return sorted(str(r) for r in conn.execute(query).fetchall())

        return {
            **{t: rows(f"select * from booking.{t}") for t in CATALOGUE_TABLES},
            "schedule_exceptions": rows("select * from booking.schedule_exceptions"),
            "audit": rows("select id, entity, entity_id, action from booking.catalogue_audit"),
            "events": rows("select id, type, location_id from booking.events"),
        }


def events(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select type, location_id::text from booking.events order by id")
        return [(r[0], r[1]) for r in rows.fetchall()]


# --- the command ---------------------------------------------------------------------------------


def booking(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def apply(url: str, path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return booking(url, "catalogue", "apply", str(path), *more)


def demo_text() -> str:
    return DEMO_CATALOGUE_FILE.read_text(encoding="utf-8")


def changed_demo(tmp_path: Path, old: str, new: str, name: str = "salon.yaml") -> Path:
    """The demo file with one piece of text replaced (which must be there)."""
    text = demo_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- the demo salon ----------------------------------------------------------------------------


def test_the_demo_file_gives_exactly_the_catalogue_the_demo_sql_gave(new_database: Any) -> None:
    from_file, from_sql = new_database(), new_database()
    assert load_demo_data(from_file) is True
    with psycopg.connect(from_sql) as conn:
        conn.execute(DEMO_DATA_SQL.encode())
    expected = catalogue_rows(from_sql)
    assert len(expected["working_hours"]) == 30 and len(expected["service_resources"]) == 8
    assert len(expected["service_pools"]) == 1
    assert catalogue_rows(from_file) == expected


def test_the_demo_salon_is_applied_only_to_a_database_without_a_location(database: str) -> None:
    with psycopg.connect(database) as conn:
        conn.execute("select api.create_location('Elsewhere', 'Europe/Berlin')")
    before = written(database)
    assert load_demo_data(database) is False
    assert written(database) == before
    done = booking(database, "demo-data")
    assert done.returncode == 0, done.stderr
    assert "demo data already present" in done.stdout
    assert written(database) == before


def test_demo_data_command_applies_the_demo_file_through_the_api(database: str) -> None:
    done = booking(database, "demo-data")
    assert done.returncode == 0, done.stderr
    assert "demo data loaded" in done.stdout
    with psycopg.connect(database) as conn:
        audited = conn.execute(
            "select entity, count(*) from booking.catalogue_audit group by entity order by 1"
        ).fetchall()
    # written by the api functions, so audited: one location, 5 resources with their hours,
    # 4 services with their eligible resources, and Colouring's wash station (its resources too)
    assert audited == [
        ("location", 1),
        ("resource", 5),
        ("service", 4),
        ("service_resources", 5),
        ("working_hours", 5),
    ]
    assert events(database) == [("catalogue:changed", LOCATION)]


# --- apply, twice -------------------------------------------------------------------------------


def test_applying_the_same_file_twice_writes_nothing_the_second_time(database: str) -> None:
    first = apply(database, DEMO_CATALOGUE_FILE)
    assert first.returncode == 0, first.stderr
    assert "location 'Studio Mokotów': created" in first.stdout
    assert first.stdout.strip().endswith("15 change(s) applied")
    before = written(database)
    assert before["events"] and before["audit"]

    second = apply(database, DEMO_CATALOGUE_FILE)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "no change"
    assert written(database) == before  # versions, timestamps, hour rows, audit, events


def test_the_same_file_in_json_is_the_same_catalogue(database: str, tmp_path: Path) -> None:
    assert apply(database, DEMO_CATALOGUE_FILE).returncode == 0
    before = written(database)
    as_json = tmp_path / "salon.json"
    catalogue = parse_catalogue(DEMO_CATALOGUE_FILE.read_bytes(), "yaml")
    as_json.write_bytes(encode_catalogue(catalogue, "json"))
    assert json.loads(as_json.read_text())["services"][0]["duration"] == "1 hour"
    done = apply(database, as_json)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no change"
    assert written(database) == before


# --- export -------------------------------------------------------------------------------------

# changes made through the API, not by a file, that an export must carry exactly
BEYOND_THE_DEMO = """
select api.update_service('30000000-0000-4000-8000-000000000004', p_max_advance => '3 months',
                          p_min_notice => '24 hours', p_buffer_before => 'PT1M30S');
select api.update_service('30000000-0000-4000-8000-000000000003', p_active => false,
  p_conflict_strategy => 'last_wins', p_price => 199.99, p_currency => 'eur');
select api.create_resource('10000000-0000-4000-8000-000000000001', 'Anna', 'equipment',
                           '20000000-0000-4000-8000-000000000006', p_capacity => 3);
select api.set_working_hours('20000000-0000-4000-8000-000000000001',
  '[{"weekday": 1, "start": "08:00", "end": "12:00"},
    {"weekday": 1, "start": "13:00", "end": "24:00"},
    {"weekday": 7, "start": "10:00", "end": "11:30"}]');
select api.set_service_resources('30000000-0000-4000-8000-000000000001',
  array['20000000-0000-4000-8000-000000000003', '20000000-0000-4000-8000-000000000006',
        '20000000-0000-4000-8000-000000000001']::uuid[]);
select api.update_service('30000000-0000-4000-8000-000000000002', p_max_seats => 2);
select api.set_service_pools('30000000-0000-4000-8000-000000000002',
  '[{"pool": 4, "name": "Chair", "starts_after": "10 minutes",
     "resource_ids": ["20000000-0000-4000-8000-000000000006",
                      "20000000-0000-4000-8000-000000000004"]}]');
select api.update_resource('20000000-0000-4000-8000-000000000002', p_active => false);
select api.add_schedule_exception('10000000-0000-4000-8000-000000000001', 'closure',
  '2031-12-24 00:00+01', '2031-12-27 00:00+01', p_note => 'Christmas');
select api.add_schedule_exception('10000000-0000-4000-8000-000000000001', 'time_off',
  '2031-07-01 09:00+02', '2031-07-15 18:00+02', '20000000-0000-4000-8000-000000000003');
select api.update_location('10000000-0000-4000-8000-000000000001',
  p_max_live_holds_per_customer => 5);
"""


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_then_apply_to_an_empty_database_gives_the_same_catalogue(
    new_database: Any, tmp_path: Path, suffix: str
) -> None:
    source, target = new_database(), new_database()
    assert load_demo_data(source)
    with psycopg.connect(source) as conn:
        conn.execute(BEYOND_THE_DEMO.encode())
    exported = tmp_path / f"salon{suffix}"
    done = booking(source, "catalogue", "export", "--location", LOCATION, str(exported))
    assert done.returncode == 0, done.stderr
    text = exported.read_text(encoding="utf-8")
    assert "3 months" in text and "24 hours" in text and "1 minute 30 seconds" in text
    exported_catalogue = parse_catalogue(text.encode(), "json" if suffix == ".json" else "yaml")
    haircut = next(s for s in exported_catalogue.services if str(s.id) == HAIRCUT)
    chair = [(p.pool, p.name, str(p.starts_after), p.lasts) for p in haircut.pools]
    assert haircut.max_seats == 2 and chair == [(4, "Chair", "10 minutes", None)]
    assert {r.name: r.capacity for r in exported_catalogue.resources}["Massage room"] == 1
    assert max(r.capacity for r in exported_catalogue.resources) == 3

    into_empty = apply(target, exported)
    assert into_empty.returncode == 0, into_empty.stderr
    assert catalogue_rows(target) == catalogue_rows(source)
    assert len(catalogue_rows(target)["schedule_exceptions"]) == 2

    before = written(source)
    back = apply(source, exported)
    assert back.returncode == 0, back.stderr
    assert back.stdout.strip() == "no change"
    assert written(source) == before


def test_export_without_a_file_prints_yaml_and_an_unknown_location_exits_1(database: str) -> None:
    assert load_demo_data(database)
    done = booking(database, "catalogue", "export", "--location", LOCATION)
    assert done.returncode == 0, done.stderr
    assert parse_catalogue(done.stdout.encode(), "yaml").location.name == "Studio Mokotów"
    unknown = booking(database, "catalogue", "export", "--location", ANNA)
    assert unknown.returncode == 1
    assert f"no location {ANNA}" in unknown.stderr


# --- a change in the file -----------------------------------------------------------------------


CELINA = "20000000-0000-4000-8000-000000000003"
CELINA_SHARED_HOURS = "    name: Celina\n    kind: staff\n    hours: *salon_hours\n"
CELINA_OWN_HOURS = """    name: Celina
    kind: staff
    hours:
      monday: ["09:00-18:00"]
      tuesday: ["10:00-19:00"]
      wednesday: ["09:00-18:00"]
      thursday: ["09:00-18:00"]
      friday: ["09:00-18:00"]
      saturday: ["09:00-14:00"]
"""


def test_a_change_in_the_file_applies_exactly_that_change_with_one_event(
    database: str, tmp_path: Path
) -> None:
    assert load_demo_data(database)
    before = catalogue_rows(database, versions=True)
    events_before = events(database)
    path = changed_demo(tmp_path, "name: Haircut", "name: Men's haircut")
    path.write_text(path.read_text().replace(CELINA_SHARED_HOURS, CELINA_OWN_HOURS))

    done = apply(database, path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        'service "Men\'s haircut": changed',
        "resource 'Celina': working hours changed",
        "2 change(s) applied",
    ]
    after = catalogue_rows(database, versions=True)
    came = {t: set(after[t]) - set(before[t]) for t in after}
    gone = {t: set(before[t]) - set(after[t]) for t in after}
    one_row_each = {"resources": 1, "services": 1, "working_hours": 1}
    assert {t: len(rows) for t, rows in came.items() if rows} == one_row_each
    assert {t: len(rows) for t, rows in gone.items() if rows} == one_row_each
    service = json.loads(came["services"].pop())
    assert service["id"] == HAIRCUT and service["name"] == "Men's haircut"
    assert service["version"] == 3  # created, given its resources, renamed
    assert json.loads(gone["services"].pop()) == {**service, "name": "Haircut", "version": 2}
    celina = json.loads(came["resources"].pop())
    assert celina["id"] == CELINA and celina["version"] == 3  # created, hours set, hours changed
    assert json.loads(gone["resources"].pop()) == {**celina, "version": 2}
    tuesday = {"location_id": LOCATION, "resource_id": CELINA, "weekday": 2}
    assert json.loads(gone["working_hours"].pop()) == {**tuesday, "hours": "[09:00:00,18:00:00)"}
    assert json.loads(came["working_hours"].pop()) == {**tuesday, "hours": "[10:00:00,19:00:00)"}
    assert events(database) == [*events_before, ("catalogue:changed", LOCATION)]


COLOURING_POOLS = """    resources: [Bartek, Celina]
    pools:                     # besides the stylist: the wash station for the first 20 minutes
      - name: Wash station
        lasts: 20 minutes
        resources: [Wash station]
"""


def test_a_resource_moves_between_the_pools_of_a_service(database: str, tmp_path: Path) -> None:
    """A resource is in one pool of a service: a file that moves the wash station among those
    who perform Colouring, or the 30 minutes of Colouring before a pool that starts at 45, is
    applied by taking the pools away first and setting the file's after the resources."""
    assert load_demo_data(database)
    moved = changed_demo(
        tmp_path, COLOURING_POOLS, "    resources: [Bartek, Wash station, Celina]\n", "moved.yaml"
    )
    done = apply(database, moved)
    assert done.returncode == 0, done.stderr
    assert "service 'Colouring': resources changed" in done.stdout
    assert "service 'Colouring': pools changed" in done.stdout
    with psycopg.connect(database) as conn:
        pools = conn.execute(
            "select resource_id::text, pool, preference from booking.service_resources"
            " where service_id = '30000000-0000-4000-8000-000000000004' order by pool, preference"
        ).fetchall()
    wash = "20000000-0000-4000-8000-000000000005"
    assert [(r, p) for r, p, _ in pools] == [
        ("20000000-0000-4000-8000-000000000002", 1),
        (wash, 1),
        (CELINA, 1),
    ]
    back = apply(database, DEMO_CATALOGUE_FILE)
    assert back.returncode == 0, back.stderr
    assert apply(database, DEMO_CATALOGUE_FILE).stdout.strip() == "no change"

    later = COLOURING_POOLS.replace("lasts: 20 minutes", "starts_after: 45 minutes")
    late = changed_demo(tmp_path, COLOURING_POOLS, later, "late.yaml")
    assert apply(database, late).returncode == 0
    shorter = tmp_path / "shorter.yaml"
    shorter.write_text(
        demo_text().replace("    duration: 90 minutes\n", "    duration: 30 minutes\n"), "utf-8"
    )
    done = apply(database, shorter)
    assert done.returncode == 0, done.stderr
    assert "service 'Colouring': changed" in done.stdout
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "select s.duration, p.starts_after, p.lasts from booking.services s"
            " join booking.service_pools p on p.service_id = s.id where s.name = 'Colouring'"
        ).fetchone()
    assert row == (timedelta(minutes=30), timedelta(0), timedelta(minutes=20))


def test_a_resource_in_two_pools_of_a_service_names_its_place(tmp_path: Path) -> None:
    text = demo_text().replace("resources: [Wash station]", "resources: [Celina]")
    with pytest.raises(CatalogueError) as caught:
        resolve_references(parse_catalogue(text.encode(), "yaml"))
    assert caught.value.where == "services[3].pools[0].resources[0]"


# --- exceptions ---------------------------------------------------------------------------------

EXCEPTIONS = """
exceptions:
  - kind: closure
    start: 2031-12-24
    end: 2031-12-27
    note: Christmas
  - kind: time_off
    resource: Celina
    start: "2031-07-01 09:00"
    end: "2031-07-15T18:00:00+02:00"
"""


def test_exceptions_in_the_file_are_the_locations_exceptions(database: str, tmp_path: Path) -> None:
    path = tmp_path / "salon.yaml"
    path.write_text(demo_text() + EXCEPTIONS, encoding="utf-8")
    done = apply(database, path)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(database) as conn:
        found = conn.execute(
            "select kind, resource_id::text, lower(period), upper(period), note"
            " from booking.schedule_exceptions order by lower(period)"
        ).fetchall()
    warsaw_summer, warsaw_winter = timezone(timedelta(hours=2)), timezone(timedelta(hours=1))
    assert found == [  # local times read in Europe/Warsaw: CEST in July, CET in December
        ("time_off", CELINA, datetime(2031, 7, 1, 9, tzinfo=warsaw_summer),
         datetime(2031, 7, 15, 18, tzinfo=warsaw_summer), None),
        ("closure", None, datetime(2031, 12, 24, tzinfo=warsaw_winter),
         datetime(2031, 12, 27, tzinfo=warsaw_winter), "Christmas"),
    ]  # fmt: skip
    before = written(database)
    again = apply(database, path)
    assert again.stdout.strip() == "no change", again.stdout + again.stderr
    assert written(database) == before

    # without an exceptions key the exceptions are left alone
    assert apply(database, DEMO_CATALOGUE_FILE).stdout.strip() == "no change"
    assert written(database) == before

    path.write_text(demo_text() + EXCEPTIONS.split("  - kind: time_off")[0], encoding="utf-8")
    fewer = apply(database, path)
    assert fewer.returncode == 0, fewer.stderr
    assert fewer.stdout.splitlines() == [
        "time_off 2031-07-01T09:00:00 to 2031-07-15T18:00:00: removed",
        "1 change(s) applied",
    ]
    path.write_text(demo_text() + "exceptions: []\n", encoding="utf-8")
    assert "closure" in apply(database, path).stdout
    assert catalogue_rows(database)["schedule_exceptions"] == []


# --- invalid files ------------------------------------------------------------------------------

# (what to replace in the demo file, with what, the place the error must name, words it must say)
INVALID = [
    pytest.param(
        "duration: 45 minutes", "duration: three quarters", "services[2].duration",
        "is not a duration", id="duration-not-a-duration",
    ),
    pytest.param(
        "duration: 90 minutes", "duration: 13 hours", "services[3]",
        "the duration must be more than 0 and at most 12 hours, not 13:00:00 (BK018)",
        id="duration-sql-bk018",
    ),
    pytest.param(
        "resources: [Massage room]", "resources: [Sauna]", "services[2].resources[0]",
        "no resource 'Sauna' in this file", id="unknown-resource",
    ),
    pytest.param(
        "time_zone: Europe/Warsaw", "time_zone: Mars/Olympus", "location",
        'unknown time zone "Mars/Olympus" (BK018)', id="unknown-time-zone",
    ),
    pytest.param(
        'saturday: ["09:00-14:00"]', 'saturday: ["09:00-14:00", "13:00-15:00"]',
        "resources[0].hours", "overlap on weekday 6 (BK018)", id="hours-overlap",
    ),
    pytest.param(
        'friday: ["09:00-18:00"]', 'friday: ["09:00-25:00"]', "resources[0].hours.friday[0]",
        "times run from 00:00 to 24:00", id="hour-out-of-range",
    ),
    pytest.param(
        "    kind: room\n", "    kind: room\n    colour: blue\n", "resources[3]",
        "unknown field `colour`", id="unknown-field",
    ),
    pytest.param(
        "  - id: 30000000-0000-4000-8000-000000000004",
        "  - id: 30000000-0000-4000-8000-000000000001", "services[3].id",
        "listed twice (also services[0])", id="duplicate-id",
    ),
    pytest.param(
        "  id: 10000000-0000-4000-8000-000000000001",
        "  id: 10000000-0000-4000-8000-000000000099", "resources[0].id",
        "belongs to another location (10000000-0000-4000-8000-000000000001)",
        id="another-locations-resource",
    ),
    pytest.param(
        "  time_zone: Europe/Warsaw\n", "  time_zone: Europe/Warsaw\n  active: false\n",
        "resources[0].active", "the location is closed", id="active-at-a-closed-location",
    ),
    pytest.param(
        "price: 260.00", "price: 260.005", "services[3]",
        "at most 2 decimals", id="price-sql-bk018",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "where", "says"), INVALID)
def test_an_invalid_file_exits_1_naming_the_place_and_writes_nothing(
    database: str, tmp_path: Path, old: str, new: str, where: str, says: str
) -> None:
    assert load_demo_data(database)
    # the first service is renamed too, so a file applied in part would show
    path = changed_demo(tmp_path, "name: Manicure", "name: Nails")
    path.write_text(path.read_text().replace(old, new, 1))
    before = written(database)

    done = apply(database, path)
    assert done.returncode == 1, done.stdout + done.stderr
    first_line = done.stderr.splitlines()[0]
    assert first_line.startswith(f"booking catalogue apply: {path}: {where}: "), done.stderr
    assert says in first_line
    assert "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert written(database) == before


def test_a_file_that_is_not_yaml_or_json_exits_1(database: str, tmp_path: Path) -> None:
    broken = tmp_path / "salon.yaml"
    broken.write_text("location: [", encoding="utf-8")
    done = apply(database, broken)
    assert done.returncode == 1 and "not valid YAML" in done.stderr
    other = tmp_path / "salon.toml"
    other.write_text("", encoding="utf-8")
    done = apply(database, other)
    assert done.returncode == 1
    assert f"{other}: name a .yaml, .yml or .json file" in done.stderr
    done = apply(database, tmp_path / "missing.yaml")
    assert done.returncode == 1
    assert "missing.yaml: cannot read it: No such file or directory" in done.stderr
    assert catalogue_rows(database)["locations"] == []


def test_a_dry_run_prints_the_changes_and_writes_nothing(database: str) -> None:
    before = written(database)
    done = apply(database, DEMO_CATALOGUE_FILE, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "15 change(s) would be applied (dry run: nothing written)" in done.stdout
    assert written(database) == before


def test_entries_the_file_does_not_list_are_named_and_left_alone(
    database: str, tmp_path: Path
) -> None:
    assert load_demo_data(database)
    path = tmp_path / "salon.yaml"
    text = demo_text()
    path.write_text(text[: text.index("  - id: 30000000-0000-4000-8000-000000000004")])
    before = written(database)
    done = apply(database, path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "service 'Colouring' (30000000-0000-4000-8000-000000000004) is at the location but not"
        " in the file: left as it is",
        "no change",
    ]
    assert written(database) == before


def test_deactivating_a_booked_service_needs_cancel_future(database: str, tmp_path: Path) -> None:
    assert load_demo_data(database)
    with psycopg.connect(database) as conn:
        booked = conn.execute(
            "select api.create_booking_atomic(%s, (date_trunc('week', now() at time zone"
            " 'Europe/Warsaw') + interval '7 days 10 hours') at time zone 'Europe/Warsaw',"
            " 'bob', '{}')",
            (HAIRCUT,),
        ).fetchone()
    assert booked is not None and booked[0]["success"] is True, booked
    path = changed_demo(tmp_path, "name: Haircut\n", "name: Haircut\n    active: false\n")
    before = written(database)

    refused = apply(database, path)
    assert refused.returncode == 1
    assert f"{path}: services[1]: service {HAIRCUT} still has future bookings (1)" in refused.stderr
    assert "(BK020). Cancel or move them first, or pass --cancel-future" in refused.stderr
    assert written(database) == before

    done = apply(database, path, "--cancel-future")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["service 'Haircut': changed", "1 change(s) applied"]
    with psycopg.connect(database) as conn:
        status = conn.execute(
            "select r.status, s.active from booking.reservations r"
            " join booking.services s on s.id = r.service_id where r.id = %s",
            (booked[0]["booking_id"],),
        ).fetchone()
    assert status == ("cancelled", False)


# --- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "days", "seconds", "words"),
    [
        ("60 minutes", 0, 0, 3600, "1 hour"),
        ("90 minutes", 0, 0, 5400, "1 hour 30 minutes"),
        ("1 hour 30 minutes", 0, 0, 5400, "1 hour 30 minutes"),
        ("24 hours", 0, 0, 86400, "24 hours"),
        ("1 day", 0, 1, 0, "1 day"),
        ("2 weeks", 0, 14, 0, "14 days"),
        ("3 months 1 day", 3, 1, 0, "3 months 1 day"),
        ("0", 0, 0, 0, "0"),
        ("PT45M", 0, 0, 2700, "45 minutes"),
        ("P60D", 0, 60, 0, "60 days"),
        ("P1Y2M3DT4H5M6.5S", 14, 3, 14706.5, "14 months 3 days 4 hours 5 minutes 6.5 seconds"),
    ],
)
def test_a_duration_keeps_the_fields_of_an_interval(
    text: str, months: int, days: int, seconds: float, words: str
) -> None:
    duration = Duration.parse(text)
    assert (duration.months, duration.days) == (months, days)
    assert duration.microseconds == int(seconds * 1_000_000)
    assert str(duration) == words
    assert Duration.parse(words) == duration


@pytest.mark.parametrize("text", ["sixty", "5 min", "1.5 hours", "P", "PT", "", "10", "-5 days"])
def test_a_duration_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_a_number_where_a_duration_belongs_names_its_place() -> None:
    text = demo_text().replace("duration: 30 minutes", "duration: 30")
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text.encode(), "yaml")
    assert caught.value.where == "services[1].duration"


# --- the documented example ---------------------------------------------------------------------


def test_the_example_in_the_operations_guide_applies_as_written(
    database: str, tmp_path: Path
) -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs/OPERATIONS.md").read_text()
    section = guide[guide.index("## Catalogue as a file") :]
    example = section[
        section.index("```yaml\n") + 8 : section.index("```", section.index("```yaml\n") + 8)
    ]
    path = tmp_path / "salon.yaml"
    path.write_text(example, encoding="utf-8")
    done = apply(database, path)
    assert done.returncode == 0, done.stderr
    assert "closure 2026-12-24T00:00:00 to 2026-12-27T00:00:00: added" in done.stdout
    assert apply(database, path).stdout.strip() == "no change"
