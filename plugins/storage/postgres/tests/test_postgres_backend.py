"""What is particular to PostgreSQL: connection errors, roles, collation, settings, lost
connections, error text and planner statistics. (Several processes: test_postgres_processes.)"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from gantry import StorageError
from gantry.testing import kernel_with
from gantry.testing.datasets import PLANTED_PHI
from gantry.testing.postgres import free_port
from gantry.testing.storage import events, index_record, sample_records, synthetic_records
from gantry_postgres import plugin as postgres_plugin
from gantry_postgres.backend import open_backend
from gantry_postgres.dialect import PostgresDialect
from gantry_sql.schema import TABLES

PASSWORD = "Hunter2-never-shown"
_roles = itertools.count(1)


def _database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _with_user(url: str, user: str, password: str | None = None) -> str:
    credentials = user + (f":{password}" if password else "")
    return url.replace("://gantry@", f"://{credentials}@", 1)


# --- connecting ----------------------------------------------------------------------------------

def test_an_unreachable_port_names_host_and_port_and_never_the_password() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(StorageError) as caught:
        open_backend(f"postgresql://ann:{PASSWORD}@127.0.0.1:{port}/pacs")
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "refused" in message.lower()
    assert "database pacs, user ann" in message
    assert PASSWORD not in message and PASSWORD not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_missing_database_is_named(postgres_server: Any) -> None:
    with pytest.raises(StorageError, match='database "no_such_db" does not exist.*createdb'):
        open_backend(postgres_server.url("no_such_db"))


def test_the_password_never_shows_in_url_repr_or_errors(pg_url: str, postgres_kernel: Any) -> None:
    url = _with_user(pg_url, "gantry", PASSWORD)  # the test server trusts 127.0.0.1: any password does
    backend = postgres_kernel.open_storage(url)
    assert backend.url == _with_user(pg_url, "gantry", "***")
    assert PASSWORD not in repr(backend)
    with pytest.raises(StorageError) as caught:
        backend.query("study", {"NoSuchKeyword": "x"})
    backend.close()
    with pytest.raises(StorageError) as closed:
        backend.count("study")
    for error in (caught.value, closed.value):
        assert PASSWORD not in str(error)
    assert "***" in str(closed.value)


def test_settings_reach_every_session(pg_url: str) -> None:
    kernel = kernel_with({"postgres": postgres_plugin},
                         config={"postgres": {"statement_timeout": 2.5, "application_name": "gantry-test"}})
    backend = kernel.open_storage(pg_url)
    connection = backend._runner.connection.current
    shown = {name: connection.execute(f"SHOW {name}").fetchone()[0]
             for name in ("statement_timeout", "application_name", "jit", "default_transaction_isolation")}
    assert shown == {"statement_timeout": "2500ms", "application_name": "gantry-test", "jit": "off",
                     "default_transaction_isolation": "read committed"}
    backend.close()


# --- roles and privileges ------------------------------------------------------------------------

def test_a_role_without_create_cannot_make_the_schema_but_can_use_one(pg_url: str, pg_admin: Callable[..., Any]) -> None:
    role = f"gantry_app_{next(_roles)}"
    pg_admin(f"CREATE ROLE {role} LOGIN")
    app_url = _with_user(pg_url, role)
    with pytest.raises(StorageError, match="permission denied for schema public.*CREATE on the schema"):
        open_backend(app_url)  # PostgreSQL 15: only the owner creates in schema public

    open_backend(pg_url).close()  # the owner migrates; the application role gets rows only
    pg_admin(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
             database=_database_of(pg_url))
    backend = open_backend(app_url)  # opening again creates nothing
    backend.index(sample_records())
    backend.audit(events(3))
    assert backend.count("instance") == 10 and backend.verify_audit().checked == 3
    backend.close()
    with psycopg.connect(app_url, autocommit=True) as connection:
        for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit",
                          "ALTER TABLE audit DISABLE TRIGGER USER", "TRUNCATE audit"):
            with pytest.raises(psycopg.Error):  # the guard binds a role that does not own the table
                connection.execute(statement)


def test_truncating_the_audit_table_is_refused(pg_url: str) -> None:
    backend = open_backend(pg_url)
    backend.audit(events(2))
    with psycopg.connect(pg_url, autocommit=True) as connection, pytest.raises(psycopg.Error, match="append-only"):
        connection.execute("TRUNCATE audit")
    assert backend.verify_audit().checked == 2
    backend.close()


# --- collation -----------------------------------------------------------------------------------

def test_text_compares_byte_wise_whatever_the_database_locale(postgres_server: Any,
                                                              pg_admin: Callable[..., Any]) -> None:
    name = f"gantry_icu_{next(_roles)}"
    pg_admin(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'")
    backend = open_backend(postgres_server.url(name))
    backend.index(sample_records())
    assert [row["PatientID"] for row in backend.query("patient", {"PatientName": "DOE*"})] == ["PID-1"]
    assert [row["PatientID"] for row in backend.query("patient", {"PatientName": "doe*"})] == ["PID-2"]
    connection = backend._runner.connection.current
    collations = connection.execute(
        "SELECT DISTINCT collation_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type = 'text' AND table_name = ANY(%s)", (list(TABLES.values()) + ["audit"],)).fetchall()
    assert collations == [("C",)]
    # With C collation a plain btree index serves a LIKE prefix (with en-US it could not).
    connection.execute("SET enable_seqscan = off")
    plan = " ".join(row[0] for row in connection.execute(
        "EXPLAIN SELECT id FROM patients WHERE patient_name LIKE 'DOE%'").fetchall())
    assert "patients_patient_name" in plan
    backend.close()


# --- lost connections ----------------------------------------------------------------------------

def _terminate(pg_admin: Callable[..., Any], backend: Any) -> int:
    pid = backend._runner.connection.current.info.backend_pid
    assert pg_admin("SELECT pg_terminate_backend(%s)", (pid,)) == [(True,)]
    return pid


def test_a_connection_lost_between_calls_is_reopened(pg_url: str, pg_admin: Callable[..., Any]) -> None:
    backend = open_backend(pg_url)
    backend.index(sample_records())
    killed = _terminate(pg_admin, backend)
    assert backend.count("instance") == 10  # the read is retried on a new connection
    backend.audit(events(1))  # and writes go on
    assert backend._runner.connection.current.info.backend_pid != killed
    backend.close()


def test_a_connection_killed_inside_a_transaction_leaves_nothing_half_indexed(
        pg_url: str, pg_admin: Callable[..., Any]) -> None:
    backend = open_backend(pg_url)
    backend.index(synthetic_records(1))  # committed: 100 instances
    with pytest.raises(StorageError, match="lost|terminat"):
        with backend.transaction():
            backend.index(synthetic_records(2, first_study=1))
            backend.audit(events(2))
            _terminate(pg_admin, backend)  # the server ends the session, and rolls its work back
            backend.index(synthetic_records(2, first_study=3))
    other = open_backend(pg_url)
    for view in (backend, other):  # the same backend reconnects for its next call
        assert [view.count(level) for level in ("study", "series", "instance")] == [1, 4, 100]
        assert view.audit_rows() == []
    backend.audit(events(1))
    backend.index([index_record(9, 1, 1, 1)])
    assert other.verify_audit().checked == 1 and other.count("instance") == 101
    backend.close()
    other.close()


# --- error text ----------------------------------------------------------------------------------

def test_error_descriptions_never_quote_values(pg_url: str) -> None:
    open_backend(pg_url).close()
    dialect = PostgresDialect()
    name = PLANTED_PHI["PatientName"]
    caught: list[psycopg.Error] = []
    with psycopg.connect(pg_url, autocommit=True) as connection:
        connection.execute("INSERT INTO uid_map VALUES ('', %s, '2.25.1')", (name,))
        for statement, params in [
            ("INSERT INTO uid_map VALUES ('', %s, '2.25.2')", (name,)),        # DETAIL quotes the key
            ("INSERT INTO date_shifts VALUES ('', 'p', %s)", (name,)),         # 22P02 quotes the value
            ("INSERT INTO uid_map VALUES ('', %s, '2.25.3')", (name + "\x00",)),  # refused by psycopg
        ]:
            with pytest.raises(psycopg.Error) as error:
                connection.execute(statement, params)
            caught.append(error.value)
    assert name in str(caught[0]) and name in str(caught[1])  # what the driver would have leaked
    described = [dialect.describe_error(error) for error in caught]
    assert described[0].startswith("UniqueViolation (SQLSTATE 23505): duplicate key value violates unique")
    assert described[1] == "InvalidTextRepresentation (SQLSTATE 22P02)"
    assert "NUL" in described[2]
    for text in described:
        assert name not in text and "DETAIL" not in text


def test_a_record_postgres_cannot_store_is_an_error_without_its_value(pg_url: str) -> None:
    backend = open_backend(pg_url)
    name = PLANTED_PHI["PatientName"]
    with pytest.raises(StorageError, match="index 2 records failed: DataError") as caught:
        backend.index([index_record(1, 1, 1, 1), index_record(1, 1, 1, 2, PatientName=name + "\x00")])
    assert name not in str(caught.value)
    assert backend.count("instance") == 0  # nothing of the batch
    backend.close()


# --- planner statistics --------------------------------------------------------------------------

def test_a_bulk_index_refreshes_the_planner_statistics(pg_url: str) -> None:
    backend = open_backend(pg_url)
    planned = "SELECT reltuples FROM pg_class WHERE oid = 'instances'::regclass"
    connection = backend._runner.connection.current
    backend.index(synthetic_records(2))  # 200 records: too few to matter
    assert connection.execute(planned).fetchone()[0] <= 0
    with backend.transaction():  # not inside a caller's transaction: it waits for the next index
        backend.index(synthetic_records(12, first_study=2))
    assert connection.execute(planned).fetchone()[0] <= 0
    backend.index(synthetic_records(1, first_study=14))  # 1,300 more in all: ANALYZE
    assert connection.execute(planned).fetchone()[0] == 1500
    backend.close()
