"""DA, DT and TM text: parsing, shifting by whole days, reducing to the year.

Only the forms PS3.5 Table 6.2-1 allows in stored instances are accepted: DA ``YYYYMMDD``;
DT ``YYYY[MM[DD[HH[MM[SS[.F{1-6}]]]]]][&ZZXX]``; TM ``HH[MM[SS[.F{1-6}]]]``. Anything else
(query ranges, the retired ``YYYY.MM.DD`` and ``HH:MM:SS`` forms, free text) raises
:class:`MalformedValue`: the caller decides what replaces it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# Padding DICOM adds to reach an even length; not part of the value.
PADDING = "\x00 "

_DA = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$")
_DT = re.compile(r"""^(?P<year>\d{4})
    (?:(?P<month>\d{2})
       (?:(?P<day>\d{2})
          (?P<time>(?P<hour>\d{2})(?:(?P<minute>\d{2})(?:(?P<second>\d{2})(?:\.\d{1,6})?)?)?)?
       )?
    )?
    (?P<offset>[+-](?P<offset_hours>\d{2})(?P<offset_minutes>\d{2}))?$""", re.VERBOSE)
_TM = re.compile(r"^(?P<hour>\d{2})(?:(?P<minute>\d{2})(?:(?P<second>\d{2})(?:\.\d{1,6})?)?)?$")

# A DT known only to the year or month stands for a whole period; it is shifted from (about) the
# period's middle, 1 July or the 15th, so that the shifted period is off by the least on average.
MIDDLE_OF_YEAR = (7, 1)
MIDDLE_OF_MONTH = 15


class MalformedValue(ValueError):
    """A DA, DT or TM value that is not in a form the standard allows (or leaves years 1..9999)."""


def shift_value(vr: str, text: str, days: int) -> str:
    """``text`` (one value of VR ``vr``) moved by ``days`` (negative: into the past).

    DA: calendar arithmetic (month ends, leap years). DT: the date part moves; time, fraction and
    UTC offset are kept as written; a DT known to the year or month only keeps that precision.
    TM: returned as is, since a whole-day shift leaves the time of day unchanged. Empty stays
    empty. Raises :class:`MalformedValue` for a value that is not valid for its VR.
    """
    text = text.strip(PADDING)
    if not text:
        return text
    if vr == "DA":
        return format_da(_moved(_parse_da(text), days))
    if vr == "DT":
        match = _match_dt(text)
        written = _date_part(match)  # YYYY, YYYYMM or YYYYMMDD: the precision to keep
        return format_da(_moved(_date_of_dt(match), days))[:len(written)] + text[len(written):]
    if vr == "TM":
        _check_tm(text)
        return text
    raise ValueError(f"shift_value handles DA, DT and TM, not {vr!r}")


def year_only_value(vr: str, text: str) -> str:
    """``text`` reduced to its year: DA and DT become ``YYYY0101`` (time and offset dropped),
    TM becomes ``000000``. Empty stays empty; a malformed DA or DT raises MalformedValue."""
    text = text.strip(PADDING)
    if not text:
        return text
    if vr == "TM":
        return "000000"
    if vr == "DA":
        return f"{_parse_da(text).year:04d}0101"
    if vr == "DT":
        return f"{_match_dt(text)['year']}0101"
    raise ValueError(f"year_only_value handles DA, DT and TM, not {vr!r}")


def date_of(vr: str, text: str) -> date:
    """The calendar date a DA or DT value stands for (a partial DT: its period's middle)."""
    text = text.strip(PADDING)
    if vr == "DA":
        return _parse_da(text)
    if vr == "DT":
        return _date_of_dt(_match_dt(text))
    raise MalformedValue(f"a {vr} value has no date")


def format_da(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _parse_da(text: str) -> date:
    match = _DA.match(text)
    if not match:
        raise MalformedValue("a DA value must be YYYYMMDD")
    return _calendar_date(int(match["year"]), int(match["month"]), int(match["day"]))


def _match_dt(text: str) -> re.Match[str]:
    match = _DT.match(text)
    if not match:
        raise MalformedValue("a DT value must be YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]")
    if match["time"]:
        _check_clock(match["hour"], match["minute"], match["second"])
    if match["offset"] and (int(match["offset_hours"]) > 14 or int(match["offset_minutes"]) > 59):
        raise MalformedValue("a DT value has an impossible UTC offset")
    _date_of_dt(match)  # the date part must exist in the calendar
    return match


def _date_part(match: re.Match[str]) -> str:
    return match["year"] + (match["month"] or "") + (match["day"] or "")


def _date_of_dt(match: re.Match[str]) -> date:
    year = int(match["year"])
    if not match["month"]:
        return _calendar_date(year, *MIDDLE_OF_YEAR)
    return _calendar_date(year, int(match["month"]), int(match["day"] or MIDDLE_OF_MONTH))


def _check_tm(text: str) -> None:
    match = _TM.match(text)
    if not match:
        raise MalformedValue("a TM value must be HH[MM[SS[.F]]]")
    _check_clock(match["hour"], match["minute"], match["second"])


def _check_clock(hour: str, minute: str | None, second: str | None) -> None:
    # 60 seconds is allowed: PS3.5 keeps room for a leap second.
    if int(hour) > 23 or int(minute or 0) > 59 or int(second or 0) > 60:
        raise MalformedValue("a time of day is out of range")


def _calendar_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise MalformedValue("a date that does not exist in the calendar") from None


def _moved(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise MalformedValue("the shifted date would leave years 1..9999") from None
