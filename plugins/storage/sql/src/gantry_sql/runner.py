"""Statements through a DB-API cursor, written once with ``?`` and sent in the driver's style."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from gantry_sql.dialect import Dialect


class Runner:
    """Executes statements on one DB-API connection for the backend (which holds its lock)."""

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(self.dialect.sql(statement), tuple(params))
        return cursor

    def execute_many(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.connection.cursor().executemany(self.dialect.sql(statement), rows)

    def execute_ddl(self, statement: str) -> None:
        """A statement without parameters, sent as written (no placeholder conversion)."""
        self.connection.cursor().execute(statement)

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.execute(statement, params).fetchall()]

    def one(self, statement: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        # fetchall, not fetchone: a statement left half-read (RETURNING) can block COMMIT.
        rows = self.execute(statement, params).fetchall()
        return tuple(rows[0]) if rows else None

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(statement, params)
        return row[0] if row is not None else None

    def stream(self, statement: str, params: Sequence[Any] = (), size: int = 1000) -> Iterator[tuple[Any, ...]]:
        """Rows fetched a batch at a time (a long audit trail is never all in memory)."""
        cursor = self.execute(statement, params)
        try:
            while batch := cursor.fetchmany(size):
                for row in batch:
                    yield tuple(row)
        finally:
            cursor.close()  # also when the caller stops early
