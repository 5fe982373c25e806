"""How the index levels and their DICOM attributes map onto tables and columns.

One table per level (``patients``, ``studies``, ``series``, ``instances``), each with a surrogate
``id`` and a reference to its parent's ``id`` (``patient_ref``, ``study_ref``, ``series_ref``).
Every attribute of :data:`gantry.storage.INDEX_ATTRIBUTES` is a column named after its keyword
in snake case (``SOPInstanceUID`` -> ``sop_instance_uid``): index text as TEXT ('' when absent),
integers (``MATCHING == "int"``) as INTEGER (NULL when absent or not a number), and dates, times
and date-times with a sortable ``<column>_key`` beside them (see :mod:`gantry_sql.values`).

The tables themselves are created by the numbered steps in :mod:`gantry_sql.migrations`.
"""

from __future__ import annotations

import functools
import re

import attrs

from gantry.storage import INDEX_ATTRIBUTES, LEVELS, MATCHING

TABLES = {"patient": "patients", "study": "studies", "series": "series", "instance": "instances"}
#: Table alias of each level in queries.
ALIASES = {"patient": "p", "study": "st", "series": "se", "instance": "i"}
#: The column of a level's table that refers to its parent level's ``id``.
PARENT_REFS = {"study": "patient_ref", "series": "study_ref", "instance": "series_ref"}
RANGE_MATCHING = frozenset({"date", "time", "datetime"})


@functools.cache  # asked for every column of every indexed instance
def column_name(keyword: str) -> str:
    """``SOPInstanceUID`` -> ``sop_instance_uid``, ``OtherPatientIDs`` -> ``other_patient_ids``."""
    # A plural acronym is one word: "IDs" -> "Ids", else it would split as "I_Ds".
    words = re.sub(r"([A-Z]{2,})s(?=[A-Z]|$)", lambda m: m[1].capitalize() + "s", keyword)
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", words)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()


@attrs.frozen
class Column:
    """One DICOM attribute of the index."""

    keyword: str
    level: str
    matching: str
    """"text", "uid", "int", "date", "time" or "datetime" (see ``gantry.storage.MATCHING``)."""

    @property
    def name(self) -> str:
        return column_name(self.keyword)

    @property
    def key_name(self) -> str | None:
        """The sortable key column beside a date, time or date-time; None for the others."""
        return f"{self.name}_key" if self.matching in RANGE_MATCHING else None

    @property
    def alias(self) -> str:
        return ALIASES[self.level]


COLUMNS: dict[str, tuple[Column, ...]] = {
    level: tuple(Column(keyword, level, MATCHING.get(keyword, "text"))
                 for keyword in INDEX_ATTRIBUTES[level])
    for level in LEVELS
}
COLUMN_OF: dict[str, Column] = {column.keyword: column for level in LEVELS for column in COLUMNS[level]}


def quoted(name: str) -> str:
    """A column name quoted, because some (``rows``, ``columns``) are keywords somewhere."""
    return f'"{name}"'


def levels_up_to(level: str) -> tuple[str, ...]:
    """``study`` -> ``("patient", "study")``."""
    return LEVELS[:LEVELS.index(level) + 1]
