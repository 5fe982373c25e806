"""TEST DOUBLES, not the real providers: tiny stand-ins for the ``U`` and ``shift`` actions
(gantry-uidmap and gantry-dateshift provide the real ones), so gantry-deid's tests depend on
nothing but gantry-deid. ``conftest.py`` loads this module as ``gantry_deid_test_doubles``.

- U: every UID becomes ``2.25.<first 16 bytes of SHA-256(secret + UID) as an integer>``,
  recorded in ``context.uid_pairs``;
- shift: DA and the date part of DT move back by :data:`SHIFT_DAYS`; TM is left as it is.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from gantry import DeidAction, hookimpl

GANTRY_API_VERSION = "1.0"
MODULE = "gantry_deid_test_doubles"
SHIFT_DAYS = -1000


def replace_uid(dataset: Any, element: Any, context: Any) -> None:
    values = element.value if isinstance(element.value, list) or hasattr(element.value, "append") else [element.value]
    replaced = []
    for uid in values:
        uid = str(uid)
        if uid not in context.uid_pairs:
            digest = hashlib.sha256(context.secret + uid.encode()).digest()[:16]
            context.uid_pairs[uid] = f"2.25.{int.from_bytes(digest, 'big')}"
        replaced.append(context.uid_pairs[uid])
    element.value = replaced if len(replaced) != 1 else replaced[0]


def shift_date(dataset: Any, element: Any, context: Any) -> None:
    context.date_shift_days = SHIFT_DAYS
    if element.VR not in ("DA", "DT") or not element.value:
        return
    text = str(element.value)
    day = datetime.datetime.strptime(text[:8], "%Y%m%d").date() + datetime.timedelta(days=SHIFT_DAYS)
    element.value = day.strftime("%Y%m%d") + text[8:]


class StandIns:
    """A plugin object offering U and shift (register it with ``kernel_with``)."""

    @hookimpl
    def gantry_deid_actions(self) -> list[DeidAction]:
        return [
            DeidAction(name="test-double-u", codes=("U",), apply=f"{MODULE}:replace_uid",
                       description="TEST DOUBLE for gantry-uidmap"),
            DeidAction(name="test-double-shift", codes=("shift",), apply=f"{MODULE}:shift_date",
                       description="TEST DOUBLE for gantry-dateshift"),
        ]
