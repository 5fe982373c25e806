"""gantry-sql: what the SQL storage backends share (no plugin of its own).

- :class:`~gantry_sql.backend.SqlBackend`: the whole ``gantry.storage.Backend`` contract over one
  DB-API connection (autocommit mode; the backend runs its own transactions);
- :class:`~gantry_sql.dialect.Dialect`: what differs between databases, subclassed per backend;
- :mod:`gantry_sql.migrations`: the versioned schema; :mod:`gantry_sql.schema`: tables and columns;
- :mod:`gantry_sql.matching` and :mod:`gantry_sql.queries`: DICOM matching as SQL.

The SQLite backend (gantry-sqlite) and the PostgreSQL backend are a Dialect and a connection each.
"""

from __future__ import annotations

from gantry_sql.backend import SqlBackend, redact_url
from gantry_sql.dialect import Dialect
from gantry_sql.migrations import MIGRATIONS, Migration

SCHEMA_VERSION = MIGRATIONS[-1].version

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Dialect", "Migration", "SqlBackend", "redact_url"]
