"""Entry module: descriptors and settings only (the action module loads on first use)."""

from __future__ import annotations

from gantry import DeidAction, Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_deid_actions() -> list[DeidAction]:
    return [
        DeidAction(
            name="uidmap-hmac",
            description="U: replace each UID with 2.25.<128 bits of HMAC-SHA256(site secret, "
                        "namespace + UID)>; well-known UIDs kept; earlier mappings in the "
                        "storage backend win",
            codes=("U",),
            apply="gantry_uidmap.action:apply",
            priority=50,
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="namespace", type="str", default="",
                help="mixed into every UID's HMAC and the backend's UID map, so projects sharing "
                     "one site secret get unrelated UIDs (empty: one namespace for the site)"),
    ]
