"""DICOM matching (PS3.4 C.2.2.2) of one attribute, as a SQL condition with its parameters.

* empty value, ``*`` (or ``-`` for a range attribute): universal match, no condition;
* ``*`` and ``?`` anywhere else: wildcard match, case-sensitive (the dialect's LIKE or GLOB);
* UIDs: ``a\\b\\c`` is a list, any of them matches;
* dates, times and date-times: ``a-b``, ``a-`` and ``-b`` are ranges (compared on the sortable
  key, so a malformed stored value never falls inside one); a single time or date-time names a
  period as long as its precision (``1030`` matches 10:30:00 to 10:30:59.999999);
* integers: the same number (``07`` matches 7);
* everything else: the same text.

Messages never quote a filter value: a filter on PatientBirthDate or PatientName is patient data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from gantry import StorageError
from gantry_sql.dialect import Dialect
from gantry_sql.values import date_key, integer_of, sortable_key, split_range


@attrs.frozen
class Condition:
    sql: str
    params: tuple[Any, ...] = ()


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def match_text(expression: str, value: str, dialect: Dialect) -> Condition | None:
    if value in ("", "*"):
        return None
    if has_wildcard(value):
        return Condition(dialect.wildcard_condition(expression), (dialect.wildcard_argument(value),))
    return Condition(f"{expression} = ?", (value,))


def match_uid(expression: str, value: str, dialect: Dialect) -> Condition | None:
    if "\\" not in value:
        return match_text(expression, value.strip(), dialect)
    uids = tuple(dict.fromkeys(uid.strip() for uid in value.split("\\") if uid.strip()))
    if not uids:
        return None
    return Condition(f"{expression} IN ({dialect.placeholders(len(uids))})", uids)


def match_integer(expression: str, value: str, keyword: str) -> Condition | None:
    if value.strip() in ("", "*"):
        return None
    number = integer_of(value)
    if number is None:
        raise StorageError(f"the filter on {keyword} must be a whole number")
    return Condition(f"{expression} = ?", (number,))


def match_dated(text_expression: str, key_expression: str, matching: str, value: str,
                dialect: Dialect, keyword: str) -> Condition | None:
    """A date, time or date-time: single value, wildcard or range."""
    value = value.strip()
    if value in ("", "*", "-"):
        return None
    if has_wildcard(value):
        return match_text(text_expression, value, dialect)
    bounds = split_range(matching, value)
    if bounds is not None:
        return _range(key_expression, matching, *bounds, keyword=keyword)
    if matching == "date":
        key = date_key(value)
        return Condition(f"{key_expression} = ?", (key,)) if key else Condition(f"{text_expression} = ?", (value,))
    if sortable_key(matching, value) is None:  # not a valid time: the same text, nothing more
        return Condition(f"{text_expression} = ?", (value,))
    return _range(key_expression, matching, value, value, keyword=keyword)


def _range(key_expression: str, matching: str, lower: str, upper: str, *, keyword: str) -> Condition:
    parts: list[str] = []
    params: list[str] = []
    for bound, operator, is_upper in ((lower, ">=", False), (upper, "<=", True)):
        if not bound.strip():
            continue
        key = sortable_key(matching, bound, upper=is_upper)
        if key is None:
            example = {"date": "YYYYMMDD", "time": "HHMMSS", "datetime": "YYYYMMDDHHMMSS"}[matching]
            raise StorageError(f"a range bound of the filter on {keyword} is not a valid {matching} "
                               f"(expected {example}, or a shorter prefix of it for times)")
        parts.append(f"{key_expression} {operator} ?")
        params.append(key)
    if not parts:  # "-": both ends open
        return Condition(f"{key_expression} IS NOT NULL")
    return Condition(" AND ".join(parts), tuple(params))


def any_of(conditions: Sequence[Condition | None]) -> Condition | None:
    """Conditions joined with OR; None (match everything) when any of them is universal."""
    if not conditions or any(condition is None for condition in conditions):
        return None
    present = [condition for condition in conditions if condition is not None]
    return Condition("(" + " OR ".join(f"({c.sql})" for c in present) + ")",
                     tuple(param for c in present for param in c.params))


def match(matching: str, value: str, dialect: Dialect, *, keyword: str, expression: str,
          key_expression: str | None = None) -> Condition | None:
    """The condition for one filter on an attribute matched as ``matching``."""
    if matching == "int":
        return match_integer(expression, value, keyword)
    if matching == "uid":
        return match_uid(expression, value, dialect)
    if matching in ("date", "time", "datetime"):
        assert key_expression is not None, f"{keyword} has no sortable key column"
        return match_dated(expression, key_expression, matching, value, dialect, keyword)
    return match_text(expression, value, dialect)
