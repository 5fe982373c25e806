"""gantry-sqlite: the default storage backend, one SQLite file per project (``sqlite://`` URLs).

The schema, queries and audit chain come from gantry-sql; this package adds the SQLite dialect
and how a URL becomes a configured connection (:mod:`gantry_sqlite.backend`).
"""
