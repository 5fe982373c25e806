"""A probe database for gantry-sql's own tests: SQLite through Python's sqlite3, but driven the
way a PostgreSQL driver is.

The probe dialect keeps every default of :class:`gantry_sql.Dialect` that has one: LIKE with an
escape character for wildcards (made case-sensitive with SQLite's pragma), error descriptions
without driver text, and the ``format`` parameter style (``%s``), which a small connection
wrapper turns back into sqlite3's ``?``. So the portable code paths the PostgreSQL backend will
rely on are exercised here, without a PostgreSQL server. It is registered as the plugin
``sql-probe`` serving ``sqlprobe://`` URLs.

Fixtures: ``probe_kernel`` (a kernel holding only that plugin), ``probe_dialect``,
``probe_connection(path)`` (a factory of wrapped connections).
"""

from __future__ import annotations

import sqlite3
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from gantry import StorageBackend, StorageError, hookimpl
from gantry.testing import kernel_with
from gantry_sql import Dialect, SqlBackend

PROBE_SCHEME = "sqlprobe"


class ProbeDialect(Dialect):
    name = "probe"
    paramstyle = "format"
    identity_column = "id INTEGER PRIMARY KEY"
    begin_write = "BEGIN IMMEDIATE"
    unlimited = "-1"

    def distinct_values(self, expression: str) -> str:
        return f"group_concat(DISTINCT {expression})"

    def append_only_ddl(self, table: str) -> list[str]:
        return [f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only'); END" for verb in ("update", "delete")]


class FormatCursor:
    """A sqlite3 cursor that takes ``%s`` placeholders, as psycopg does: ``%%`` is a literal
    ``%``, and a statement without parameters is sent untouched."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @staticmethod
    def _qmark(statement: str) -> str:
        return statement.replace("%s", "?").replace("%%", "%")

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> FormatCursor:
        if params is None:
            self._cursor.execute(statement)
        else:
            self._cursor.execute(self._qmark(statement), params)
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> FormatCursor:
        self._cursor.executemany(self._qmark(statement), rows)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class FormatConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def cursor(self) -> FormatCursor:
        return FormatCursor(self._connection.cursor())

    def close(self) -> None:
        self._connection.close()


def probe_connection(path: str) -> FormatConnection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA case_sensitive_like = ON")
    connection.execute("PRAGMA foreign_keys = ON")
    return FormatConnection(connection)


def probe_path(url: str) -> str:
    prefix = f"{PROBE_SCHEME}://"
    if not url.startswith(prefix):
        raise StorageError(f"{url!r} is not a {prefix} URL")
    return url[len(prefix):]


def open_probe(url: str, settings: Any = None) -> SqlBackend:
    return SqlBackend(probe_connection(probe_path(url)), ProbeDialect(), url=url)


# The kernel loads a backend's ``open`` by "module:attribute"; this makes the probe importable.
_module = types.ModuleType("gantry_sql_probe")
_module.open_probe = open_probe  # type: ignore[attr-defined]
sys.modules.setdefault(_module.__name__, _module)


class ProbePlugin:
    @hookimpl
    def gantry_storage_backends(self) -> list[StorageBackend]:
        return [StorageBackend(name="sql-probe", schemes=(PROBE_SCHEME,), open="gantry_sql_probe:open_probe")]


@pytest.fixture
def probe_kernel() -> Any:
    return kernel_with({"sql-probe": ProbePlugin()})


@pytest.fixture
def probe_dialect() -> ProbeDialect:
    return ProbeDialect()


@pytest.fixture
def probe_open() -> Callable[[str], FormatConnection]:
    """``probe_open(path)``: a connection to a probe database, for tests that drive SQL directly."""
    return probe_connection
