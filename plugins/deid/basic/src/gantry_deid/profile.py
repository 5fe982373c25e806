"""The ``basic`` profile: what ``DeidProfile(profile="basic").rules`` points at."""

from __future__ import annotations

import attrs

from gantry_deid.tables import SUPPLEMENTARY_ROWS, RuleTable, table_e1_1


def basic_rules() -> RuleTable:
    """PS3.15 Table E.1-1 with every option column, the safe private attributes of Table
    E.3.10-1, the content items of Table E.3.4-1, and :data:`~gantry_deid.tables.SUPPLEMENTARY_ROWS`
    (overlay text the table does not list). Which options are in force is decided when a plan is
    compiled."""
    return attrs.evolve(table_e1_1(), supplementary=SUPPLEMENTARY_ROWS)
