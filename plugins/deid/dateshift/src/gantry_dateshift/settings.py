"""The ``[dateshift]`` section as one checked object."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from gantry import ConfigError

SECTION = "dateshift"
STRATEGIES = ("keyed", "year-only", "epoch")
# A century either way keeps every shifted date of a living patient inside years 1..9999.
LONGEST_SHIFT_DAYS = 36525


@attrs.frozen(kw_only=True)
class ShiftSettings:
    strategy: str = "keyed"
    min_days: int = 30
    max_days: int = 3650
    # 2000-01-01 rather than 1900-01-01: birth dates shifted back from the epoch stay in the
    # 1900s, where every viewer and database copes with them.
    epoch: str = "20000101"

    @property
    def epoch_date(self) -> date:
        return date(int(self.epoch[:4]), int(self.epoch[4:6]), int(self.epoch[6:8]))


DEFAULTS = ShiftSettings()


def shift_settings(section: Mapping[str, Any]) -> ShiftSettings:
    """Check a ``[dateshift]`` section (defaults for what is missing); ConfigError names the key."""
    values = {field.name: section.get(field.name, field.default)
              for field in attrs.fields(ShiftSettings)}
    settings = ShiftSettings(**values)
    if settings.strategy not in STRATEGIES:
        raise ConfigError(f"dateshift.strategy = {settings.strategy!r} is not allowed; "
                          f"choose one of {', '.join(STRATEGIES)}")
    if not 1 <= settings.min_days <= settings.max_days <= LONGEST_SHIFT_DAYS:
        raise ConfigError(
            f"dateshift.min_days = {settings.min_days} and dateshift.max_days = {settings.max_days} "
            f"must satisfy 1 <= min_days <= max_days <= {LONGEST_SHIFT_DAYS} (a shift of 0 days "
            f"would leave real dates in the output)")
    try:
        if len(settings.epoch) != 8 or not settings.epoch.isdigit():
            raise ValueError
        settings.epoch_date  # noqa: B018 - parsing is the check
    except ValueError:
        raise ConfigError(f"dateshift.epoch = {settings.epoch!r} must be a date written YYYYMMDD") from None
    return settings
