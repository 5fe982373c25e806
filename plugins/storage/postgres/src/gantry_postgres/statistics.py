"""Fresh planner statistics after big writes.

PostgreSQL plans from statistics that ANALYZE gathers; autovacuum runs it, but only a while
after a table changed. Between a bulk index and that moment the planner misjudges the index
tables (a fresh table looks empty, then evenly spread), and ``query("study")`` with its
per-study counts over 100,000 instances takes seconds on a hash join instead of milliseconds
on the parent-reference indexes. So the backend analyzes the index tables itself whenever the
records it indexed since the last ANALYZE reach the size the table had then: a doubling rule,
a handful of ANALYZEs (~0.1 s each at 100,000 instances) over any bulk load. (When that point is
reached inside a caller's transaction, the ANALYZE waits for the next index outside one.)
"""

from __future__ import annotations

import threading

ANALYZE_INDEX_TABLES = "ANALYZE patients, studies, series, instances"
#: What the planner last knew of the instance count: -1 (PostgreSQL 14+) or 0 when never analyzed.
PLANNED_INSTANCES = "SELECT reltuples FROM pg_catalog.pg_class WHERE oid = 'instances'::regclass"
#: Batches smaller than this never trigger an ANALYZE on their own.
MINIMUM_GROWTH = 1000


class GrowthSinceAnalyze:
    """Counts indexed records against the instance count at the last ANALYZE."""

    def __init__(self, planned_instances: float) -> None:
        self._baseline = max(0.0, planned_instances)
        self._indexed = 0
        self._lock = threading.Lock()

    def add(self, records: int) -> None:
        with self._lock:
            self._indexed += records

    @property
    def due(self) -> bool:
        """Has the index grown by as much as it held at the last ANALYZE (and 1,000 records)?"""
        with self._lock:
            return self._indexed >= max(MINIMUM_GROWTH, self._baseline)

    def refreshed(self) -> None:
        with self._lock:
            self._baseline += self._indexed
            self._indexed = 0
