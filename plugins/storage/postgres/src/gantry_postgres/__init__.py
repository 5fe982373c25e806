"""gantry-postgres: the index, audit trail and plugin tables in PostgreSQL (``postgresql://`` URLs).

The schema, queries and audit chain come from gantry-sql; this package adds the PostgreSQL
dialect (:mod:`gantry_postgres.dialect`), how a libpq URL is read and shown without its password
(:mod:`gantry_postgres.urls`), the psycopg 3 connection (:mod:`gantry_postgres.connection`),
planner statistics kept fresh after bulk indexing (:mod:`gantry_postgres.statistics`) and the
``open`` the kernel calls (:mod:`gantry_postgres.backend`).
"""
