"""Index text turned into what the database compares: integers and sortable date/time keys.

The index keeps each attribute's text as it came (that is what queries return). Next to a date,
time or date-time it keeps a *sortable key* of fixed width, so that a range is a plain string
comparison: TM ``1030`` is stored with the key ``103000.000000``. A value that is not a valid
date or time gets no key (NULL): it is kept, returned and matched as text, but never falls
inside a range.

A range bound given with less precision than the key covers the whole period it names: the
upper bound ``11`` of a time range is ``115959.999999``, so ``1000-11`` includes 11:30.
"""

from __future__ import annotations

import re

_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64 = range(-(2**63), 2**63)

_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_LEGACY_DATE = re.compile(r"([0-9]{4})\.([0-9]{2})\.([0-9]{2})")  # ACR-NEMA "YYYY.MM.DD"
_TIME = re.compile(r"([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:\.([0-9]{1,6}))?)?)?")
_DATETIME = re.compile(
    r"([0-9]{4})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})(?:([0-9]{2})"
    r"(?:\.([0-9]{1,6}))?)?)?)?)?)?([+-][0-9]{4})?"
)

# Fill-ins for missing components: (lower end, upper end) of the period a partial value names.
_TIME_FILL = (("00", "00", "000000"), ("59", "59", "999999"))
_DATE_FILL = (("01", "01"), ("12", "31"))


def integer_of(text: str) -> int | None:
    """The value of an IS/US/... attribute as an integer, None when it is not one (or several,
    or too large for a 64-bit column)."""
    if text.isascii() and text.isdigit() and len(text) < 19:  # the usual case, without a regex
        return int(text)
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        return None
    number = int(stripped)
    return number if number in _INT64 else None


def date_key(text: str) -> str | None:
    """``YYYYMMDD`` for a valid date (the legacy ``YYYY.MM.DD`` form too), else None."""
    if len(text) == 8 and text.isascii() and text.isdigit():  # the usual case, without a regex
        return text if "01" <= text[4:6] <= "12" and "01" <= text[6:] <= "31" else None
    stripped = text.strip()
    match = _DATE.fullmatch(stripped) or _LEGACY_DATE.fullmatch(stripped)
    if match is None:
        return None
    year, month, day = match.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    return year + month + day


def time_key(text: str, *, upper: bool = False) -> str | None:
    """``HHMMSS.FFFFFF`` for a valid time (the legacy ``HH:MM:SS`` form too), else None; missing
    components are filled with the lowest values, or with the highest when ``upper``."""
    match = _TIME.fullmatch(text.strip().replace(":", ""))
    if match is None:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(hours) > 23 or (minutes and int(minutes) > 59) or (seconds and int(seconds) > 60):
        return None
    fill_minutes, fill_seconds, fill_fraction = _TIME_FILL[upper]
    fraction = (fraction or "").ljust(6, fill_fraction[0])
    return f"{hours}{minutes or fill_minutes}{seconds or fill_seconds}.{fraction}"


def datetime_key(text: str, *, upper: bool = False) -> str | None:
    """``YYYYMMDDHHMMSS.FFFFFF`` for a valid date-time, else None. The UTC offset, when present,
    is checked and then ignored: values compare in the local time they were written in."""
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hours, minutes, seconds, fraction, offset = match.groups()
    if offset and (int(offset[1:3]) > 14 or int(offset[3:]) > 59):
        return None
    if (month and not 1 <= int(month) <= 12) or (day and not 1 <= int(day) <= 31):
        return None
    fill_month, fill_day = _DATE_FILL[upper]
    time = time_key(f"{hours or ''}{minutes or ''}{seconds or ''}"
                    + (f".{fraction}" if fraction else ""), upper=upper) if hours else None
    if hours and time is None:
        return None
    if time is None:
        time = "235959.999999" if upper else "000000.000000"
    return f"{year}{month or fill_month}{day or fill_day}{time}"


def sortable_key(matching: str, text: str, *, upper: bool = False) -> str | None:
    """The key for a value of an attribute matched as ``matching`` ("date", "time", "datetime")."""
    if matching == "date":
        return date_key(text)
    if matching == "time":
        return time_key(text, upper=upper)
    if matching == "datetime":
        return datetime_key(text, upper=upper)
    raise ValueError(f"no sortable key for {matching!r} attributes")


def split_range(matching: str, text: str) -> tuple[str, str] | None:
    """``(lower, upper)`` when ``text`` is a range ``a-b``, ``a-`` or ``-b``, else None.

    A date-time may itself hold a ``-`` (a UTC offset), so for those the hyphen chosen is the
    one with a valid (or empty) date-time on both sides; a value that is a date-time on its own
    is a single value.
    """
    if "-" not in text:
        return None
    if matching != "datetime":
        lower, _, upper = text.partition("-")
        return lower, upper
    if datetime_key(text) is not None:
        return None
    for position, char in enumerate(text):
        if char != "-":
            continue
        lower, upper = text[:position], text[position + 1:]
        if all(part == "" or datetime_key(part) is not None for part in (lower, upper)):
            return lower, upper
    return text.partition("-")[0], text.partition("-")[2]
