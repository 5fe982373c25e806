"""The backend's one psycopg 3 connection: opened with errors a person can act on, and reopened
when the server dropped it while no transaction was open.

psycopg runs in its autocommit mode, which only means that psycopg itself never sends BEGIN:
``SqlBackend`` does, and COMMIT, ROLLBACK and SAVEPOINT, so every write runs in an explicit
transaction and a read outside one sees the latest commit without holding a snapshot open.

Reconnection is safe only between transactions. A connection lost inside one took the
transaction with it (the server rolls it back): every further statement of that transaction
fails, so the caller learns its work is gone, and only after the backend's ROLLBACK is a new
connection opened. Outside transactions SqlBackend sends only reads and BEGIN, which are retried
once on the new connection: a server restart costs the next call a reconnect, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from gantry import StorageError
from gantry_postgres.urls import Target, scrub

# libpq's words for the usual failures (patterns, case-insensitive), and what to do about each.
_CONNECT_HINTS: tuple[tuple[str, str], ...] = (
    ("timeout expired", "no answer within connect_timeout: check the host, the port and firewalls"),
    ("could not translate host name", "the host name is unknown"),
    ("failed to resolve host", "the host name is unknown"),
    ("no such file or directory", "no server listens on that Unix socket: give a host in the URL, "
                                  "or start the server"),
    (r'database "[^"]*" does not exist', "create the database first (createdb NAME) or correct "
                                          "its name in the URL"),
    (r'role "[^"]*" does not exist', "create the role first (createuser NAME) or correct the "
                                     "user in the URL"),
    ("password authentication failed", "check the user and password (in the URL, PGPASSWORD or "
                                       "~/.pgpass)"),
    ("no password supplied", "the server asks for a password: put it in the URL, PGPASSWORD "
                             "or ~/.pgpass"),
    ("permission denied for database", "the role lacks the CONNECT privilege on this database"),
    ("no pg_hba.conf entry", "the server's pg_hba.conf does not admit this host, user and database"),
    ("too many clients", "the server has no free connection slot (max_connections)"),
)


def connect(params: Mapping[str, Any], *, session: Sequence[str], target: Target,
            secrets: tuple[str, ...]) -> psycopg.Connection[Any]:
    """A new connection with the session settings applied, or a StorageError saying why not."""
    try:
        connection = psycopg.connect(**params, autocommit=True)
    except psycopg.Error as err:
        # No chained cause: the driver's text may hold the password (a malformed URL part).
        raise StorageError(connect_failure(err, target, secrets)) from None
    try:
        for statement in session:
            connection.execute(statement)
    except psycopg.Error as err:
        connection.close()
        raise StorageError(f"cannot set up the session on {target}: "
                           f"{scrub(_without_detail(str(err)), secrets)}") from None
    return connection


def connect_failure(error: BaseException, target: Target, secrets: tuple[str, ...]) -> str:
    """``cannot connect to PostgreSQL at host:port (...): libpq's reason (a hint)``."""
    reason = scrub(_without_detail(str(error)), secrets)
    reason = re.sub(r"^connection failed:\s*", "", reason)
    reason = re.sub(r"\bFATAL:\s+", "", reason)
    hint = next((hint for pattern, hint in _CONNECT_HINTS if re.search(pattern, reason, re.IGNORECASE)), "")
    return f"cannot connect to {target}: {reason}" + (f" ({hint})" if hint else "")


def _without_detail(text: str) -> str:
    """The message lines without DETAIL and CONTEXT (they can quote values), on one line."""
    lines = [line.strip() for line in text.strip().splitlines()]
    kept = [line for line in lines if line and not line.startswith(("DETAIL:", "CONTEXT:"))]
    return " ".join(kept)


class ReconnectingConnection:
    """What SqlBackend's Runner needs of a DB-API connection (``cursor()``, ``close()``) over a
    psycopg connection replaced when it was lost between transactions (see the module docstring).

    Not locked itself: SqlBackend holds its lock around every use.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._connection = connect()
        self._in_transaction = False
        self._closed = False

    @property
    def current(self) -> psycopg.Connection[Any]:
        """The psycopg connection in use now (changes after a reconnect)."""
        return self._connection

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction was open after the last statement (any thread's)."""
        return self._in_transaction

    def cursor(self) -> Cursor:
        return Cursor(self)

    def close(self) -> None:
        self._closed = True
        self._connection.close()

    def run(self, statement: str, work: Callable[[psycopg.Cursor[Any]], object]) -> psycopg.Cursor[Any]:
        """``work`` (an execute) on a new cursor of a live connection; returns the cursor."""
        retry = statement.lstrip().upper().startswith(("SELECT", "BEGIN"))
        while True:
            connection = self._live(statement)
            was_in_transaction = self._in_transaction
            cursor = connection.cursor()
            try:
                work(cursor)
            except psycopg.OperationalError:
                if connection.closed and retry and not was_in_transaction:
                    retry = False  # once: a second failure is the server's answer
                    continue
                raise
            finally:
                if not connection.closed:
                    self._in_transaction = connection.info.transaction_status != TransactionStatus.IDLE
            return cursor

    def _live(self, statement: str) -> psycopg.Connection[Any]:
        if self._closed or not self._connection.closed:
            return self._connection  # a closed backend's calls fail on the closed connection
        if self._in_transaction:
            if statement.strip().upper() == "ROLLBACK":
                self._in_transaction = False  # the server rolled it back when the link went
            raise psycopg.OperationalError(
                "the connection to the server was lost inside a transaction: its work was rolled back")
        self._connection = self._connect()
        return self._connection


class Cursor:
    """A DB-API cursor whose execute goes through :meth:`ReconnectingConnection.run`; fetching
    and ``rowcount`` are the psycopg cursor's."""

    def __init__(self, owner: ReconnectingConnection) -> None:
        self._owner = owner
        self._cursor: psycopg.Cursor[Any] | None = None

    def execute(self, statement: str, params: Sequence[Any] | None = None) -> Cursor:
        self._cursor = self._owner.run(statement, lambda cursor: cursor.execute(statement, params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> Cursor:
        # psycopg 3 pipelines executemany: one round trip for the batch, not one per row.
        self._cursor = self._owner.run(statement, lambda cursor: cursor.executemany(statement, rows))
        return self

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()

    def __getattr__(self, name: str) -> Any:
        if self._cursor is None:
            raise AttributeError(f"{name}: nothing was executed on this cursor")
        return getattr(self._cursor, name)
