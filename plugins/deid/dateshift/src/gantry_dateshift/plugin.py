"""Entry module: descriptor, settings and their cross-checks (the action loads on first use)."""

from __future__ import annotations

from typing import Any

from gantry import DeidAction, Setting, hookimpl
from gantry_dateshift.settings import DEFAULTS, STRATEGIES, shift_settings

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_deid_actions() -> list[DeidAction]:
    return [
        DeidAction(
            name="dateshift-keyed",
            description="shift: move DA and DT values by one offset per patient (keyed HMAC of "
                        "the patient, or year-only, or relative to an epoch); TM kept",
            codes=("shift",),
            apply="gantry_dateshift.action:apply",
            priority=50,
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="strategy", type="str", default=DEFAULTS.strategy, choices=STRATEGIES,
                help="keyed: a per-patient offset from the site secret; year-only: keep the "
                     "year only; epoch: the patient's first study date moves to `epoch`"),
        Setting(name="min_days", type="int", default=DEFAULTS.min_days,
                help="keyed: the smallest shift into the past, in days (at least 1)"),
        Setting(name="max_days", type="int", default=DEFAULTS.max_days,
                help="keyed: the largest shift into the past, in days (at most 36525)"),
        Setting(name="epoch", type="str", default=DEFAULTS.epoch,
                help="epoch: the date (YYYYMMDD) a patient's study date moves to; also the "
                     "base of the dummy date written in place of a malformed value"),
    ]


@hookimpl
def gantry_configure(settings: dict[str, Any]) -> None:
    # Types and choices are checked by the kernel; ranges and the epoch's syntax here.
    shift_settings(settings)
