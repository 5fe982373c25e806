"""How many days a patient's dates move (negative: into the past)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

KEYED_LABEL = "dateshift:"


def keyed_shift_days(secret: bytes, patient_key: str, min_days: int, max_days: int) -> int:
    """The patient's shift, from ``-max_days`` to ``-min_days``, fixed by the site secret.

    The same secret and patient give the same shift on every machine and in every run, so a
    patient's files shifted apart still line up; without the secret the shift cannot be
    recomputed. The shift always goes into the past: a shifted date never lies after the real
    one, so no shifted study seems to have happened in the future. The label keeps these HMACs
    apart from any other use of the same secret.
    """
    digest = hmac.new(secret, (KEYED_LABEL + patient_key).encode("utf-8"), hashlib.sha256).digest()
    span = max_days - min_days + 1
    # 64 bits reduced modulo a span of at most ~36,500 days: the bias (< span / 2**64) is negligible.
    return -(min_days + int.from_bytes(digest[:8], "big") % span)


def epoch_shift_days(epoch: date, anchor: date) -> int:
    """The shift that moves ``anchor`` (the patient's study date) onto ``epoch``."""
    return (epoch - anchor).days
