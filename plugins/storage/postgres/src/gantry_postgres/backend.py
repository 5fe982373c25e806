"""Opening a ``postgresql://`` URL: libpq parameters, the plugin's settings, a SqlBackend on top.

URLs are libpq's own (``postgresql://user:password@host:port/dbname?sslmode=require``), so
everything libpq reads works: query parameters, several hosts, a Unix socket folder as the host,
and the PG* environment variables and ``~/.pgpass`` for what the URL leaves out. The backend's
``url`` (and its repr and every message) shows the URL with the password masked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from gantry import StorageError
from gantry.log import get_logger
from gantry.storage import IndexRecord
from gantry_postgres.connection import ReconnectingConnection, connect
from gantry_postgres.dialect import PostgresDialect
from gantry_postgres.statistics import ANALYZE_INDEX_TABLES, PLANNED_INSTANCES, GrowthSinceAnalyze
from gantry_postgres.urls import SCHEMES, for_libpq, mask_password, passwords_in, scheme_of, scrub, target_of
from gantry_sql import SqlBackend

log = get_logger(__name__)

DEFAULT_SETTINGS: dict[str, Any] = {"connect_timeout": 10.0, "statement_timeout": 0.0,
                                    "application_name": "gantry"}


class PostgresBackend(SqlBackend):
    """SqlBackend on PostgreSQL, keeping the planner's statistics fresh (:mod:`.statistics`)."""

    def __init__(self, connection: ReconnectingConnection, *, url: str) -> None:
        super().__init__(connection, PostgresDialect(), url=url)
        self._connection = connection
        try:
            planned = self._read("read the planner statistics", lambda run: run.scalar(PLANNED_INSTANCES))
        except BaseException:
            self.close()
            raise
        self._growth = GrowthSinceAnalyze(float(planned or 0))

    def __repr__(self) -> str:
        return f"<PostgresBackend {self.url}>"

    def index(self, records: Sequence[IndexRecord]) -> None:
        records = list(records)
        super().index(records)
        self._growth.add(len(records))
        # Only in a transaction of its own: ANALYZE locks the four tables against other ANALYZEs
        # to the end of its transaction, and inside a caller's long one that could deadlock with
        # another process doing the same. A refresh due then waits for the next index outside.
        if self._growth.due and not self._connection.in_transaction:
            try:
                self._write("refresh the planner statistics", lambda run: run.execute_ddl(ANALYZE_INDEX_TABLES))
            except StorageError as err:  # the records are in: this must not make index() fail
                log.warning("postgres.analyze_failed", error=str(err))
            else:
                self._growth.refreshed()


def open_backend(url: str, settings: Mapping[str, Any] | None = None) -> PostgresBackend:
    """The StorageBackend ``open`` for ``postgresql://`` and ``postgres://`` URLs."""
    options = {**DEFAULT_SETTINGS, **(settings or {})}
    shown = mask_password(url)
    if scheme_of(url) not in SCHEMES:
        raise StorageError(f"{shown!r} is not a PostgreSQL URL (expected "
                           "postgresql://user:password@host:5432/dbname)")
    secrets = passwords_in(url)
    params = connection_params(url, options, shown=shown, secrets=secrets)
    target = target_of(params)
    session = session_statements(options)
    connection = ReconnectingConnection(
        lambda: connect(params, session=session, target=target, secrets=secrets))
    return PostgresBackend(connection, url=shown)


def connection_params(url: str, options: Mapping[str, Any], *, shown: str,
                      secrets: tuple[str, ...]) -> dict[str, Any]:
    """libpq's parameters for ``url``; the settings fill in what the URL does not say."""
    try:
        params: dict[str, Any] = dict(conninfo_to_dict(for_libpq(url)))
    except Exception as err:  # noqa: BLE001 - psycopg.ProgrammingError, or anything the parser raises
        reason = scrub(" ".join(str(err).split()), secrets)
        raise StorageError(f"{shown}: not a valid PostgreSQL URL: {reason}") from None
    # libpq counts whole seconds, and takes 0 as "wait for ever".
    params.setdefault("connect_timeout", str(math.ceil(_seconds(options, "connect_timeout"))))
    params.setdefault("application_name", str(options["application_name"]))
    return params


def session_statements(options: Mapping[str, Any]) -> list[str]:
    """SET statements run on every new connection."""
    # No JIT: it compiles a query whose estimated cost is high, but gantry's queries are index
    # lookups repeated per row, where compiling (~0.1 s) costs more than it saves.
    statements = ["SET jit = off"]
    timeout = _seconds(options, "statement_timeout")
    if timeout:
        statements.append(f"SET statement_timeout = {max(1, round(timeout * 1000))}")
    return statements


def _seconds(options: Mapping[str, Any], name: str) -> float:
    value = options[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise StorageError(f"postgres {name} must be a number of seconds >= 0, got {value!r}")
    return float(value)
