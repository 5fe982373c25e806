"""SQLite's SQL where it differs from the portable kind gantry_sql writes."""

from __future__ import annotations

from gantry_sql import Dialect


class SqliteDialect(Dialect):
    name = "sqlite"
    paramstyle = "qmark"
    # A rowid alias: the cheapest key SQLite has, assigned in insertion order.
    identity_column = "id INTEGER PRIMARY KEY"
    text_type = "TEXT"
    json_type = "TEXT"
    # Take the write lock when the transaction starts. A deferred transaction that reads first
    # and writes later fails with SQLITE_BUSY instead of waiting when another writer got in
    # between; IMMEDIATE waits (busy_timeout) and so also serialises audit chain appends.
    begin_write = "BEGIN IMMEDIATE"
    unlimited = "-1"
    aggregate_separator = ","

    def distinct_values(self, expression: str) -> str:
        # group_concat(DISTINCT x) accepts no separator argument: it is always ','.
        return f"group_concat(DISTINCT {expression})"

    def append_only_ddl(self, table: str) -> list[str]:
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'the {table} table is append-only'); END",
        ]

    def wildcard_condition(self, expression: str) -> str:
        # GLOB is case-sensitive (LIKE is not, unless a deprecated pragma says so) and can use
        # the column's index for a literal prefix.
        return f"{expression} GLOB ?"

    def wildcard_argument(self, value: str) -> str:
        # DICOM's '*' and '?' are GLOB's too; GLOB's only other special character is '[',
        # taken literally as the one-character class '[[]'.
        return value.replace("[", "[[]")

    def describe_error(self, error: BaseException) -> str:
        # SQLite's messages name constraints, tables and conditions, never row values.
        text = str(error).strip()
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
