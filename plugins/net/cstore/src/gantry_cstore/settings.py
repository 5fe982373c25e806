"""The ``[cstore]`` configuration section (the receiving side; sending needs no settings).

    [storage]
    database = "sqlite:///gantry.db"   # where received instances are indexed (gantry listen --db)
    store = "/srv/gantry/store"        # where their files go (gantry listen --store);
                                       # empty: a folder "gantry-store" in the working directory

    [cstore]
    extra_sop_classes = ["1.2.246.352.70.1.70"]   # private SOP classes to accept, by UID
    transfer_syntaxes = []         # accepted syntaxes; empty: native ones plus every one a codec decodes
    overwrite = false              # a different instance under a stored SOP Instance UID replaces it
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import Setting



def declared_settings() -> list[Setting]:
    return [
        Setting(name="extra_sop_classes", type="list", default=[],
                help="SOP Class UIDs accepted besides the standard storage classes (private ones)"),
        Setting(name="transfer_syntaxes", type="list", default=[],
                help="transfer syntax UIDs accepted when receiving (default: the native ones and "
                     "every syntax an installed codec decodes)"),
        Setting(name="overwrite", type="bool", default=False,
                help="replace a stored instance when different bytes arrive under its SOP Instance UID "
                     "(otherwise that C-STORE fails)"),
    ]


@attrs.frozen(kw_only=True)
class StoreSettings:
    extra_sop_classes: tuple[str, ...] = ()
    transfer_syntaxes: tuple[str, ...] = ()
    overwrite: bool = False

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> StoreSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(extra_sop_classes=tuple(str(uid).strip() for uid in values["extra_sop_classes"]),
                   transfer_syntaxes=tuple(str(uid).strip() for uid in values["transfer_syntaxes"]),
                   overwrite=bool(values["overwrite"]))
