"""The ``shift`` action: every DA and DT value of an element moved by the patient's shift.

The runner calls it for dates and times the profile says to clean (``C`` on DA, DT, TM) or
shift. One shift per patient is what keeps the data useful: the intervals between a patient's
studies, birth and treatment survive, while the calendar dates do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from gantry import DeidError
from gantry.deid import DATE_VRS, DeidContext
from gantry_dateshift.offsets import epoch_shift_days, keyed_shift_days
from gantry_dateshift.settings import SECTION, ShiftSettings, shift_settings
from gantry_dateshift.temporal import MalformedValue, date_of, shift_value, year_only_value

DUMMY_TIME = "000000"


def apply(dataset: Any, element: Any, context: DeidContext) -> None:
    """Shift (or reduce to the year) each value of ``element`` in place.

    A malformed value is replaced by a valid dummy (the epoch, shifted like every other date of
    the patient; midnight for TM) and a note says so, without the value.
    """
    where = _describe(element)
    vr = getattr(element, "VR", None)
    if element is None or vr not in DATE_VRS:
        raise DeidError(f"the shift action moves dates and times ({', '.join(DATE_VRS)}), "
                        f"but {where} has VR {vr!r}")
    values = _text_values(element.value)
    if not any(values):
        return  # empty stays empty
    settings = shift_settings(context.settings.get(SECTION, {}))
    replace, dummy = _rule(settings, vr, values, dataset, context, where)
    new_values = []
    for text in values:
        try:
            new_values.append(replace(text))
        except MalformedValue:
            new_values.append(dummy)
            context.notes.append(f"{where}: a malformed {vr} value was replaced by a dummy value")
    element.value = new_values[0] if _is_single(element.value) else new_values


def _rule(settings: ShiftSettings, vr: str, values: list[str], dataset: Any, context: DeidContext,
          where: str) -> tuple[Callable[[str], str], str]:
    """What replaces a value, and the dummy that replaces a malformed one."""
    if vr == "TM" and settings.strategy == "year-only":
        return (lambda text: year_only_value(vr, text)), DUMMY_TIME
    if vr == "TM":
        # Whole days leave the time of day as it is: the value is only checked.
        return (lambda text: shift_value(vr, text, 0)), DUMMY_TIME
    if settings.strategy == "year-only":
        return (lambda text: year_only_value(vr, text)), settings.epoch[:4] + "0101"
    days = _shift_in_force(settings, vr, values, dataset, context, where)
    if days is None:
        # Epoch strategy with nothing to anchor on: every value here is malformed anyway.
        return (lambda text: shift_value(vr, text, 0)), settings.epoch
    return (lambda text: shift_value(vr, text, days)), _shifted_epoch(settings, days)


def _shift_in_force(settings: ShiftSettings, vr: str, values: list[str], dataset: Any,
                    context: DeidContext, where: str) -> int | None:
    if context.date_shift_days is not None:
        return context.date_shift_days  # an earlier element of this instance fixed it
    days = None
    if context.backend is not None:
        # An earlier run's shift for this patient wins (first one wins), whatever the strategy.
        days = context.backend.date_shift_get(context.patient_key)
    if days is None and settings.strategy == "keyed":
        if not context.secret:
            raise DeidError(f"the keyed date shift needs the site secret to shift {where}; none was given")
        secret = context.secret.encode("utf-8") if isinstance(context.secret, str) else context.secret
        days = keyed_shift_days(secret, context.patient_key, settings.min_days, settings.max_days)
    if days is None and settings.strategy == "epoch":
        anchor = _epoch_anchor(vr, values, dataset, context, where)
        days = None if anchor is None else epoch_shift_days(settings.epoch_date, anchor)
    context.date_shift_days = days
    return days


def _epoch_anchor(vr: str, values: list[str], dataset: Any, context: DeidContext,
                  where: str) -> date | None:
    """The instance's Study Date; failing that, the first valid date of this element."""
    study_date = dataset.get("StudyDate") if hasattr(dataset, "get") else None
    try:
        return date_of("DA", str(study_date or ""))
    except MalformedValue:
        pass
    for text in values:
        try:
            anchor = date_of(vr, text)
        except MalformedValue:
            continue
        context.notes.append(f"epoch date shift: no valid StudyDate, anchored on {where}")
        return anchor
    return None


def _shifted_epoch(settings: ShiftSettings, days: int) -> str:
    try:
        return shift_value("DA", settings.epoch, days)
    except MalformedValue:
        return settings.epoch  # a shift from elsewhere (an imported one) too large for the epoch


def _text_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [str(value)]  # pydicom's DA/DT/TM objects print as the text they were read from
    return [str(item) for item in value]


def _is_single(value: Any) -> bool:
    return isinstance(value, str) or not isinstance(value, Iterable)


def _describe(element: Any) -> str:
    if element is None:
        return "no element (an instance step)"
    keyword = getattr(element, "keyword", "") or "private or unknown attribute"
    return f"{element.tag} {keyword}"

