"""The machine table: which images get which zones blanked.

    machines = parse_machines(settings.get("machines", []))
    machine = first_match(machines, dataset)      # None: no zone for this image

A machine is ``{match: {...}, zones: [[top, left, bottom, right], ...]}``. Text keys match the
dataset's value without regard to case, as the whole value or as a pattern where ``*`` stands for
any run of characters; Rows and Columns match exactly; every key given must match, and an
attribute the dataset lacks never matches. The first machine that matches wins, in the order
listed (as CTP's DicomPixelAnonymizer does, so an imported script keeps its meaning).

Zones are in pixels, ``bottom`` and ``right`` exclusive (numpy slices), and must lie inside the
image size when the machine names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from gantry import ConfigError

TEXT_KEYS = ("Manufacturer", "ManufacturerModelName", "DeviceSerialNumber", "Modality")
SIZE_KEYS = ("Rows", "Columns")
MATCH_KEYS = TEXT_KEYS + SIZE_KEYS


@attrs.frozen
class Zone:
    top: int
    left: int
    bottom: int
    right: int

    def as_list(self) -> list[int]:
        return [self.top, self.left, self.bottom, self.right]


@attrs.frozen
class Machine:
    index: int
    """Its position in the table (0-based), for messages that must not quote its values."""
    text: Mapping[str, re.Pattern[str]]
    sizes: Mapping[str, int]
    zones: tuple[Zone, ...]

    def matches(self, dataset: Any) -> bool:
        for keyword, size in self.sizes.items():
            if _int_or_none(dataset.get(keyword)) != size:
                return False
        for keyword, pattern in self.text.items():
            value = dataset.get(keyword)
            if value is None or not pattern.fullmatch(str(value).strip()):
                return False
        return True


def first_match(machines: Sequence[Machine], dataset: Any) -> Machine | None:
    return next((machine for machine in machines if machine.matches(dataset)), None)


def parse_machines(entries: Any) -> tuple[Machine, ...]:
    """The validated table; a ConfigError names the machine by index and the bad key or zone."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError("redact: 'machines' must be a list of {match: ..., zones: ...} tables")
    return tuple(_machine(index, entry) for index, entry in enumerate(entries))


def _machine(index: int, entry: Any) -> Machine:
    where = f"redact: machines[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table with 'match' and 'zones'")
    unknown = sorted(set(entry) - {"match", "zones"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; a machine has 'match' and 'zones'")
    match = entry.get("match")
    if not isinstance(match, Mapping) or not match:
        # An empty match would blank these zones on every image of every machine.
        raise ConfigError(f"{where}: 'match' must name at least one of {', '.join(MATCH_KEYS)}")
    text: dict[str, re.Pattern[str]] = {}
    sizes: dict[str, int] = {}
    for key, value in match.items():
        if key in SIZE_KEYS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}: match.{key} must be a positive whole number")
            sizes[key] = value
        elif key in TEXT_KEYS:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}: match.{key} must be non-empty text")
            text[key] = wildcard_pattern(value.strip())
        else:
            raise ConfigError(f"{where}: unknown match key {key!r}; the keys are {', '.join(MATCH_KEYS)}")
    zones = _zones(where, entry.get("zones"), sizes)
    return Machine(index=index, text=text, sizes=sizes, zones=zones)


def _zones(where: str, value: Any, sizes: Mapping[str, int]) -> tuple[Zone, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: 'zones' must be a non-empty list of [top, left, bottom, right]")
    zones = []
    for number, zone in enumerate(value):
        label = f"{where}: zones[{number}]"
        if (not isinstance(zone, (list, tuple)) or len(zone) != 4
                or any(isinstance(v, bool) or not isinstance(v, int) for v in zone)):
            raise ConfigError(f"{label} must be four whole numbers [top, left, bottom, right]")
        top, left, bottom, right = zone
        if top < 0 or left < 0:
            raise ConfigError(f"{label}: top and left must not be negative")
        if not top < bottom:
            raise ConfigError(f"{label}: top ({top}) must be less than bottom ({bottom})")
        if not left < right:
            raise ConfigError(f"{label}: left ({left}) must be less than right ({right})")
        if "Rows" in sizes and bottom > sizes["Rows"]:
            raise ConfigError(f"{label}: bottom ({bottom}) lies below the image's {sizes['Rows']} rows")
        if "Columns" in sizes and right > sizes["Columns"]:
            raise ConfigError(f"{label}: right ({right}) lies beyond the image's {sizes['Columns']} columns")
        zones.append(Zone(top, left, bottom, right))
    return tuple(zones)


def wildcard_pattern(text: str) -> re.Pattern[str]:
    """``*`` is any run of characters; everything else is literal; case is ignored."""
    return re.compile(".*".join(re.escape(part) for part in text.split("*")), re.IGNORECASE | re.DOTALL)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
