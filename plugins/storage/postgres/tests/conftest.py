"""Fixtures of gantry-postgres's tests: a fresh database per test on the session's real server.

``postgres_server`` (from gantry.testing) starts one PostgreSQL 15 cluster for the whole session;
``pg_url`` creates an empty database on it for one test, ``pg_admin`` runs SQL as the superuser.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from gantry.testing import kernel_with
from gantry_postgres import plugin as postgres_plugin

_numbers = itertools.count(1)


@pytest.fixture
def pg_url(postgres_server: Any) -> str:
    """The URL of an empty database of this test's own."""
    return postgres_server.create_database(f"gantry_{os.getpid()}_{next(_numbers)}")


@pytest.fixture
def pg_admin(postgres_server: Any) -> Callable[..., list[tuple[Any, ...]]]:
    """``pg_admin(sql, params=None, database="postgres")``: rows of one superuser statement."""
    def run(sql: str, params: Any = None, database: str = "postgres") -> list[tuple[Any, ...]]:
        with psycopg.connect(postgres_server.url(database), autocommit=True) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    return run


@pytest.fixture
def postgres_kernel() -> Any:
    """A kernel holding only this plugin."""
    return kernel_with({"postgres": postgres_plugin})
