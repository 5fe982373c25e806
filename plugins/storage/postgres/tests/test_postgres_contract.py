"""gantry-postgres against the StorageBackend contract, on a real PostgreSQL server."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from gantry.testing.storage import StorageBackendContract


class TestPostgresContract(StorageBackendContract):
    @pytest.fixture
    def backend_url(self, pg_url: str) -> str:
        return pg_url

    @pytest.fixture
    def storage_kernel(self, postgres_kernel: Any) -> Any:
        return postgres_kernel

    def raw_sql(self, url: str, sql: str) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql)

    def tamper_sql(self, url: str, sql: str) -> None:
        # What the tables' owner (here a superuser) can do: switch the guard off and on again,
        # in one transaction. The hash chain is what catches it.
        with psycopg.connect(url) as connection, connection.transaction():
            connection.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            connection.execute(sql)
            connection.execute("ALTER TABLE audit ENABLE TRIGGER USER")


def test_both_schemes_in_any_case_open_this_backend(pg_url: str, postgres_kernel: Any) -> None:
    for scheme in ("postgresql", "postgres", "POSTGRESQL"):
        backend = postgres_kernel.open_storage(scheme + pg_url[pg_url.index("://"):])
        assert backend.dialect.name == "postgresql"
        backend.close()


